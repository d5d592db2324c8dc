"""What goes into the function archives and the layer (`components/lambda_code.py`)."""

from __future__ import annotations

import zipfile

import pulumi
import pytest

from components import lambda_code


def test_function_archives_hold_only_the_package_and_are_byte_identical(tmp_path):
    members = lambda_code.function_members("health_checker")
    assert members
    assert all(name.startswith("health_checker/") for name in members)
    assert "health_checker/handler.py" in members
    assert not [n for n in members if "__pycache__" in n or n.endswith(".pyc")]
    first = lambda_code.write_deterministic_zip(members, tmp_path / "a.zip")
    second = lambda_code.write_deterministic_zip(members, tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {i.date_time for i in archive.infolist()} == {lambda_code.FIXED_ZIP_TIME}


def test_layer_members_put_dependencies_and_drcommon_under_python(tmp_path):
    site = tmp_path / "site"
    (site / "pg8000").mkdir(parents=True)
    (site / "pg8000" / "__init__.py").write_text("")
    (site / "bin").mkdir()
    (site / "bin" / "tool").write_text("")
    members = lambda_code.layer_members(site)
    assert "python/pg8000/__init__.py" in members
    assert "python/drcommon/contract.py" in members
    assert not [m for m in members if m.startswith("python/bin/")]


def test_layer_is_built_for_arm64_python312_from_wheels_only(tmp_path):
    command = lambda_code.pip_install_command("python", tmp_path / "r.txt", tmp_path / "t")
    assert "--only-binary=:all:" in command
    assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.12"


def test_a_missing_layer_stops_a_real_deployment_with_the_fix(tmp_path, monkeypatch):
    # GIVEN a real deployment (not the mocks) of a checkout without a built layer archive
    monkeypatch.setattr(lambda_code, "_under_mocks", lambda: False)
    monkeypatch.setattr(lambda_code, "PROJECT_DIR", tmp_path)
    archive = tmp_path / "build" / "lambda-layer.zip"
    # THEN it stops, naming the missing archive and the command that builds it
    with pytest.raises(pulumi.RunError, match="make layer") as error:
        lambda_code.layer_archive(archive)
    assert "the Lambda layer archive build/lambda-layer.zip does not exist" in str(error.value)
    # AND once the archive is built, the same call hands it to Pulumi
    archive.parent.mkdir()
    archive.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    assert lambda_code.layer_archive(archive).path == str(archive)
