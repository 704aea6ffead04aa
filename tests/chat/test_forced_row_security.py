"""Row Level Security is forced on the chat tables, and nothing trusted breaks because of it.

Forced RLS removes the table owner's silent exemption; roles that bypass RLS keep bypassing
it. The SECURITY DEFINER functions and triggers run as their owner, which must therefore be a
role that bypasses RLS: a superuser, or (on Supabase) the non-superuser postgres with BYPASSRLS.
Both owners are proven here: the one the migrations ran as, and a fresh non-superuser role
with BYPASSRLS that takes the functions over for the length of one test. That role is made by
the cluster's superuser (supabase_admin on the embedded cluster), since postgres may not give
BYPASSRLS in PostgreSQL 15; the control shows the same role without it is held to the policies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
import pytest
from psycopg import sql

from pgpolicy.provision import Server
from pgpolicy.testing.assertions import assert_allowed, assert_denied
from pgpolicy.testing.harness import Database
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, CAROL_ALICE_THREAD, CAROL_MONGO, Chat

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
    "public.refuse_chat_message_to_departed()",
    "public.delete_abandoned_chat_thread()",
)


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
    # An account deletion: bob leaves his thread (its side and his membership go), alice keeps
    # it and can send into it no more; when she leaves too, the thread goes.
    chat.db.execute("delete from auth.users where id = %s", (chat.bob.id,))
    assert_allowed(chat.caller("alice").execute("select * from public.chat_messages"), rowcount=3)
    members = "select * from public.chat_thread_members where thread_id = %s"
    assert_allowed(service.execute(members, (chat.thread_id,)), rowcount=1)
    refused = chat.caller("alice").rpc(
        "insert_chat_message",
        _thread_id=chat.thread_id,
        _sender_mongo_id=ALICE_MONGO,
        _recipient_mongo_id=BOB_MONGO,
        _body="anyone?",
    )
    assert refused.sqlstate == "23503", refused
    chat.db.execute("delete from auth.users where id = %s", (chat.alice.id,))
    threads = "select * from public.chat_threads where thread_id = %s"
    assert_allowed(service.execute(threads, (chat.thread_id,)), rowcount=0)


def test_trusted_paths_work_with_the_migration_owner(chat: Chat) -> None:
    _exercise_every_trusted_path(chat)


@dataclass(frozen=True)
class ProbeOwner:
    """A throwaway non-superuser role that may take the definer functions over.

    It holds the privileges those functions use and starts NOBYPASSRLS. ``admin`` is a
    superuser connection to the test's own database: in PostgreSQL 15 only a superuser may
    give a role BYPASSRLS, and the working role (postgres) is none on Supabase-shaped
    clusters. Everything done through it is committed, hence the ``commit`` marker.
    """

    name: str
    admin: psycopg.Connection[Any]

    def set_bypassrls(self, bypass: bool) -> None:
        """ALTER ROLE ... [NO]BYPASSRLS: the one attribute these proofs are about."""
        attribute = sql.SQL("bypassrls" if bypass else "nobypassrls")
        self.admin.execute(sql.SQL("alter role {} {}").format(sql.Identifier(self.name), attribute))

    def take_over(self, kind: Literal["function", "table"], objects: tuple[str, ...]) -> None:
        """ALTER ``kind`` (function, table) OWNER TO the probe, for each of ``objects``."""
        for name in objects:
            self.admin.execute(
                sql.SQL("alter {} {} owner to {}").format(
                    sql.SQL(kind), sql.SQL(name), sql.Identifier(self.name)
                )
            )


@pytest.fixture
def probe_owner(pg_server: Server, db: Database) -> Iterator[ProbeOwner]:
    """A ProbeOwner with a unique name (roles are cluster-wide: parallel runs must not meet),
    dropped after the test whatever happened, so the cluster keeps no trace of it."""
    if not db.committing:
        # Its admin connection commits: in the shared rolled-back database that would stay.
        raise RuntimeError("probe_owner changes the database for good: mark the test commit")
    admin_server = pg_server.admin()
    with psycopg.connect(admin_server.url(db.conn.info.dbname), autocommit=True) as admin:
        superuser = admin.execute("select rolsuper from pg_roles where rolname = current_user")
        if superuser.fetchone() != (True,):
            pytest.skip(
                "creating the probe role with BYPASSRLS needs a superuser connection, and "
                f"this server's admin connection logs in as {admin_server.user}, not a superuser"
            )
        name = f"pgpolicy_probe_owner_{uuid.uuid4().hex[:12]}"
        role = sql.Identifier(name)
        admin.execute(sql.SQL("create role {} nologin nosuperuser nobypassrls").format(role))
        try:
            for grant in (
                "grant usage on schema public, auth, realtime to {}",
                "grant select, insert, update, delete on all tables in schema public to {}",
                "grant select, insert on realtime.messages to {}",
                "grant execute on all functions in schema auth, realtime to {}",
            ):
                admin.execute(sql.SQL(grant).format(role))
            yield ProbeOwner(name=name, admin=admin)
        finally:
            # Its objects and privileges exist only in this test's database: give the objects
            # back to the working role, revoke the rest, and then the role can go.
            admin.execute(
                sql.SQL("reassign owned by {} to {}").format(role, sql.Identifier(pg_server.user))
            )
            admin.execute(sql.SQL("drop owned by {}").format(role))
            admin.execute(sql.SQL("drop role {}").format(role))


@pytest.mark.commit
def test_trusted_paths_work_when_a_non_superuser_with_bypassrls_owns_the_functions(
    chat: Chat, probe_owner: ProbeOwner
) -> None:
    probe_owner.set_bypassrls(True)
    probe_owner.take_over("function", DEFINER_FUNCTIONS)
    owner = chat.db.execute(
        "select r.rolsuper, r.rolbypassrls from pg_proc p join pg_roles r on r.oid = p.proowner"
        " where p.oid = 'public.insert_chat_message_once(uuid, text, text, text, text)'"
        "::regprocedure"
    )[0]
    assert owner == {"rolsuper": False, "rolbypassrls": True}
    _exercise_every_trusted_path(chat)


@pytest.mark.commit
def test_an_owner_without_bypassrls_would_be_stopped_by_the_policies(
    chat: Chat, probe_owner: ProbeOwner
) -> None:
    # The control: the probe owns the functions *and* the chat tables. Without FORCE a table
    # owner is exempt from its policies (the call would succeed); forced, it is held to them,
    # so the requirement above is real.
    probe_owner.take_over("function", DEFINER_FUNCTIONS)
    probe_owner.take_over("table", CHAT_TABLES)
    with chat.db.unchanged("public.chat_threads"):
        stopped = chat.caller("carol").rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO)
    # 42501 alone could be a missing privilege ("permission denied for ..."). This message is
    # the function's own: its lookup of carol's identity, which exists, came back empty
    # because no policy lets the probe see the row.
    assert_denied(stopped, message="your account is not linked to a chat identity")
    # The same owner, privileges and call, with BYPASSRLS the only change: it now succeeds.
    # A new session, so nothing cached by the refused call can carry over into this one.
    probe_owner.set_bypassrls(True)
    carol = chat.db.as_user(chat.carol, conn=chat.db.connect())
    thread = assert_allowed(
        carol.rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO), rowcount=1
    )
    assert thread.rows[0]["thread_id"] == CAROL_ALICE_THREAD
