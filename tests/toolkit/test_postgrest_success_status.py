"""Success answers as PostgREST's: 201 for inserts, 204 for minimal returns and void
functions, 200 otherwise, and the ``response.status`` a request sets."""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database


@pytest.fixture
def table(db: Database) -> Database:
    db.execute("create table public.toolkit_status (id int primary key, note text)")
    db.execute("grant select, insert, update, delete on public.toolkit_status to service_role")
    db.execute("insert into public.toolkit_status values (1, 'a')")
    return db


@pytest.mark.parametrize(
    ("statement", "status"),
    [
        ("insert into public.toolkit_status values (2, 'b')", 201),
        ("insert into public.toolkit_status values (2, 'b') returning *", 201),
        ("update public.toolkit_status set note = 'z' where id = 1", 204),
        ("update public.toolkit_status set note = 'z' where id = 1 returning *", 200),
        ("delete from public.toolkit_status where id = 1", 204),
        ("delete from public.toolkit_status where id = 1 returning id", 200),
        ("select * from public.toolkit_status", 200),
    ],
    ids=[
        "insert",
        "insert-representation",
        "update-minimal",
        "update-representation",
        "delete-minimal",
        "delete-representation",
        "select",
    ],
)
def test_success_status_of_a_statement(table: Database, statement: str, status: int) -> None:
    result = assert_allowed(table.as_service_role().execute(statement))
    assert result.status == status


def test_a_void_function_answers_204_and_a_value_200(db: Database) -> None:
    db.execute("create function public.toolkit_void() returns void language sql as $$ $$")
    db.execute("create function public.toolkit_one() returns int language sql as $$ select 1 $$")
    assert assert_allowed(db.as_anon().rpc("toolkit_void")).status == 204
    assert assert_allowed(db.as_anon().rpc("toolkit_one")).status == 200


def test_response_status_set_by_a_function_is_the_answer(db: Database) -> None:
    db.execute(
        "create function public.toolkit_accepted() returns int language plpgsql as $$"
        " begin perform set_config('response.status', '202', true); return 1; end $$"
    )
    result = assert_allowed(db.as_anon().rpc("toolkit_accepted"))
    assert result.status == 202
    # It is the request's own: the next request answers as usual.
    assert db.as_anon().execute("select 1").status == 200


def test_a_response_status_that_is_no_number_is_pgrst112(db: Database) -> None:
    result = db.as_anon().execute("select set_config('response.status', 'teapot', true)")
    assert_raised(result, "PGRST112", status=500)
