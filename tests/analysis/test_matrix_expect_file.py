"""`pgpolicy matrix --write-expect` records a run's verdicts as the file's [expect], keeping the
rest of the file; without --actors, the matrix probes the four callers every API has."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgpolicy.analysis.matrix import compare, load_spec, probe_matrix
from pgpolicy.analysis.matrix.expect_file import write_expect
from pgpolicy.cli import main
from pgpolicy.testing.harness import Database
from tests.analysis.test_matrix import MATRIX, NOTES_SCHEMA

# The schema's policy statements lock auth.users as on Supabase: committed before the matrix.
pytestmark = pytest.mark.commit

_OLD_EXPECT = """
# who may read the notes (kept: outside [expect])
[expect."notes_api.notes"]
select = { owner = "denied" }
"""


def test_write_expect_records_every_cell_and_keeps_the_rest_of_the_file(
    db: Database, tmp_path: Path
) -> None:
    db.execute(NOTES_SCHEMA)
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX + _OLD_EXPECT)
    probed = probe_matrix(db.conn, load_spec(path))
    write_expect(path, probed)
    written = path.read_text()
    assert "# who may read the notes (kept: outside [expect])" in written
    assert written.startswith(MATRIX.rstrip().split("[functions")[0].rstrip())
    reloaded = load_spec(path)
    assert set(reloaded.expect) == set(probed.verdicts)
    assert compare(probed, reloaded.expect) == []
    assert written.count("[expect.") == len({cell.object for cell in probed.verdicts})
    # A second run against the written file finds no difference.
    assert compare(probe_matrix(db.conn, reloaded), reloaded.expect) == []


def test_without_actors_the_matrix_probes_anon_a_user_no_sub_and_service_role(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db.execute(NOTES_SCHEMA)
    out = tmp_path / "written.toml"
    main(["matrix", "--url", db.url, "--schemas", "notes_api", "--write-expect", str(out)])
    captured = capsys.readouterr()
    assert "no --actors file: probing anon, a fresh signed-in user" in captured.err
    spec = load_spec(out)
    assert [a.name for a in spec.actors] == ["anon", "user", "no_sub", "service_role"]
    insert = {c.actor: str(v) for c, v in spec.expect.items() if c.action == "insert"}
    # No policy lets anon write; service_role's row has no owner (no sub): the NOT NULL answers.
    assert insert["anon"] == "denied"
    assert insert["service_role"] == "error 23502"
    assert set(insert) == {"anon", "user", "no_sub", "service_role"}
