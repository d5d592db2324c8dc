"""House rules a newcomer can rely on, checked on the source itself (`ast`; nothing is imported).

- the root holds the Pulumi program's `__main__.py` and no other Python module;
- `__main__.py` wires and exports only, in at most 80 lines;
- no function is longer than 60 lines, except the data tables named in DATA_TABLES;
- `decisions/` is pure: none of its modules imports Pulumi, directly or through the project
  modules it imports;
- nothing in the project points at documents outside the repository.

Every top-level directory is checked (NOT_CHECKED names any exception, with its reason).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from drplan.harness import PROJECT_DIR

MAX_MAIN_LINES = 80
MAX_FUNCTION_LINES = 60
# Trees (relative to the project root) the length and pointer checks read; "." is the files at
# the root itself. Every top-level directory is either here or in NOT_CHECKED.
CHECKED_TREES = (".", ".ci", ".github", "components", "decisions", "docs", "drctl", "drplan")
CHECKED_TREES += ("scripts",)
CHECKED_TREES += ("lambdas", "policy", "stack", "tests")
NOT_CHECKED: dict[str, str] = {}
# Not project files: version control, tool caches, the virtualenv, build output.
IGNORED = {".git", "venv", ".venv", "build", "mutants", "__pycache__", ".pytest_cache"}
IGNORED |= {".ruff_cache", ".mypy_cache", ".hypothesis", "node_modules"}
# Functions over MAX_FUNCTION_LINES that are data tables: "<file>::<qualified name>" -> why.
DATA_TABLES: dict[str, str] = {}
# A pointer at a document outside the repository: the notes the project was designed from, and
# the machine's work tree. Spelled so that this file's own source does not match it.
OUTSIDE_POINTER = re.compile(r"\bNOTES\b|\bDESIGN(\.md| §)|/" + "work/")
THIS_FILE = Path(__file__).resolve()


def files_under(tree: str) -> Iterator[Path]:
    """Every file of a checked tree (for ".", only the files at the root), without IGNORED
    entries and the trees in NOT_CHECKED."""
    root = PROJECT_DIR / tree
    candidates = root.iterdir() if tree == "." else root.rglob("*")
    for path in sorted(candidates):
        relative = path.relative_to(PROJECT_DIR)
        if not path.is_file() or IGNORED & set(relative.parts):
            continue
        if any(relative.is_relative_to(excluded) for excluded in NOT_CHECKED):
            continue
        yield path


def python_files(tree: str) -> list[Path]:
    """The Python files of a checked tree."""
    return [p for p in files_under(tree) if p.suffix == ".py"]


def test_every_top_level_directory_is_checked_or_excluded_with_a_reason():
    top_level = {p.name for p in PROJECT_DIR.iterdir() if p.is_dir() and p.name not in IGNORED}
    declared = set(CHECKED_TREES) | {tree.split("/")[0] for tree in NOT_CHECKED}
    assert top_level <= declared, f"unchecked top-level directories: {top_level - declared}"


def test_the_root_holds_no_python_module_but_the_program():
    assert sorted(p.name for p in PROJECT_DIR.glob("*.py")) == ["__main__.py"]


def test_main_wires_in_at_most_80_lines():
    lines = (PROJECT_DIR / "__main__.py").read_text().splitlines()
    assert len(lines) <= MAX_MAIN_LINES, f"__main__.py has {len(lines)} lines"


def long_functions(path: Path, root: Path = PROJECT_DIR) -> dict[str, int]:
    """`<file>::<qualified name>` -> length in lines, of the functions in `path` over the limit
    (a function's lines run from its `def` to its last line)."""
    found: dict[str, int] = {}
    relative = path.relative_to(root).as_posix()

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, prefix)
                continue
            name = f"{prefix}{child.name}"
            length = (child.end_lineno or child.lineno) - child.lineno + 1
            if not isinstance(child, ast.ClassDef) and length > MAX_FUNCTION_LINES:
                found[f"{relative}::{name}"] = length
            visit(child, f"{name}.")

    visit(ast.parse(path.read_text(), filename=str(path)), "")
    return found


@pytest.mark.parametrize("tree", CHECKED_TREES)
def test_no_function_is_longer_than_60_lines(tree: str):
    too_long: dict[str, int] = {}
    for path in python_files(tree):
        too_long.update(long_functions(path))
    unexplained = {name: n for name, n in too_long.items() if name not in DATA_TABLES}
    assert unexplained == {}, "split these into named steps that read top-down"


def test_the_length_check_counts_from_def_to_the_last_line(tmp_path: Path):
    # GIVEN a module with a function of 61 lines, one of 60, and a 61-line method
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1))
    method = body.replace("\n", "\n    ")
    module = tmp_path / "module.py"
    module.write_text(
        f"def too_long():\n{body}\n    return 0\n\n\ndef fits():\n{body}\n\n\n"
        f"class Holder:\n    def too_long(self):\n    {method}\n        return 0\n"
    )
    # THEN the two long ones are reported, with their length and qualified name
    assert long_functions(module, root=tmp_path) == {
        "module.py::too_long": MAX_FUNCTION_LINES + 1,
        "module.py::Holder.too_long": MAX_FUNCTION_LINES + 1,
    }


def imported_modules(path: Path) -> set[str]:
    """Absolute names a module imports (`from x import y` gives `x` and `x.y`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def project_module_file(name: str) -> Path | None:
    """The project file of a module name, or None for a third-party or standard module."""
    base = PROJECT_DIR.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def pulumi_imports_reachable_from(path: Path) -> dict[str, set[str]]:
    """`{project file: Pulumi packages it imports}` over `path` and every project module it
    imports, transitively."""
    seen: set[Path] = set()
    pending, offenders = [path], {}
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in imported_modules(current):
            if name.split(".")[0].startswith("pulumi"):
                relative = current.relative_to(PROJECT_DIR).as_posix()
                offenders.setdefault(relative, set()).add(name.split(".")[0])
            elif (module_file := project_module_file(name)) is not None:
                pending.append(module_file)
    return offenders


@pytest.mark.parametrize("path", python_files("decisions"), ids=lambda p: p.name)
def test_decisions_import_no_pulumi(path: Path):
    assert pulumi_imports_reachable_from(path) == {}


def test_the_purity_check_follows_imports_through_project_modules():
    # `stack.account` imports `stack.regions`, which declares the providers with pulumi_aws
    offenders = pulumi_imports_reachable_from(PROJECT_DIR / "stack" / "account.py")
    assert offenders["stack/regions.py"] == {"pulumi_aws"}
    assert offenders["stack/account.py"] == {"pulumi", "pulumi_aws"}


@pytest.mark.parametrize("tree", CHECKED_TREES)
def test_nothing_points_at_documents_outside_the_repository(tree: str):
    offenders = []
    for path in files_under(tree):
        if path.resolve() == THIS_FILE:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # not a text file
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE_POINTER.search(line):
                offenders.append(f"{path.relative_to(PROJECT_DIR)}:{number}: {line.strip()}")
    assert offenders == [], "say the fact here, or link docs/architecture.md"
