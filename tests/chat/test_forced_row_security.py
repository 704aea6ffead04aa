"""Row Level Security is forced on the chat tables, and nothing trusted breaks because of it.

Forced RLS removes the table owner's silent exemption; roles that bypass RLS keep bypassing
it. The SECURITY DEFINER functions and triggers run as their owner, which must therefore be a
role that bypasses RLS: a superuser, or (on Supabase) the non-superuser postgres with BYPASSRLS.
Both owners are proven here: the one the migrations ran as, and a fresh non-superuser role
with BYPASSRLS that takes the functions over for the length of one test.
"""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_allowed
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, CAROL_MONGO, Chat

CHAT_TABLES = (
    "public.chat_identities",
    "public.chat_threads",
    "public.chat_thread_members",
    "public.chat_messages",
)
DEFINER_FUNCTIONS = (
    "public.insert_chat_message(text, text, text, text)",
    "public.insert_chat_message_once(uuid, text, text, text, text)",
    "public.ensure_chat_thread(text)",
    "public.broadcast_chat_message()",
    "public.touch_chat_thread_last_message_at()",
    "public.fill_chat_message_participants()",
    "public.sync_chat_thread_members()",
    "public.sync_chat_identity()",
)
PROBE_OWNER = "pgpolicy_probe_definer_owner"


def test_rls_is_forced_on_every_chat_table(chat: Chat) -> None:
    for table in CHAT_TABLES:
        forced = chat.db.scalar(
            "select relforcerowsecurity from pg_class where oid = %s::regclass", (table,)
        )
        assert forced is True, table


def test_every_definer_function_is_owned_by_a_role_that_bypasses_rls(chat: Chat) -> None:
    for function in DEFINER_FUNCTIONS:
        row = chat.db.execute(
            "select p.prosecdef, r.rolsuper or r.rolbypassrls as bypasses"
            " from pg_proc p join pg_roles r on r.oid = p.proowner"
            " where p.oid = %s::regprocedure",
            (function,),
        )[0]
        assert row == {"prosecdef": True, "bypasses": True}, function


def _exercise_every_trusted_path(chat: Chat) -> None:
    """RPCs, their triggers and service_role, all through tables with forced RLS."""
    thread = assert_allowed(
        chat.caller("carol").rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO), rowcount=1
    )
    assert thread.rows[0]["thread_id"] == f"{ALICE_MONGO}__{CAROL_MONGO}"
    sent = assert_allowed(
        chat.caller("alice").rpc(
            "insert_chat_message",
            _thread_id=chat.thread_id,
            _sender_mongo_id=ALICE_MONGO,
            _recipient_mongo_id=BOB_MONGO,
            _body="through forced RLS",
        ),
        rowcount=1,
    )
    assert sent.rows[0]["user_a_supabase_id"] == chat.alice.id
    assert [b.payload["record"]["body"] for b in chat.db.broadcasts(f"chat:{chat.thread_id}")][
        -1
    ] == ("through forced RLS")
    assert chat.db.scalar(
        "select last_message_at = %s from public.chat_threads where thread_id = %s",
        (sent.rows[0]["created_at"], chat.thread_id),
    )
    service = chat.caller("service_role")
    assert_allowed(service.execute("select * from public.chat_messages"), rowcount=3)
    assert_allowed(service.execute("select * from public.chat_threads"), rowcount=2)
    assert_allowed(service.execute("select * from public.chat_identities"), rowcount=3)


def test_trusted_paths_work_with_the_migration_owner(chat: Chat) -> None:
    _exercise_every_trusted_path(chat)


def _hand_the_functions_to_a_probe_owner(chat: Chat, attributes: str) -> None:
    if not chat.db.scalar("select rolsuper from pg_roles where rolname = current_user"):
        # Then the migration owner is itself the non-superuser case, proven just above.
        pytest.skip("creating a BYPASSRLS role needs a superuser connection")
    db = chat.db
    db.execute(f"create role {PROBE_OWNER} nologin nosuperuser {attributes}")
    db.execute(f"grant usage on schema public, auth, realtime to {PROBE_OWNER}")
    db.execute(
        f"grant select, insert, update, delete on all tables in schema public to {PROBE_OWNER}"
    )
    db.execute(f"grant select, insert on realtime.messages to {PROBE_OWNER}")
    db.execute(f"grant execute on all functions in schema auth, realtime to {PROBE_OWNER}")
    for function in DEFINER_FUNCTIONS:
        db.execute(f"alter function {function} owner to {PROBE_OWNER}")


def test_trusted_paths_work_when_a_non_superuser_with_bypassrls_owns_the_functions(
    chat: Chat,
) -> None:
    _hand_the_functions_to_a_probe_owner(chat, "bypassrls")
    owner = chat.db.execute(
        "select r.rolsuper, r.rolbypassrls from pg_proc p join pg_roles r on r.oid = p.proowner"
        " where p.oid = 'public.insert_chat_message_once(uuid, text, text, text, text)'"
        "::regprocedure"
    )[0]
    assert owner == {"rolsuper": False, "rolbypassrls": True}
    _exercise_every_trusted_path(chat)


def test_an_owner_without_bypassrls_would_be_stopped_by_the_policies(chat: Chat) -> None:
    # The control: the probe owns the functions *and* the chat tables. Without FORCE a table
    # owner is exempt from its policies (the call would succeed); forced, it is held to them,
    # so the requirement above is real.
    _hand_the_functions_to_a_probe_owner(chat, "nobypassrls")
    for table in CHAT_TABLES:
        chat.db.execute(f"alter table {table} owner to {PROBE_OWNER}")
    with chat.db.unchanged("public.chat_threads"):
        result = chat.caller("carol").rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO)
        assert result.sqlstate == "42501", result
