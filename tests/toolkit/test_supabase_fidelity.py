"""The database the proofs run on is shaped like Supabase's (SUPABASE-FACTS.md), one fact each.

What postgres may not do is only provable where postgres is not a superuser (the embedded
cluster, a real Supabase database); on a plain server whose postgres is one, those skip.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from pgpolicy.provision import Server
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database


def _require_non_superuser(db: Database) -> None:
    if db.scalar("select rolsuper from pg_roles where rolname = current_user"):
        pytest.skip("the working role is a superuser on this server: nothing is refused to it")


def _refused(db: Database, statement: str) -> psycopg.Error:
    """Run ``statement`` as the working role in a savepoint; return the error it raised."""
    with pytest.raises(psycopg.Error) as caught, db.conn.transaction():
        db.conn.execute(statement.encode())
    return caught.value


# --- extensions ---------------------------------------------------------------------------


def test_uuid_generate_v4_resolves_through_the_api_search_path(db: Database) -> None:
    result = assert_allowed(db.as_anon().execute("select uuid_generate_v4() as id"))
    assert len(str(result.rows[0]["id"])) == 36


def test_pgcrypto_lives_in_the_extensions_schema(db: Database) -> None:
    result = assert_allowed(db.as_anon().execute("select length(gen_random_bytes(8)) as n"))
    assert result.rows == [{"n": 8}]
    assert db.scalar(
        "select n.nspname || ':' || pg_get_userbyid(n.nspowner) from pg_extension e"
        " join pg_namespace n on n.oid = e.extnamespace where e.extname = 'uuid-ossp'"
    ) in ("extensions:postgres", f"extensions:{db.scalar('select current_user')}")


# --- auth.users ---------------------------------------------------------------------------


def test_a_second_sign_up_with_the_same_email_is_refused(db: Database) -> None:
    db.create_user("alice", email="same@example.test")
    with pytest.raises(errors.UniqueViolation, match="users_email_partial_key"):
        db.create_user("alice again", email="same@example.test")


def test_a_second_sign_up_with_the_same_phone_is_refused(db: Database) -> None:
    alice = db.create_user("alice")
    bob = db.create_user("bob")
    db.execute("update auth.users set phone = '15550001' where id = %s", (alice.id,))
    with pytest.raises(errors.UniqueViolation, match="users_phone_key"), db.conn.transaction():
        db.execute("update auth.users set phone = '15550001' where id = %s", (bob.id,))


def test_auth_users_has_rls_enabled_not_forced_and_no_api_grants(db: Database) -> None:
    row = db.execute(
        "select relrowsecurity, relforcerowsecurity,"
        " has_table_privilege('anon', oid, 'select') as anon_select,"
        " has_table_privilege('authenticated', oid, 'select') as authenticated_select,"
        " pg_get_userbyid(relowner) as owner"
        " from pg_class where oid = 'auth.users'::regclass"
    )[0]
    assert row == {
        "relrowsecurity": True,
        "relforcerowsecurity": False,
        "anon_select": False,
        "authenticated_select": False,
        "owner": "supabase_auth_admin",
    }


def test_auth_users_leaves_timestamps_and_metadata_to_the_auth_server(db: Database) -> None:
    defaults = db.execute(
        "select column_name, column_default from information_schema.columns"
        " where table_schema = 'auth' and table_name = 'users' and column_name in"
        " ('created_at', 'updated_at', 'raw_app_meta_data', 'raw_user_meta_data')"
    )
    assert {row["column_name"]: row["column_default"] for row in defaults} == {
        "created_at": None,
        "updated_at": None,
        "raw_app_meta_data": None,
        "raw_user_meta_data": None,
    }


# --- role settings ------------------------------------------------------------------------


def test_anon_requests_run_under_a_3s_statement_timeout(db: Database) -> None:
    if db.scalar(
        "select not exists (select from pg_db_role_setting s join pg_roles r"
        " on r.oid = s.setrole where r.rolname = 'anon'"
        " and 'statement_timeout=3s' = any(s.setconfig))"
    ):
        pytest.skip("this server's own anon role has no statement_timeout (left as it is)")
    assert_raised(db.as_anon().execute("select pg_sleep(3.5)"), "57014")


def test_postgres_cannot_become_supabase_admin_roles(db: Database) -> None:
    _require_non_superuser(db)
    for role in ("supabase_auth_admin", "supabase_realtime_admin", "supabase_admin"):
        error = _refused(db, f"set role {role}")
        assert error.sqlstate == "42501", (role, error)
        assert f'permission denied to set role "{role}"' in str(error)


# --- ownership ----------------------------------------------------------------------------


def test_supabase_objects_have_supabase_owners(db: Database) -> None:
    owners = {
        row["name"]: row["owner"]
        for row in db.execute(
            "select 'auth.users' as name, pg_get_userbyid(relowner) as owner from pg_class"
            " where oid = 'auth.users'::regclass"
            " union all select 'auth.uid()', pg_get_userbyid(proowner) from pg_proc"
            " where oid = 'auth.uid()'::regprocedure"
            " union all select 'realtime.messages', pg_get_userbyid(relowner) from pg_class"
            " where oid = 'realtime.messages'::regclass"
            " union all select 'realtime.send', pg_get_userbyid(proowner) from pg_proc"
            " where oid = 'realtime.send(jsonb, text, text, boolean)'::regprocedure"
            " union all select 'publication', pg_get_userbyid(pubowner) from pg_publication"
            " where pubname = 'supabase_realtime'"
        )
    }
    assert owners == {
        "auth.users": "supabase_auth_admin",
        "auth.uid()": "supabase_auth_admin",
        "realtime.messages": "supabase_realtime_admin",
        "realtime.send": "supabase_realtime_admin",
        "publication": "postgres",
    }


def test_postgres_may_use_but_not_create_in_auth_and_realtime(db: Database) -> None:
    _require_non_superuser(db)
    for schema in ("auth", "realtime"):
        assert db.scalar("select has_schema_privilege(%s, 'usage')", (schema,)) is True
        assert db.scalar("select has_schema_privilege(%s, 'create')", (schema,)) is False
        owner = db.scalar(
            "select pg_get_userbyid(nspowner) from pg_namespace where nspname = %s", (schema,)
        )
        assert owner != "postgres"


# --- realtime.messages and send -----------------------------------------------------------


def test_a_message_cannot_carry_json_and_bytes_at_once(db: Database) -> None:
    result = db.as_service_role().execute(
        "insert into realtime.messages (topic, extension, payload, binary_payload)"
        " values ('room:bin', 'broadcast', '{}', '\\x00')"
    )
    assert_raised(result, "23514")
    assert "messages_payload_exclusive" in (result.message or "")


def test_recent_private_broadcasts_are_indexed_as_realtime_reads_them(db: Database) -> None:
    definition = db.scalar(
        "select pg_get_indexdef(indexrelid) from pg_index"
        " where indrelid = 'realtime.messages'::regclass and not indisprimary"
    )
    assert definition is not None
    assert "(inserted_at DESC, topic)" in definition
    assert "WHERE ((extension = 'broadcast'::text) AND (private IS TRUE))" in definition


def test_send_stores_a_null_payload_as_null(db: Database) -> None:
    assert_allowed(db.as_service_role().execute("select realtime.send(null, 'e', 'room:null')"))
    rows = db.execute("select payload from realtime.messages where topic = 'room:null'")
    assert rows == [{"payload": None}]


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "42"])
def test_send_refuses_a_non_object_payload_with_a_warning_and_no_row(
    db: Database, payload: str
) -> None:
    result = assert_allowed(
        db.as_service_role().execute(
            "select realtime.send(%s::jsonb, 'e', 'room:shape')", (payload,)
        )
    )
    assert any(n.startswith("WARNING: WarnSendingBroadcastMessage:") for n in result.notices), (
        result.notices
    )
    assert db.execute("select 1 from realtime.messages where topic = 'room:shape'") == []


# --- what supautils allows postgres, and nothing more ---------------------------------------


def test_postgres_may_create_alter_and_drop_policies_on_realtime_messages(db: Database) -> None:
    acl_before = db.scalar(
        "select relacl::text from pg_class where oid = 'realtime.messages'::regclass"
    )
    db.execute(
        "create policy toolkit_probe on realtime.messages for select to authenticated using (false)"
    )
    db.execute("alter policy toolkit_probe on realtime.messages using (true)")
    assert (
        db.scalar(
            "select count(*) from pg_policies"
            " where schemaname = 'realtime' and policyname = 'toolkit_probe'"
        )
        == 1
    )
    db.execute("drop policy toolkit_probe on realtime.messages")
    # Supabase's table, its partitions and their privileges are exactly as they were.
    owners = db.execute(
        "select distinct pg_get_userbyid(c.relowner) as owner from pg_class c"
        " where c.oid = 'realtime.messages'::regclass or c.oid in"
        " (select inhrelid from pg_inherits where inhparent = 'realtime.messages'::regclass)"
    )
    assert owners == [{"owner": "supabase_realtime_admin"}]
    assert (
        db.scalar("select relacl::text from pg_class where oid = 'realtime.messages'::regclass")
        == acl_before
    )


def test_postgres_may_not_alter_realtime_messages(db: Database) -> None:
    _require_non_superuser(db)
    error = _refused(db, "alter table realtime.messages add column toolkit int")
    assert error.sqlstate == "42501"
    assert "must be owner of table messages" in str(error)


def test_postgres_may_create_and_drop_triggers_on_auth_users(db: Database) -> None:
    acl_before = db.scalar("select relacl::text from pg_class where oid = 'auth.users'::regclass")
    db.execute(
        "create function public.toolkit_noop() returns trigger language plpgsql"
        " as $$ begin return new; end $$"
    )
    db.execute(
        "create trigger toolkit_noop after insert on auth.users"
        " for each row execute function public.toolkit_noop()"
    )
    db.execute("drop trigger toolkit_noop on auth.users")
    assert (
        db.scalar(
            "select pg_get_userbyid(relowner) from pg_class where oid = 'auth.users'::regclass"
        )
        == "supabase_auth_admin"
    )
    assert (
        db.scalar("select relacl::text from pg_class where oid = 'auth.users'::regclass")
        == acl_before
    )


def test_postgres_may_not_create_functions_in_auth(db: Database) -> None:
    _require_non_superuser(db)
    error = _refused(
        db, "create function auth.toolkit() returns int language sql as $$ select 1 $$"
    )
    assert error.sqlstate == "42501"
    assert "permission denied for schema auth" in str(error)


def test_postgres_adds_its_tables_to_the_realtime_publication(db: Database) -> None:
    db.execute("create table public.toolkit_feed (id int primary key)")
    db.execute("alter publication supabase_realtime add table public.toolkit_feed")
    assert (
        db.scalar(
            "select count(*) from pg_publication_tables where pubname = 'supabase_realtime'"
            " and tablename = 'toolkit_feed'"
        )
        == 1
    )


@pytest.mark.commit
def test_objects_supabase_admin_creates_in_public_are_granted_to_the_api_roles(
    db: Database, pg_server: Server
) -> None:
    if pg_server.admin_user is None:
        pytest.skip("no separate admin role on this server to create objects as")
    with psycopg.connect(pg_server.admin().url(db.conn.info.dbname), autocommit=True) as admin:
        admin.execute("create table public.toolkit_admin_made (id int)")
        admin.execute(
            "create function public.toolkit_admin_hello() returns text language sql"
            " as $$ select 'hi' $$"
        )
    for role in ("anon", "authenticated", "service_role", "postgres"):
        assert db.scalar(
            "select has_table_privilege(%s, 'public.toolkit_admin_made', 'select, insert')",
            (role,),
        ), role
        assert db.scalar(
            "select has_function_privilege(%s, 'public.toolkit_admin_hello()', 'execute')",
            (role,),
        ), role


# --- what the major version decides (SUPABASE-FACTS.md, "PostgreSQL versions") -----------


def _server_version_num(db: Database) -> int:
    return int(str(db.scalar("select current_setting('server_version_num')")))


def test_postgres_holds_maintain_where_it_holds_all_on_17(db: Database) -> None:
    _require_non_superuser(db)
    if _server_version_num(db) < 170000:
        error = _refused(db, "select has_table_privilege('auth.users', 'MAINTAIN')")
        assert isinstance(error, errors.InvalidParameterValue), error  # 22023 before 17
        assert 'unrecognized privilege type: "MAINTAIN"' in str(error)
        return
    assert db.scalar("select has_table_privilege('auth.users', 'MAINTAIN')") is True
    acl = db.scalar(
        "select a::text from pg_class c, unnest(c.relacl) a"
        " where c.oid = 'auth.users'::regclass and a::text like 'postgres=%'"
    )
    assert "m" in str(acl).split("=")[1].split("/")[0], acl


def test_postgres_cannot_grant_itself_a_role_it_has_no_admin_option_on_16_and_later(
    db: Database,
) -> None:
    """16's CREATEROLE manages only roles held WITH ADMIN OPTION, so PostgreSQL itself
    refuses `grant authenticator to postgres`, as supautils does on Supabase 15 and 17."""
    _require_non_superuser(db)
    if _server_version_num(db) < 160000:
        pytest.skip("15's CREATEROLE grants any non-superuser role (README: Not emulated)")
    error = _refused(db, "grant authenticator to postgres")
    assert error.sqlstate == "42501", error
    assert db.scalar("select pg_has_role('postgres', 'authenticator', 'member')") is False
