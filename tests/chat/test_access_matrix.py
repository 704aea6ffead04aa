"""The chat's access matrix, probed for real, is exactly tests/chat/access-matrix.toml; the
access table in docs/access.md is that file; the command exits 1 when a policy drifts from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgpolicy.analysis.matrix import compare, load_spec, probe_matrix
from pgpolicy.analysis.matrix.readme import update_readme
from pgpolicy.cli import main
from pgpolicy.testing.harness import Database

ROOT = Path(__file__).resolve().parents[2]
MATRIX_FILE = ROOT / "tests" / "chat" / "access-matrix.toml"


def test_every_cell_of_the_chat_matrix_is_as_expected(db: Database) -> None:
    spec = load_spec(MATRIX_FILE)
    probed = probe_matrix(db.conn, spec)
    differences = compare(probed, spec.expect)
    assert not differences, "\n".join(str(d) for d in differences)
    assert len(probed.verdicts) == len(spec.expect)


def test_probing_leaves_nothing_behind(db: Database) -> None:
    before = {t: db.snapshot(t) for t in ("auth.users", "public.chat_messages")}
    probe_matrix(db.conn, load_spec(MATRIX_FILE))
    assert {t: db.snapshot(t) for t in before} == before


def test_the_documented_access_table_is_generated_from_the_matrix_file() -> None:
    changed = update_readme(MATRIX_FILE, ROOT / "docs" / "access.md", check=True)
    assert not changed, "docs/access.md's table differs from the matrix file: make readme-matrix"


def _matrix_exit(url: str) -> int:
    try:
        main(["matrix", "--url", url, "--actors", str(MATRIX_FILE), "--expect", str(MATRIX_FILE)])
    except SystemExit as stopped:
        return int(stopped.code or 0)
    return 0


@pytest.mark.commit
def test_matrix_command_exits_0_on_the_chat_and_1_on_a_seeded_defect(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _matrix_exit(db.url) == 0
    # The defect: a policy that lets any signed-in user read every thread.
    db.execute("create policy leak on public.chat_threads for select to authenticated using (true)")
    assert _matrix_exit(db.url) == 1
    report = capsys.readouterr().err
    assert "carol: public.chat_threads select: expected filtered, got allowed 2" in report
