"""Deterministic Lambda archives: which files go into a function's zip and into the layer.

A function archive holds its package folder (`<function>/...`, handler
`<function>.handler.lambda_handler`); the shared `drcommon` package and the pinned runtime
dependencies ship in one layer built by `scripts/build_layer.py` (`make layer`). Byte caches and
editor debris never enter an archive, so the same source always gives the same archive hash.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pulumi
import pulumi.runtime.mocks
import pulumi.runtime.settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = PROJECT_DIR / "lambdas"
LAYER_ARCHIVE = PROJECT_DIR / "build" / "lambda-layer.zip"
SHARED_PACKAGE = "drcommon"
# ZIP timestamps cannot be earlier than 1980; a fixed one makes archives byte-identical.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_EXCLUDED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo", ".swp"}


def archive_members(root: Path, prefix: str = "") -> dict[str, Path]:
    """`{archive path: file}` for every file under `root`, sorted, byte caches excluded."""
    members: dict[str, Path] = {}
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _EXCLUDED_DIRS)
        for file_name in sorted(files):
            path = Path(directory) / file_name
            if path.suffix in _EXCLUDED_SUFFIXES or file_name.startswith("."):
                continue
            relative = path.relative_to(root).as_posix()
            members[f"{prefix}{relative}"] = path
    return dict(sorted(members.items()))


def function_members(function: str, lambdas_dir: Path = LAMBDAS_DIR) -> dict[str, Path]:
    """Files of one function's archive, under `<function>/`."""
    folder = lambdas_dir / function
    if not (folder / "handler.py").is_file():
        raise FileNotFoundError(f"no Lambda function package at {folder} (handler.py missing)")
    return archive_members(folder, prefix=f"{function}/")


def write_deterministic_zip(members: dict[str, Path], destination: Path) -> Path:
    """Write `members` into a zip whose bytes depend only on the paths and file contents."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(members.items()):
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return destination


def layer_members(site_packages: Path, lambdas_dir: Path = LAMBDAS_DIR) -> dict[str, Path]:
    """Files of the layer: installed dependencies and `drcommon`, all under `python/`."""
    members = archive_members(site_packages, prefix="python/")
    members = {k: v for k, v in members.items() if not k.startswith("python/bin/")}
    members.update(
        archive_members(lambdas_dir / SHARED_PACKAGE, prefix=f"python/{SHARED_PACKAGE}/")
    )
    return dict(sorted(members.items()))


def pip_install_command(
    python: str, requirements: Path, target: Path, python_version: str = "3.12"
) -> list[str]:
    """pip invocation that fetches only pure-Python or manylinux aarch64 wheels for the Lambda
    runtime (never builds from source), so the layer runs on arm64 whatever machine builds it."""
    return [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--platform",
        "manylinux2014_aarch64",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]


def missing_layer_message(path: Path = LAYER_ARCHIVE) -> str:
    """What to do when the layer archive has not been built."""
    return (
        f"the Lambda layer archive {path.relative_to(PROJECT_DIR)} does not exist: run "
        "`make layer` (downloads the pinned wheels and the RDS CA bundle) before `pulumi "
        "preview` or `pulumi up`"
    )


def sorted_unique(items: Iterable[str]) -> list[str]:
    """Sorted list without duplicates (stable policy and archive listings)."""
    return sorted(set(items))


def function_archive(function: str) -> pulumi.AssetArchive:
    """The function's archive: its package folder, file by file, so nothing else slips in."""
    return pulumi.AssetArchive(
        {name: pulumi.FileAsset(str(path)) for name, path in function_members(function).items()}
    )


def _under_mocks() -> bool:
    # The offline plan and the tests run the program under Pulumi's mock monitor, which never
    # reads archives; a real preview/up hashes them, so the file must exist there.
    return isinstance(pulumi.runtime.settings.get_monitor(), pulumi.runtime.mocks.MockMonitor)


def layer_archive(path: Path = LAYER_ARCHIVE) -> pulumi.FileArchive:
    """The layer archive built by `make layer`; a clear error when it is missing."""
    if not path.is_file() and not _under_mocks():
        raise pulumi.RunError(missing_layer_message(path))
    return pulumi.FileArchive(str(path))
