"""Who reads, polls and completes a generation: the post-mortem, as tests.

The production failure: the job that finished a generation ran with the request's client after
the response was sent; its session was gone, RLS filtered its UPDATE to 0 rows without an
error, and the status stayed "processing" forever. The browser polled with a client that had
no session, and RLS returned nothing, also without an error.
"""

from __future__ import annotations

import pytest
from conftest import World

from pgpolicy.testing.assertions import (
    assert_allowed,
    assert_denied,
    assert_filtered,
    assert_rows,
)

_POLL = "select status from public.generations where id = %s"
_COMPLETE = (
    "update public.generations set status = 'completed', response_ms = 1200,"
    " completed_at = now() where id = %s"
)
TABLES = ("public.generations", "public.generation_ai_logs", "public.generation_proposals")


# owner -------------------------------------------------------------------------------------
def test_owner_starts_a_generation_that_is_processing(world: World) -> None:
    db, owner = world.db, world.owner
    result = assert_allowed(
        db.as_user(owner).execute(
            "insert into public.generations (input) values ('a poster') returning owner_id, status"
        ),
        rowcount=1,
    )
    assert result.rows == [{"owner_id": owner.id, "status": "processing"}]


def test_owner_cannot_start_a_generation_for_someone_else(world: World) -> None:
    db = world.db
    with db.unchanged("public.generations"):
        assert_denied(
            db.as_user(world.owner).execute(
                "insert into public.generations (owner_id, input) values (%s, 'x')",
                (world.other.id,),
            ),
            status=403,
        )


def test_owner_polls_their_generation(world: World) -> None:
    assert_rows(
        world.db.as_user(world.owner).execute(_POLL, (world.generation_id,)),
        [{"status": "processing"}],
    )


def test_owner_reads_the_proposals_and_ai_logs_of_their_generation(world: World) -> None:
    db = world.db
    assert_rows(
        db.as_user(world.owner).execute("select content from public.generation_proposals"),
        [{"content": "draft"}],
    )
    assert_rows(
        db.as_user(world.owner).execute("select error from public.generation_ai_logs"),
        [{"error": "timeout"}],
    )


# everyone else reads nothing, silently --------------------------------------------------------
@pytest.mark.parametrize("table", TABLES)
def test_anon_polling_is_filtered_not_an_error(world: World, table: str) -> None:
    assert_filtered(world.db.as_anon().execute(f"select * from {table}"))


@pytest.mark.parametrize("table", TABLES)
def test_another_user_reads_nothing(world: World, table: str) -> None:
    assert_filtered(world.db.as_user(world.other).execute(f"select * from {table}"))


@pytest.mark.parametrize("table", TABLES)
def test_a_session_without_user_reads_nothing(world: World, table: str) -> None:
    assert_filtered(world.db.as_signed_in_without_sub().execute(f"select * from {table}"))


# the lost-auth job, and the fix --------------------------------------------------------------
def test_lost_auth_job_update_is_filtered_and_the_status_stays_processing(world: World) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        assert_filtered(db.as_signed_in_without_sub().execute(_COMPLETE, (world.generation_id,)))
    assert world.status() == "processing"


def test_the_same_update_from_an_anon_client_is_filtered_too(world: World) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        assert_filtered(db.as_anon().execute(_COMPLETE, (world.generation_id,)))


def test_the_lost_auth_update_raises_nothing_only_its_row_count_shows_it(world: World) -> None:
    # "No error" is not success: the job's update reports 0 rows and changes nothing.
    result = world.db.as_signed_in_without_sub().execute(_COMPLETE, (world.generation_id,))
    assert result.ok
    with pytest.raises(AssertionError, match="should affect 1 row"):
        assert_allowed(result, rowcount=1)


def test_service_role_job_completes_the_generation(world: World) -> None:
    db = world.db
    assert_allowed(db.as_service_role().execute(_COMPLETE, (world.generation_id,)), rowcount=1)
    assert world.status() == "completed"
    assert_rows(
        db.as_user(world.owner).execute(_POLL, (world.generation_id,)),
        [{"status": "completed"}],
    )


def test_service_role_job_records_the_ai_error(world: World) -> None:
    db = world.db
    assert_allowed(
        db.as_service_role().execute(
            "insert into public.generation_ai_logs (generation_id, error) values (%s, 'quota')",
            (world.generation_id,),
        ),
        rowcount=1,
    )


def test_another_user_cannot_complete_someone_elses_generation(world: World) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        assert_filtered(db.as_user(world.other).execute(_COMPLETE, (world.generation_id,)))


@pytest.mark.parametrize("table", ["public.generation_ai_logs", "public.generation_proposals"])
def test_api_users_cannot_write_logs_or_proposals(world: World, table: str) -> None:
    db = world.db
    column = "error" if table.endswith("ai_logs") else "content"
    with db.unchanged(table):
        assert_denied(
            db.as_user(world.owner).execute(
                f"insert into {table} (generation_id, {column}) values (%s, 'forged')",
                (world.generation_id,),
            ),
            status=403,
        )


def test_nobody_deletes_a_generation_through_the_api(world: World) -> None:
    db = world.db
    with db.unchanged(*TABLES):
        assert_filtered(
            db.as_user(world.owner).execute(
                "delete from public.generations where id = %s", (world.generation_id,)
            )
        )
