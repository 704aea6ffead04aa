"""The emulated PostgREST release is chosen per run and named in the run's header."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pgpolicy.postgrest.version import POSTGREST_VERSION_ENV


def _collect(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_the_default_is_the_supabase_cli_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(POSTGREST_VERSION_ENV, raising=False)
    run = _collect(tmp_path)
    assert "pgpolicy PostgREST: requests as v14.12 (the Supabase CLI's)" in run.stdout


def test_v12_is_chosen_by_option_and_an_unknown_release_refused(tmp_path: Path) -> None:
    assert "requests as v12.2.12" in _collect(tmp_path, "--postgrest-version=12.2").stdout
    refused = _collect(tmp_path, "--postgrest-version=11.2")
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR
    assert "PostgREST 11.2 is not emulated" in refused.stderr
