"""auth.uid(), auth.role(), auth.email(), auth.jwt() read the request the way Supabase's do."""

from __future__ import annotations

import json
import uuid

from pgpolicy.testing.assertions import assert_allowed
from pgpolicy.testing.harness import Database


def _in_transaction(db: Database, settings: dict[str, str], query: str) -> object:
    """Set GUCs transaction-locally (in a savepoint), evaluate ``query``, undo the settings."""
    with db.conn.transaction(force_rollback=True):
        for name, value in settings.items():
            db.conn.execute("select set_config(%s, %s, true)", (name, value))
        return db.scalar(query)


def test_uid_comes_from_request_jwt_claims(db: Database) -> None:
    alice = db.create_user("alice")
    result = assert_allowed(db.as_user(alice).execute("select auth.uid() as uid"))
    assert result.rows == [{"uid": alice.id}]


def test_legacy_claim_sub_wins_over_claims_json(db: Database) -> None:
    legacy, modern = uuid.uuid4(), uuid.uuid4()
    settings = {
        "request.jwt.claim.sub": str(legacy),
        "request.jwt.claims": json.dumps({"sub": str(modern)}),
    }
    assert _in_transaction(db, settings, "select auth.uid()") == legacy


def test_uid_is_null_without_claims(db: Database) -> None:
    assert _in_transaction(db, {}, "select auth.uid()") is None


def test_uid_is_null_with_empty_claims(db: Database) -> None:
    settings = {"request.jwt.claims": "", "request.jwt.claim.sub": ""}
    assert _in_transaction(db, settings, "select auth.uid()") is None


def test_uid_is_null_for_signed_in_role_without_sub(db: Database) -> None:
    result = assert_allowed(db.as_signed_in_without_sub().execute("select auth.uid() as uid"))
    assert result.rows == [{"uid": None}]


def test_jwt_role_and_email_read_the_claims(db: Database) -> None:
    alice = db.create_user("alice", email="alice@example.test")
    row = assert_allowed(
        db.as_user(alice).execute(
            "select auth.jwt() ->> 'sub' as sub, auth.role() as role, auth.email() as email,"
            " auth.jwt() -> 'app_metadata' ->> 'provider' as provider"
        )
    ).rows[0]
    assert row == {
        "sub": str(alice.id),
        "role": "authenticated",
        "email": "alice@example.test",
        "provider": "email",
    }


def test_legacy_claim_overrides_jwt_and_role(db: Database) -> None:
    settings = {
        "request.jwt.claim": json.dumps({"role": "legacy"}),
        "request.jwt.claim.role": "service_role",
        "request.jwt.claims": json.dumps({"role": "anon"}),
    }
    assert _in_transaction(db, settings, "select auth.jwt() ->> 'role'") == "legacy"
    assert _in_transaction(db, settings, "select auth.role()") == "service_role"


def test_anon_request_has_anon_role_and_no_uid(db: Database) -> None:
    row = assert_allowed(
        db.as_anon().execute("select auth.uid() as uid, auth.role() as role, current_user as u")
    ).rows[0]
    assert row == {"uid": None, "role": "anon", "u": "anon"}
