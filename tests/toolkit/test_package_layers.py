"""The package's floors: the rooms that play Supabase's servers, and the analysis built on
them, never import the test harness (the harness uses them, not the other way round)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pgpolicy

PACKAGE = Path(pgpolicy.__file__).parent
LOWER_FLOORS = ("analysis", "postgrest", "realtime", "auth")
HARNESS = "pgpolicy.testing"


def _imported_modules(text: str, package: str) -> set[str]:
    """Every module ``text`` imports, relative imports resolved against ``package``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            name = ".".join(part for part in (base, node.module or "") if part)
            # ``from pgpolicy import testing`` imports the module pgpolicy.testing too.
            found.update({name, *(f"{name}.{alias.name}" for alias in node.names)})
    return found


def _upward_imports(module: Path) -> list[str]:
    package = ".".join(("pgpolicy", *module.relative_to(PACKAGE).parent.parts))
    return sorted(
        name
        for name in _imported_modules(module.read_text(encoding="utf-8"), package)
        if name == HARNESS or name.startswith(f"{HARNESS}.")
    )


@pytest.mark.parametrize("floor", LOWER_FLOORS)
def test_no_module_of_a_lower_floor_imports_the_test_harness(floor: str) -> None:
    modules = sorted((PACKAGE / floor).rglob("*.py"))
    assert modules, f"src/pgpolicy/{floor}/ holds no module"
    upward = {
        str(module.relative_to(PACKAGE.parent)): _upward_imports(module) for module in modules
    }
    assert {path: names for path, names in upward.items() if names} == {}


@pytest.mark.parametrize(
    "statement",
    [
        "from pgpolicy.testing.harness import Database",
        "import pgpolicy.testing",
        "from ...testing import plugin",
        "from ... import testing",
    ],
)
def test_the_scan_sees_every_spelling_of_an_import_of_the_harness(statement: str) -> None:
    """The scan itself can fail: absolute and relative imports of the harness are found."""
    found = _imported_modules(statement, "pgpolicy.analysis.matrix")
    assert any(name == HARNESS or name.startswith(f"{HARNESS}.") for name in found), found
