"""`pgpolicy init`: a new project's files, a first proof that passes from nothing, nothing
overwritten on a second run or in an existing repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgpolicy.scaffold import init_project
from pgpolicy.testing.target import Target

_NEW_PROJECT = [
    "alembic.ini",
    "migrations/env.py",
    "migrations/script.py.mako",
    "migrations/versions/.gitkeep",
    "policies/.gitkeep",
    "rpc/.gitkeep",
    "tests/test_first_proof.py",
    "pytest.ini",
]


def test_a_new_project_gets_its_files_and_a_second_run_keeps_them(tmp_path: Path) -> None:
    first = init_project(tmp_path)
    assert first.actions == [(path, "written") for path in _NEW_PROJECT]
    (tmp_path / "alembic.ini").write_text("# edited by the team\n")
    second = init_project(tmp_path)
    assert second.actions == [(path, "kept") for path in _NEW_PROJECT]
    assert (tmp_path / "alembic.ini").read_text() == "# edited by the team\n"


def test_an_existing_pyproject_gets_the_pytest_table_appended_once(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    assert ("pyproject.toml", "appended") in init_project(tmp_path).actions
    assert ("pyproject.toml", "kept") in init_project(tmp_path).actions
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "app"\n')
    assert text.count("[tool.pytest.ini_options]") == 1
    assert not (tmp_path / "pytest.ini").exists()


def test_a_supabase_cli_project_keeps_its_migrations_as_the_schema(tmp_path: Path) -> None:
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "config.toml").write_text('project_id = "app"\n')
    actions = dict(init_project(tmp_path).actions)
    assert actions == {"tests/test_first_proof.py": "written", "pytest.ini": "written"}
    assert not (tmp_path / "alembic.ini").exists()
    assert "testpaths = tests supabase/tests" in (tmp_path / "pytest.ini").read_text()


def _pytest_in(directory: Path) -> subprocess.CompletedProcess[str]:
    """pytest run in ``directory`` as its team runs it: the installed package, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _embedded_only(pg_target: Target) -> None:
    if pg_target.kind != "embedded":
        pytest.skip("the new project runs its own embedded cluster: shown on the embedded pass")


def test_the_first_proof_passes_in_a_new_directory(tmp_path: Path, pg_target: Target) -> None:
    _embedded_only(pg_target)
    init_project(tmp_path)
    result = _pytest_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


# A Supabase CLI project as a team has it: config.toml, three migrations, a seed, two pgTAP files.
CLI_FIXTURE = Path(__file__).resolve().parents[2] / "examples" / "supabase-cli-app" / "supabase"


def test_init_in_a_supabase_cli_project_runs_its_pgtap_files_and_the_first_proof(
    tmp_path: Path, pg_target: Target
) -> None:
    _embedded_only(pg_target)
    shutil.copytree(CLI_FIXTURE, tmp_path / "supabase")
    init_project(tmp_path)
    result = _pytest_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for item in (
        "tests/test_first_proof.py::test_anon_cannot_read_auth_users PASSED",
        "supabase/tests/notes_rls_test.sql",
        "supabase/tests/profiles_test.sql",
    ):
        assert item in result.stdout, result.stdout
    assert "4 passed" in result.stdout
