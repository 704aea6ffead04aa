"""Revision 0011 over real conversations: it keeps them on upgrade, and its downgrade stops,
saying why, rather than delete a thread a deleted account left behind."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from pgpolicy.migrate import runner
from pgpolicy.migrate.failures import MigrationFailed
from pgpolicy.migrate.runner import current_revisions
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import ALEMBIC_INI

BEFORE, REVISION = "0010", "0011"
THREAD = "m1__m2"


def _seed_conversation(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Two linked users, their thread and a message each way (as the migration role)."""
    first, second = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        for user_id, mongo_id in ((first, "m1"), (second, "m2")):
            conn.execute(
                "insert into auth.users (id, aud, role, email, raw_app_meta_data, created_at,"
                " updated_at) values (%s, 'authenticated', 'authenticated', %s, %s, now(), now())",
                (user_id, f"{mongo_id}@example.test", json.dumps({"mongoUserId": mongo_id})),
            )
        conn.execute(
            "insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,"
            " user_a_supabase_id, user_b_supabase_id) values (%s, 'm1', 'm2', %s, %s)",
            (THREAD, first, second),
        )
        for sender, mongo in ((first, ("m1", "m2")), (second, ("m2", "m1"))):
            conn.execute(
                "insert into public.chat_messages (thread_id, sender_supabase_id,"
                " sender_mongo_id, recipient_mongo_id, body) values (%s, %s, %s, %s, 'hi')",
                (THREAD, sender, *mongo),
            )
    return first, second


def _delete_user(url: str, user_id: uuid.UUID) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from auth.users where id = %s", (user_id,))


def _count(url: str, query: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_upgrade_keeps_existing_conversations_and_then_keeps_them_through_a_deletion(
    make_database: MakeDatabase,
) -> None:
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, BEFORE)
    _, second = _seed_conversation(url)
    runner.upgrade(ALEMBIC_INI, url, REVISION)
    assert _count(url, "select count(*) from public.chat_messages") == 2
    _delete_user(url, second)
    kept = "select count(*) from public.chat_threads where user_b_supabase_id is null"
    assert _count(url, kept) == 1
    assert (
        _count(url, "select count(*) from public.chat_messages where user_b_supabase_id is null")
        == 2
    )


def test_downgrade_stops_while_a_departed_participant_thread_exists(
    make_database: MakeDatabase,
) -> None:
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, REVISION)
    _, second = _seed_conversation(url)
    _delete_user(url, second)

    with pytest.raises(MigrationFailed) as failure:
        runner.downgrade(ALEMBIC_INI, url, BEFORE)
    assert failure.value.revision == REVISION
    assert failure.value.sqlstate == "55000"
    assert "1 chat thread(s) of deleted accounts exist" in str(failure.value)
    assert current_revisions(url) == [REVISION]
    assert _count(url, "select count(*) from public.chat_messages") == 2

    # Once the backend has removed it, the downgrade goes through.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from public.chat_threads where thread_id = %s", (THREAD,))
    runner.downgrade(ALEMBIC_INI, url, BEFORE)
    assert current_revisions(url) == [BEFORE]
