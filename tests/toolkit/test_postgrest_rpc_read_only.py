"""POST /rpc of a STABLE or IMMUTABLE function runs READ ONLY, as PostgREST runs it."""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database


def _writer(db: Database) -> None:
    db.execute("create table public.toolkit_rpc_log (id int generated always as identity)")
    db.execute("grant select, insert on public.toolkit_rpc_log to service_role")
    db.execute(
        "create function public.toolkit_rpc_write() returns int language sql as"
        " $$ insert into public.toolkit_rpc_log default values returning id $$"
    )


@pytest.mark.parametrize("volatility", ["stable", "immutable"])
def test_a_non_volatile_function_reaching_a_write_is_25006_and_405(
    db: Database, volatility: str
) -> None:
    _writer(db)
    db.execute(
        "create function public.toolkit_rpc_sneaky() returns int language plpgsql"
        f" {volatility} as $$ begin return public.toolkit_rpc_write(); end $$"
    )
    result = db.as_service_role().rpc("toolkit_rpc_sneaky")
    assert_raised(result, "25006", status=405)
    assert db.scalar("select count(*) from public.toolkit_rpc_log") == 0


def test_nextval_in_a_stable_function_is_25006(db: Database) -> None:
    db.execute("create sequence public.toolkit_rpc_seq")
    db.execute("grant usage on sequence public.toolkit_rpc_seq to service_role")
    db.execute(
        "create function public.toolkit_rpc_next() returns bigint language plpgsql stable"
        " as $$ begin return nextval('public.toolkit_rpc_seq'); end $$"
    )
    assert_raised(db.as_service_role().rpc("toolkit_rpc_next"), "25006", status=405)
    assert db.scalar("select is_called from public.toolkit_rpc_seq") is False


def test_a_volatile_function_writes_and_the_caller_stays_writable(db: Database) -> None:
    _writer(db)
    result = assert_allowed(db.as_service_role().rpc("toolkit_rpc_write"))
    assert result.rows == [{"toolkit_rpc_write": 1}]
    assert not result.read_only
    assert db.scalar("select count(*) from public.toolkit_rpc_log") == 1
