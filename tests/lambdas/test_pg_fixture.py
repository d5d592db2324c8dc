"""The SQL tests' server: found only where the setup put it, and only of the deployed major."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pg
import pytest

from stack.config import DEFAULT_ENGINE_VERSION


def _fake_bin_dir(root: Path) -> Path:
    bin_dir = root / "native" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in pg.TOOLS:
        (bin_dir / tool).write_text("#!/bin/sh\n")
        os.chmod(bin_dir / tool, 0o700)
    return bin_dir


def test_the_engine_major_is_read_from_the_stacks_default_engine_version():
    assert pg.engine_major() == int(DEFAULT_ENGINE_VERSION.split(".")[0]) == 16


def test_without_pg_bin_dir_only_the_pinned_package_is_used(monkeypatch, tmp_path):
    # GIVEN no PG_BIN_DIR and no installed npm package (a machine's own server does not count)
    monkeypatch.delenv("PG_BIN_DIR", raising=False)
    monkeypatch.setattr(pg, "NPM_SERVER_DIRS", tmp_path / "empty")
    # THEN no server is found, and the message says how to get one
    with pytest.raises(pg.PostgresUnavailable, match=r"run scripts/ensure-postgres.sh"):
        pg.find_bin_dir()
    # AND once the package is there, its bin directory is the one
    installed = _fake_bin_dir(tmp_path / "empty" / "linux-x64")
    assert pg.find_bin_dir() == str(installed)


def test_pg_bin_dir_overrides_the_package(monkeypatch, tmp_path):
    _fake_bin_dir(tmp_path / "pkg" / "linux-x64")
    monkeypatch.setattr(pg, "NPM_SERVER_DIRS", tmp_path / "pkg")
    own = _fake_bin_dir(tmp_path / "own")
    monkeypatch.setenv("PG_BIN_DIR", str(own))
    assert pg.find_bin_dir() == str(own)
    # AND a PG_BIN_DIR without the server binaries is an error, not a fallback
    monkeypatch.setenv("PG_BIN_DIR", str(tmp_path))
    with pytest.raises(pg.PostgresUnavailable, match=r"not found in PG_BIN_DIR="):
        pg.find_bin_dir()


class _VersionOnly:
    """A superuser session that answers `SHOW server_version_num` only."""

    def __init__(self, version_num: str) -> None:
        self.version_num = version_num

    def run(self, sql: str):
        assert sql == "SHOW server_version_num"
        return [[self.version_num]]

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("version_num", "refused"), [("160014", False), ("150018", True)])
def test_a_server_of_another_major_is_refused(version_num, refused):
    server = SimpleNamespace(superuser_connect=lambda: _VersionOnly(version_num))
    if not refused:
        pg._check_major(server)
        return
    with pytest.raises(pg.WrongPostgresMajor, match=r"PostgreSQL 15 but the stack deploys"):
        pg._check_major(server)


def test_servers_keep_their_data_in_memory_only_when_there_is_room(monkeypatch, tmp_path):
    # GIVEN a memory file system with room: the servers' data goes there
    monkeypatch.setattr(pg, "SCRATCH_IN_MEMORY", str(tmp_path))
    monkeypatch.setattr(pg, "SCRATCH_MIN_FREE_BYTES", 1)
    assert pg.scratch_dir() == str(tmp_path)
    # WHEN it has less room than a run needs (a container's 64 MB /dev/shm) or is not there
    # THEN the temporary directory is used
    monkeypatch.setattr(pg, "SCRATCH_MIN_FREE_BYTES", 2**62)
    assert pg.scratch_dir() == tempfile.gettempdir()
    monkeypatch.setattr(pg, "SCRATCH_IN_MEMORY", str(tmp_path / "absent"))
    monkeypatch.setattr(pg, "SCRATCH_MIN_FREE_BYTES", 1)
    assert pg.scratch_dir() == tempfile.gettempdir()


def test_each_server_starts_from_its_own_copy_of_one_initdb_output(postgres_server):
    # GIVEN the session's server, started from the machine's initdb template
    data_dir = Path(postgres_server.socket_dir).parent / "data"
    templates = list(Path(pg.scratch_dir()).glob(f"aurora-dr-pg-initdb-{os.geteuid()}-*/data"))
    assert templates
    # THEN its data directory is a copy beside the server's other files, not the template itself
    assert (data_dir / "PG_VERSION").read_text() == "16\n"
    assert data_dir.resolve() not in {path.resolve() for path in templates}
    # AND the template was never started: it holds no server's lock file
    assert not any((path / "postmaster.pid").exists() for path in templates)
