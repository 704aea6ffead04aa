"""Which PostgreSQL major version the embedded cluster runs, and how a run says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pgpolicy.provision import (
    SUPPORTED_PG_VERSIONS,
    ProvisionError,
    provide_server,
    resolve_pg_version,
    server_bindir,
    start_dev_cluster,
)


def _config(root: Path, text: str) -> Path:
    (root / "supabase").mkdir()
    (root / "supabase" / "config.toml").write_text(text)
    return root


def test_the_default_is_17_supabases_default_for_new_projects(tmp_path: Path) -> None:
    assert resolve_pg_version(env={}, project_dir=tmp_path).major == "17"


def test_supabase_config_major_version_is_the_default_when_the_project_has_one(
    tmp_path: Path,
) -> None:
    project = _config(tmp_path, "[db]\nport = 54322\nmajor_version = 15\n")
    chosen = resolve_pg_version(env={}, project_dir=project)
    assert (chosen.major, "major_version" in chosen.source) == ("15", True)


def test_the_environment_wins_over_the_config_and_the_option_over_both(tmp_path: Path) -> None:
    project = _config(tmp_path, "[db]\nmajor_version = 15\n")
    env = {"PGPOLICY_PG_VERSION": "17"}
    assert resolve_pg_version(env=env, project_dir=project).major == "17"
    assert resolve_pg_version("15", env=env, project_dir=project).major == "15"


@pytest.mark.parametrize(
    ("explicit", "env", "config", "source"),
    [
        ("16", {}, None, "--pg-version"),
        (None, {"PGPOLICY_PG_VERSION": "18"}, None, "PGPOLICY_PG_VERSION"),
        (None, {}, "[db]\nmajor_version = 14\n", "major_version"),
    ],
)
def test_an_unsupported_version_names_the_supported_ones_and_its_source(
    tmp_path: Path, explicit: str | None, env: dict[str, str], config: str | None, source: str
) -> None:
    project = _config(tmp_path, config) if config else tmp_path
    with pytest.raises(ProvisionError) as caught:
        resolve_pg_version(explicit, env=env, project_dir=project)
    message = str(caught.value)
    assert "choose one of 15, 17" in message
    assert source in message


def test_a_broken_supabase_config_is_a_clear_error(tmp_path: Path) -> None:
    project = _config(tmp_path, "[db\nmajor_version = 17\n")
    with pytest.raises(ProvisionError, match=r"cannot read .*config\.toml"):
        resolve_pg_version(env={}, project_dir=project)


@pytest.mark.parametrize("major", SUPPORTED_PG_VERSIONS)
def test_the_embedded_cluster_runs_the_chosen_major_version(major: str) -> None:
    if server_bindir(major) is None:
        pytest.skip(f"no PostgreSQL {major} server binaries here")
    with (
        provide_server(env={}, pg_version=major) as server,
        psycopg.connect(server.url()) as conn,
    ):
        row = conn.execute("select current_setting('server_version_num')::int / 10000").fetchone()
    assert row == (int(major),)


def test_a_dev_cluster_of_another_major_version_is_refused_not_reused(tmp_path: Path) -> None:
    data = tmp_path / ".pgdata" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")

    with pytest.raises(ProvisionError) as caught:
        start_dev_cluster(tmp_path / ".pgdata", pg_version="17")

    message = str(caught.value)
    assert "is PostgreSQL 15, and PostgreSQL 17 was asked for" in message
    assert "--pg-version 15" in message
    assert not (data / "postmaster.pid").exists()  # nothing was started


def _collect(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    environ.pop("PGPOLICY_PG_VERSION", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_pytest_header_names_the_version_and_where_the_choice_came_from(
    tmp_path: Path,
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    _config(tmp_path, "[db]\nmajor_version = 15\n")
    run = _collect(tmp_path)
    assert "embedded Supabase-shaped cluster, PostgreSQL 15 (" in run.stdout, run.stdout
    assert "config.toml's [db] major_version" in run.stdout


def test_pytest_refuses_an_unsupported_version_before_any_test(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    from_env = _collect(tmp_path, PGPOLICY_PG_VERSION="16")
    from_option = _collect(tmp_path, "--pg-version", "16")
    assert from_env.returncode == from_option.returncode == pytest.ExitCode.USAGE_ERROR
    assert "choose one of 15, 17" in from_env.stderr
    assert "invalid choice: '16'" in from_option.stderr
