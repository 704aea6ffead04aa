"""What a request's SQL can read about the HTTP request: ``request.path`` and
``request.headers`` as PostgREST sets them, and the db-pre-request function it calls."""

from __future__ import annotations

import base64
import json

import pytest

from pgpolicy.postgrest.request import PRE_REQUEST_ENV, Request
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database

_CONTEXT = (
    "select current_setting('request.path', true) as path,"
    " current_setting('request.headers', true)::json as headers"
)


def _claims_of(bearer: str) -> dict[str, object]:
    payload = bearer.removeprefix("Bearer ").split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_headers_carry_the_token_lower_cased_without_cookie(db: Database) -> None:
    alice = db.create_user("alice")
    request = db.as_user(alice)
    request.headers = {"Cookie": "sb=1", "X-Custom": "yes"}
    headers = assert_allowed(request.execute(_CONTEXT)).rows[0]["headers"]
    assert _claims_of(headers["authorization"])["sub"] == str(alice.id)
    assert _claims_of(headers["apikey"])["role"] == "anon"
    assert headers["x-custom"] == "yes"
    assert "cookie" not in headers and "Cookie" not in headers
    assert all(name == name.lower() for name in headers)


def test_a_request_without_a_jwt_sends_no_authorization(db: Database) -> None:
    from pgpolicy.postgrest.identity import as_anon

    headers = assert_allowed(db.request(as_anon(api_key=False)).execute(_CONTEXT)).rows[0]
    assert "authorization" not in headers["headers"]


def test_the_path_names_the_table_or_the_function(db: Database) -> None:
    db.execute("create table public.toolkit_notes (id int)")
    db.execute("grant select on public.toolkit_notes to anon")
    db.execute(
        "create function public.toolkit_where() returns text language sql"
        " as $$ select current_setting('request.path', true) $$"
    )
    read = db.as_anon().execute(
        "select current_setting('request.path', true) as path from public.toolkit_notes"
        " right join (select 1) one on true"
    )
    assert assert_allowed(read).rows == [{"path": "/toolkit_notes"}]
    called = assert_allowed(db.as_anon().rpc("toolkit_where"))
    assert called.rows == [{"toolkit_where": "/rpc/toolkit_where"}]


def _pre_request(db: Database) -> None:
    db.execute(
        "create function public.toolkit_gate() returns void language plpgsql as $$ begin"
        " if current_setting('request.headers', true)::json ->> 'x-blocked' = 'yes' then"
        "   raise sqlstate 'PT403' using message = 'blocked';"
        " end if;"
        " perform set_config('toolkit.seen', current_setting('request.jwt.claims', true), true);"
        " end $$"
    )
    db.execute("grant execute on function public.toolkit_gate() to anon")


def test_db_pre_request_runs_after_the_claims_are_set(db: Database) -> None:
    _pre_request(db)
    request = db.as_anon()
    request.pre_request = "public.toolkit_gate"
    row = assert_allowed(request.execute("select current_setting('toolkit.seen') as seen")).rows
    assert json.loads(row[0]["seen"])["role"] == "anon"
    request.headers = {"x-blocked": "yes"}
    assert_raised(request.rpc("toolkit_nothing_runs"), "PGRST202", status=404)
    assert_raised(request.execute("select 1"), "PT403", status=403)


def test_db_pre_request_from_the_environment(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _pre_request(db)
    monkeypatch.setenv(PRE_REQUEST_ENV, "public.toolkit_gate")
    request = Request(db.conn, db.as_anon().identity, headers={"x-blocked": "yes"})
    assert_raised(request.execute("select 1"), "PT403", status=403)
