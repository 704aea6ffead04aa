"""The better design: RPCs that fail loudly (42501) without a user instead of doing nothing."""

from __future__ import annotations

import pytest
from conftest import World

from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_raised, assert_rows

TABLES = ("public.generations", "public.generation_ai_logs")


# complete_generation ---------------------------------------------------------------------
def test_complete_generation_without_a_user_fails_loudly(world: World) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        result = assert_denied(
            db.as_signed_in_without_sub().rpc(
                "complete_generation",
                _generation_id=world.generation_id,
                _status="completed",
                _response_ms=900,
            ),
            status=403,
        )
    assert result.message == "complete_generation needs a signed-in user or the service_role key"
    assert world.status() == "processing"


def test_complete_generation_is_not_executable_by_anon(world: World) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        assert_denied(
            db.as_anon().rpc(
                "complete_generation",
                _generation_id=world.generation_id,
                _status="completed",
                _response_ms=900,
            ),
            status=401,
        )


def test_service_role_completes_through_the_rpc_and_logs_the_error(world: World) -> None:
    db = world.db
    result = assert_allowed(
        db.as_service_role().rpc(
            "complete_generation",
            _generation_id=world.generation_id,
            _status="failed",
            _response_ms=30000,
            _error="model overloaded",
        ),
        rowcount=1,
    )
    assert result.rows[0]["status"] == "failed"
    assert world.status() == "failed"
    assert (
        db.scalar("select count(*) from public.generation_ai_logs where error = 'model overloaded'")
        == 1
    )


def test_owner_completes_their_own_generation(world: World) -> None:
    result = assert_allowed(
        world.db.as_user(world.owner).rpc(
            "complete_generation",
            _generation_id=world.generation_id,
            _status="completed",
            _response_ms=800,
        ),
        rowcount=1,
    )
    assert result.rows[0]["response_ms"] == 800


def test_another_user_cannot_complete_it_and_is_told_so(world: World) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        assert_denied(
            db.as_user(world.other).rpc(
                "complete_generation",
                _generation_id=world.generation_id,
                _status="completed",
                _response_ms=1,
            ),
            status=403,
        )


def test_completing_twice_is_refused(world: World) -> None:
    db = world.db
    args = {"_generation_id": world.generation_id, "_status": "completed", "_response_ms": 5}
    assert_allowed(db.as_service_role().rpc("complete_generation", **args))
    with db.unchanged(*TABLES):
        assert_denied(db.as_service_role().rpc("complete_generation", **args))


@pytest.mark.parametrize("status", ["processing", "done", None])
def test_an_unknown_outcome_is_bad_input(world: World, status: str | None) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        assert_raised(
            db.as_service_role().rpc(
                "complete_generation",
                _generation_id=world.generation_id,
                _status=status,
                _response_ms=5,
            ),
            "22023",
            status=400,
        )


# generation_status -----------------------------------------------------------------------
def test_owner_polls_the_status_endpoint(world: World) -> None:
    assert_rows(
        world.db.as_user(world.owner).rpc("generation_status", _generation_id=world.generation_id),
        [{"status": "processing", "response_ms": None, "completed_at": None}],
    )


def test_status_endpoint_without_a_user_fails_loudly(world: World) -> None:
    db = world.db
    assert_denied(
        db.as_signed_in_without_sub().rpc("generation_status", _generation_id=world.generation_id),
        status=403,
    )
    assert_denied(
        db.as_anon().rpc("generation_status", _generation_id=world.generation_id), status=401
    )


def test_status_endpoint_refuses_another_users_generation(world: World) -> None:
    assert_denied(
        world.db.as_user(world.other).rpc("generation_status", _generation_id=world.generation_id),
        status=403,
    )
