"""The same project's rules, proven from Python with the harness (no Alembic involved)."""

from __future__ import annotations

from pgpolicy.testing.harness import Database


def test_a_reader_sees_a_shared_note_but_not_a_private_one(db: Database) -> None:
    alice = db.create_user("alice")
    bob = db.create_user("bob")
    wrote = db.as_user(alice).execute(
        "insert into public.notes (body, shared) values ('mine', false), ('ours', true)"
    )
    assert wrote.ok, wrote
    read = db.as_user(bob).execute("select body from public.notes")
    assert read.rows == [{"body": "ours"}]


def test_a_user_cannot_read_the_notes_function_as_anon(db: Database) -> None:
    result = db.as_anon().rpc("my_note_count")
    assert result.sqlstate == "42501"
