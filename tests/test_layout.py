"""The layout's one-way dependencies, read from the import statements of every module:
search -> evaluators -> programs; the command line (search/cli/) is on top of the engine,
which never imports it; lion imports none of them."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> the project packages its modules must not import
FORBIDDEN = {
    "programs": {"evaluators", "search", "lion"},
    "evaluators": {"search", "lion"},
    "lion": {"programs", "evaluators", "search"},
}


def imported(path: Path) -> set[str]:
    """Absolute dotted names a module imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parents = parts[:len(parts) - node.level + 1]
                base = ".".join(parents + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_downward(package):
    for path in modules(package):
        bad = {name for name in imported(path)
               if name.split(".")[0] in FORBIDDEN[package]}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_engine_never_imports_the_command_line():
    engine = [p for p in modules("search") if "cli" not in p.relative_to(ROOT).parts]
    assert {p.name for p in engine} >= {"controller.py", "store.py", "workers.py"}
    for path in engine:
        bad = {name for name in imported(path) if name.startswith("search.cli")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_relative_imports_resolve():
    # The resolver itself: `from . import UsageError` in search/cli/run.py is search.cli,
    # `from ..store import RunStore` there is search.store.
    names = imported(ROOT / "search" / "cli" / "run.py")
    assert "search.cli.UsageError" in names and "search.store" in names
