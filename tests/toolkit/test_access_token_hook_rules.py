"""The access token hook as Supabase Auth calls it: which function, with what input, under
which timeout, and which answers it signs or refuses (500, no token)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgpolicy.auth import HookConfig, HookError, resolve_hook_config
from pgpolicy.auth.config import HookConfigError, hook_from_uri
from pgpolicy.testing.harness import Database

pytestmark = pytest.mark.commit  # Auth's connection sees only committed hooks


def _hook(db: Database, body: str, *, name: str = "public.custom_access_token_hook") -> None:
    """Create ``name(event jsonb)`` returning ``body`` (SQL over ``event``), granted to Auth."""
    db.execute(
        f"create function {name}(event jsonb) returns jsonb language sql volatile as $$ {body} $$"
    )
    db.execute(f"grant execute on function {name}(jsonb) to supabase_auth_admin")


def _with(extra: str) -> str:
    """A hook answer: the default claims with ``extra`` (a jsonb expression) merged in."""
    return f"select jsonb_build_object('claims', (event -> 'claims') || {extra})"


def test_the_hook_gets_auths_metadata_and_the_authentication_method(db: Database) -> None:
    _hook(
        db,
        _with(
            "jsonb_build_object('hook_name', event -> 'metadata' ->> 'name',"
            " 'has_uuid', (event -> 'metadata' ->> 'uuid') is not null,"
            " 'method', event ->> 'authentication_method')"
        ),
    )
    alice = db.create_user("alice")
    claims = db.claims_for(alice)
    assert (claims["hook_name"], claims["has_uuid"], claims["method"]) == (
        "customize-access-token",
        True,
        "password",
    )
    assert db.claims_for(alice, method="token_refresh")["method"] == "token_refresh"


def test_a_refreshed_token_is_minted_with_the_method_token_refresh(db: Database) -> None:
    _hook(db, _with("jsonb_build_object('method', event ->> 'authentication_method')"))
    db.execute("create table public.hooked (id int primary key)")
    db.execute("alter publication supabase_realtime add table public.hooked")
    alice = db.create_user("alice")
    subscription = db.subscribe("public.hooked", as_=alice)
    assert subscription.identity.claims is not None
    assert subscription.identity.claims["method"] == "password"
    refreshed = db.refresh_token(subscription, alice)
    assert refreshed.identity.claims is not None
    assert refreshed.identity.claims["method"] == "token_refresh"


def test_the_hook_runs_under_auths_two_second_statement_timeout(db: Database) -> None:
    _hook(db, _with("jsonb_build_object('timeout', current_setting('statement_timeout'))"))
    assert db.claims_for(db.create_user("alice"))["timeout"] == "2s"


def test_a_hook_slower_than_its_timeout_issues_no_token(db: Database) -> None:
    _hook(db, "select pg_sleep(0.5); " + _with("'{}'::jsonb"))
    db.access_token_hook = HookConfig(timeout_ms=100)
    with pytest.raises(HookError, match="statement timeout") as raised:
        db.claims_for(db.create_user("alice"))
    assert (raised.value.status, raised.value.sqlstate) == (500, "57014")


def test_what_the_hook_writes_is_committed_with_the_token(db: Database) -> None:
    db.execute("create table public.token_log (user_id uuid)")
    db.execute("grant insert on public.token_log to supabase_auth_admin")
    _hook(
        db,
        "insert into public.token_log values ((event ->> 'user_id')::uuid); "
        + _with("'{}'::jsonb"),
    )
    alice = db.create_user("alice")
    db.claims_for(alice)
    assert db.scalar("select count(*) from public.token_log where user_id = %s", (alice.id,)) == 1


def test_a_hook_in_another_schema_is_called_when_configured(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.execute("create schema hooks")
    db.execute("grant usage on schema hooks to supabase_auth_admin")
    _hook(db, _with('\'{"from": "hooks"}\'::jsonb'), name="hooks.mint")
    _hook(db, _with('\'{"from": "public"}\'::jsonb'))
    monkeypatch.setenv("PGPOLICY_ACCESS_TOKEN_HOOK", "pg-functions://postgres/hooks/mint")
    db.access_token_hook = resolve_hook_config()
    assert db.claims_for(db.create_user("alice"))["from"] == "hooks"


def test_a_hook_left_disabled_in_config_toml_is_not_called(db: Database, tmp_path: Path) -> None:
    _hook(db, _with('\'{"from": "hook"}\'::jsonb'))
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "config.toml").write_text(
        '[auth.hook.custom_access_token]\nenabled = false\nuri = "pg-functions://postgres/public/custom_access_token_hook"\n'
    )
    db.access_token_hook = resolve_hook_config(tmp_path, env={})
    assert "from" not in db.claims_for(db.create_user("alice"))


def test_a_hook_configured_but_missing_issues_no_token(db: Database) -> None:
    db.access_token_hook = hook_from_uri("pg-functions://postgres/public/nowhere", source="test")
    with pytest.raises(HookError, match="does not exist"):
        db.claims_for(db.create_user("alice"))


def test_an_http_hook_uri_is_refused_with_a_sentence() -> None:
    with pytest.raises(HookConfigError, match="HTTP hooks are not emulated"):
        hook_from_uri("https://example.test/hook", source="config.toml")


REFUSED = {
    "claims without sub": "select jsonb_build_object('claims', (event -> 'claims') - 'sub')",
    "claims without role": "select jsonb_build_object('claims', (event -> 'claims') - 'role')",
    "claims without session_id": (
        "select jsonb_build_object('claims', (event -> 'claims') - 'session_id')"
    ),
    "claims without is_anonymous": (
        "select jsonb_build_object('claims', (event -> 'claims') - 'is_anonymous')"
    ),
    "exp as a string": _with("jsonb_build_object('exp', 'tomorrow')"),
    "app_metadata as a string": _with("jsonb_build_object('app_metadata', 'admin')"),
    "role as a number": _with("jsonb_build_object('role', 123)"),
    "claims null": "select jsonb_build_object('claims', null)",
    "no claims field": "select jsonb_build_object('something', 'else')",
    "an answer that is no object": "select to_jsonb('claims'::text)",
    "an error with a message": (
        "select jsonb_build_object('error', jsonb_build_object('http_code', 429,"
        " 'message', 'slow down'), 'claims', event -> 'claims')"
    ),
}


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
def test_auth_refuses_to_sign_these_answers(db: Database, body: str) -> None:
    _hook(db, body)
    with pytest.raises(HookError, match="refused"):
        db.claims_for(db.create_user("alice"))


def test_a_refusal_carries_the_hooks_http_code_or_500(db: Database) -> None:
    _hook(db, REFUSED["an error with a message"])
    with pytest.raises(HookError, match="slow down") as raised:
        db.claims_for(db.create_user("alice"))
    assert raised.value.status == 429


ACCEPTED = {
    "an error without a message": (
        "select jsonb_build_object('error', jsonb_build_object('http_code', 403),"
        " 'claims', event -> 'claims')"
    ),
    "error null": ("select jsonb_build_object('error', null, 'claims', event -> 'claims')"),
    "aud as an array": _with("jsonb_build_object('aud', jsonb_build_array('authenticated'))"),
}


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_auth_signs_these_answers(db: Database, body: str) -> None:
    _hook(db, body)
    alice = db.create_user("alice")
    assert db.claims_for(alice)["sub"] == str(alice.id)


def test_without_sub_the_token_is_refused_rather_than_a_null_auth_uid(db: Database) -> None:
    """Before, such claims were accepted and every policy saw auth.uid() as NULL."""
    _hook(db, "select jsonb_build_object('claims', (event -> 'claims') - 'sub')")
    with pytest.raises(HookError, match="sub"):
        db.as_user(db.create_user("alice"))
