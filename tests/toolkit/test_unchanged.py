"""`db.unchanged` passes when nothing changed and otherwise fails naming the columns of each
row gone and each row that appeared, pointing at the proof rather than the harness."""

from __future__ import annotations

import pytest

from pgpolicy.testing.harness import Database


@pytest.fixture
def notes(db: Database) -> None:
    db.execute("create table public.diff_notes (id int primary key, body text, tags jsonb)")
    db.execute("""insert into public.diff_notes values (1, 'one', '{"a": 1}'), (2, 'two', null)""")


def test_nothing_changed_passes(db: Database, notes: None) -> None:
    with db.unchanged("public.diff_notes"):
        db.execute("update public.diff_notes set body = body where id = 1")


def test_a_change_names_the_columns_of_the_rows_gone_and_appeared(
    db: Database, notes: None
) -> None:
    change = (
        "update public.diff_notes set body = 'ONE' where id = 1;"
        " insert into public.diff_notes values (3, 'three', null)"
    )
    with pytest.raises(AssertionError) as failure, db.unchanged("public.diff_notes"):
        db.execute(change)
    message = str(failure.value)
    assert "public.diff_notes changed:" in message
    assert "  - id=1, body='one', tags={'a': 1}" in message
    assert "  + id=1, body='ONE', tags={'a': 1}" in message
    assert "  + id=3, body='three', tags=None" in message
    assert "(1 row(s) gone, 2 appeared; 2 before)" in message
    # pytest hides the harness's frame: the report points at the proof's `with`.
    shown = failure.traceback.filter(failure)
    assert [entry for entry in shown if entry.path.name == "harness.py"] == []
