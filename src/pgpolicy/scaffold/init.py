"""Write a new project's files, or the ones an existing repository lacks; never overwrite.

Alembic projects get alembic.ini, migrations/ (an env.py that runs pgpolicy's environment,
the revision template, versions/), policies/ and rpc/ for the declared state, pytest
configuration and a first proof that passes. A Supabase CLI project (supabase/config.toml)
keeps its supabase/migrations as the schema: the plugin builds the test database from them,
so only the pytest configuration (collecting its supabase/tests pgTAP files as well) and the
first proof are written.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pgpolicy.scaffold import templates

__all__ = ["InitResult", "init_project"]


@dataclass
class InitResult:
    """What init did to each file: written, kept (it existed) or appended."""

    actions: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{action:8} {path}" for path, action in self.actions]


def init_project(root: Path) -> InitResult:
    """Give ``root`` what a pgpolicy project needs; idempotent, never overwrites a file."""
    result = InitResult()
    cli_project = (root / "supabase" / "config.toml").is_file()
    files: dict[str, str] = {"tests/test_first_proof.py": templates.FIRST_PROOF}
    if not cli_project:
        files = {
            "alembic.ini": templates.ALEMBIC_INI,
            "migrations/env.py": templates.ENV_PY,
            "migrations/script.py.mako": templates.SCRIPT_MAKO,
            "migrations/versions/.gitkeep": templates.KEEP,
            "policies/.gitkeep": templates.KEEP,
            "rpc/.gitkeep": templates.KEEP,
            **files,
        }
    for relative, text in files.items():
        result.actions.append((relative, _write_new(root / relative, text)))
    result.actions.append(_pytest_configuration(root, cli_project=cli_project))
    return result


def _write_new(path: Path, text: str) -> str:
    if path.exists():
        return "kept"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return "written"


def _pytest_configuration(root: Path, *, cli_project: bool) -> tuple[str, str]:
    """pytest.ini, or a [tool.pytest.ini_options] table appended to an existing pyproject."""
    ini = templates.PYTEST_INI_CLI if cli_project else templates.PYTEST_INI
    table = templates.PYPROJECT_PYTEST_CLI if cli_project else templates.PYPROJECT_PYTEST
    for name in ("pytest.ini", "tox.ini", "setup.cfg"):
        path = root / name
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if "[pytest]" in text or "[tool:pytest]" in text:
            return (name, "kept")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        if "pytest" in data.get("tool", {}):
            return ("pyproject.toml", "kept")
        with pyproject.open("a", encoding="utf-8") as handle:
            handle.write(table)
        return ("pyproject.toml", "appended")
    return ("pytest.ini", _write_new(root / "pytest.ini", ini))
