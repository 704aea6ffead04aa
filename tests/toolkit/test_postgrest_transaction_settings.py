"""Transaction settings as PostgREST sets them: a function's own SET statement_timeout
governs the whole request, role settings come from pg_roles.rolconfig, and the isolation
level from the role's or function's default_transaction_isolation."""

from __future__ import annotations

import pytest

from pgpolicy.postgrest.identity import as_role
from pgpolicy.postgrest.request import Request
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database

_SLEEPER = (
    "create function public.toolkit_nap(_seconds float8) returns int language sql"
    " set statement_timeout = '{timeout}' as $$ select 1 from pg_sleep(_seconds) $$"
)


def _role(db: Database, *settings: str) -> None:
    db.execute("create role toolkit_api_role nologin")
    db.execute("grant toolkit_api_role to current_user")
    db.execute("grant usage on schema public to toolkit_api_role")
    for setting in settings:
        db.execute(f"alter role toolkit_api_role set {setting}")


def _as_api_role(db: Database) -> Request:
    return db.request(as_role("toolkit_api_role", {"role": "toolkit_api_role"}))


def test_a_function_timeout_shorter_than_the_call_cancels_it(db: Database) -> None:
    db.execute(_SLEEPER.format(timeout="100ms"))
    result = db.as_service_role().rpc("toolkit_nap", _seconds=0.4)
    assert_raised(result, "57014", status=500)


def test_a_function_timeout_longer_than_the_role_timeout_wins(db: Database) -> None:
    _role(db, "statement_timeout = '100ms'")
    db.execute(_SLEEPER.format(timeout="5s"))
    db.execute("grant execute on function public.toolkit_nap to toolkit_api_role")
    assert_allowed(_as_api_role(db).rpc("toolkit_nap", _seconds=0.3))
    # Without the function's setting the role's 100ms applies.
    assert_raised(_as_api_role(db).execute("select pg_sleep(0.3)"), "57014", status=500)


def test_role_settings_come_from_rolconfig_only(db: Database) -> None:
    _role(db, "lock_timeout = '7s'")
    db.execute(
        "do $$ begin execute format("
        "'alter role toolkit_api_role in database %I"
        " set idle_in_transaction_session_timeout = ''9s''',"
        " current_database()); end $$"
    )
    row = assert_allowed(
        _as_api_role(db).execute(
            "select current_setting('lock_timeout') as lock_timeout,"
            " current_setting('idle_in_transaction_session_timeout') as idle"
        )
    ).rows[0]
    assert row["lock_timeout"] == "7s"
    assert row["idle"] != "9s"


def test_role_settings_end_with_the_request(db: Database) -> None:
    _role(db, "lock_timeout = '7s'")
    before = db.scalar("select current_setting('lock_timeout')")
    assert_allowed(_as_api_role(db).execute("select 1"))
    assert db.scalar("select current_setting('lock_timeout')") == before


def test_role_setting_values_are_read_lower_cased(db: Database) -> None:
    # PostgREST lower-cases rolconfig values: a unit written in capitals no longer parses.
    _role(db, "work_mem = '7MB'")
    result = _as_api_role(db).execute("select 1")
    assert_raised(result, "22023", status=400)


@pytest.mark.commit
def test_the_role_isolation_level_is_the_transaction_s(db: Database) -> None:
    _role(db, "default_transaction_isolation = 'serializable'")
    try:
        result = _as_api_role(db).execute(
            "select current_setting('transaction_isolation') as level"
        )
        assert assert_allowed(result).rows == [{"level": "serializable"}]
        assert result.isolation == "serializable"
    finally:
        db.execute("drop owned by toolkit_api_role")
        db.execute("drop role toolkit_api_role")


@pytest.mark.commit
def test_a_function_isolation_level_is_the_transaction_s(db: Database) -> None:
    db.execute(
        "create function public.toolkit_level() returns text language sql"
        " set default_transaction_isolation = 'repeatable read'"
        " as $$ select current_setting('transaction_isolation') $$"
    )
    result = assert_allowed(db.as_anon().rpc("toolkit_level"))
    assert result.rows == [{"toolkit_level": "repeatable read"}]
