"""Requests set PostgREST's transaction-local settings and map errors to its HTTP statuses."""

from __future__ import annotations

import json

import pytest

from pgpolicy.postgrest.status import http_status
from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_raised
from pgpolicy.testing.harness import Database

_SETTINGS = (
    "select current_user as role,"
    " current_setting('request.jwt.claims', true) as claims,"
    " current_setting('request.method', true) as method,"
    " current_setting('request.path', true) as path,"
    " current_setting('request.headers', true) as headers,"
    " current_setting('request.jwt.claim.sub', true) as legacy_sub"
)


def test_request_sets_role_claims_method_path_headers(db: Database) -> None:
    alice = db.create_user("alice")
    row = assert_allowed(db.as_user(alice).execute(_SETTINGS, method="GET")).rows[0]
    claims = json.loads(row["claims"])
    assert row["role"] == "authenticated"
    assert claims["sub"] == str(alice.id)
    assert claims["role"] == "authenticated"
    assert {
        "aud",
        "exp",
        "iat",
        "email",
        "app_metadata",
        "user_metadata",
        "aal",
        "session_id",
        "is_anonymous",
        "amr",
    } <= set(claims)
    assert (row["method"], row["path"]) == ("GET", "/")
    assert json.loads(row["headers"])["accept"] == "application/json"
    # PostgREST v12 no longer sets the per-claim legacy settings.
    assert row["legacy_sub"] in (None, "")


def test_settings_do_not_leak_into_the_next_statement(db: Database) -> None:
    alice = db.create_user("alice")
    assert_allowed(db.as_user(alice).execute("select 1"))
    row = db.execute(_SETTINGS)[0]
    assert row["role"] != "authenticated"
    assert row["claims"] in (None, "")


def test_no_jwt_runs_as_anon_with_only_the_role_claim(db: Database) -> None:
    from pgpolicy.postgrest.identity import as_anon

    row = assert_allowed(db.request(as_anon(api_key=False)).execute(_SETTINGS)).rows[0]
    assert row["role"] == "anon"
    assert json.loads(row["claims"]) == {"role": "anon"}


def test_rpc_uses_named_arguments(db: Database) -> None:
    db.execute(
        "create function public.toolkit_greet(_name text, _punct text default '!')"
        " returns text language sql as $$ select 'hi ' || _name || _punct $$"
    )
    result = assert_allowed(db.as_anon().rpc("toolkit_greet", _punct="?", _name="bo"))
    assert result.rows == [{"toolkit_greet": "hi bo?"}]


def _raising_function(db: Database, sqlstate: str) -> None:
    db.execute(
        "create function public.toolkit_raise() returns void language plpgsql as"
        f" $$ begin raise exception 'no' using errcode = '{sqlstate}'; end $$"
    )


def test_insufficient_privilege_is_401_for_anon(db: Database) -> None:
    _raising_function(db, "42501")
    assert_denied(db.as_anon().rpc("toolkit_raise"), status=401)


def test_insufficient_privilege_is_403_for_a_signed_in_user(db: Database) -> None:
    _raising_function(db, "42501")
    alice = db.create_user("alice")
    assert_denied(db.as_user(alice).rpc("toolkit_raise"), status=403)


def test_insufficient_privilege_is_403_for_a_session_without_sub(db: Database) -> None:
    _raising_function(db, "42501")
    assert_denied(db.as_signed_in_without_sub().rpc("toolkit_raise"), status=403)


def test_raise_exception_is_400_and_invalid_parameter_is_400(db: Database) -> None:
    _raising_function(db, "P0001")
    assert_raised(db.as_anon().rpc("toolkit_raise"), "P0001", status=400)


def test_unique_violation_is_409(db: Database) -> None:
    db.execute("create table public.toolkit_unique (id int primary key)")
    db.execute("insert into public.toolkit_unique values (1)")
    result = db.as_service_role().execute("insert into public.toolkit_unique values (1)")
    assert_raised(result, "23505", status=409)


def test_a_failed_request_leaves_the_transaction_usable(db: Database) -> None:
    db.execute("create table public.toolkit_unique (id int primary key)")
    db.execute("insert into public.toolkit_unique values (1)")
    assert not db.as_service_role().execute("insert into public.toolkit_unique values (1)").ok
    assert db.scalar("select count(*) from public.toolkit_unique") == 1


@pytest.mark.parametrize(
    ("sqlstate", "authenticated", "status"),
    [
        ("42501", False, 401),
        ("42501", True, 403),
        ("23503", True, 409),
        ("23505", True, 409),
        ("P0001", True, 400),
        ("22023", True, 400),
        ("42883", True, 404),
        ("42P01", True, 404),
        ("53300", True, 503),
        ("PT418", True, 418),
        ("XX000", True, 500),
    ],
)
def test_http_status_mapping(sqlstate: str, authenticated: bool, status: int) -> None:
    assert http_status(sqlstate, authenticated=authenticated) == status
