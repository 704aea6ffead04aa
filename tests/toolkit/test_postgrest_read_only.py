"""GET requests run read-only, as PostgREST runs table reads and ``GET /rpc``."""

from __future__ import annotations

from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database


def _table(db: Database) -> None:
    db.execute("create table public.toolkit_read_only (id int primary key)")
    db.execute("grant select, insert on public.toolkit_read_only to service_role")


def test_a_write_in_a_get_request_is_25006_and_405(db: Database) -> None:
    _table(db)
    result = db.as_service_role().execute(
        "insert into public.toolkit_read_only values (1)", method="GET"
    )
    assert_raised(result, "25006", status=405)
    assert db.scalar("select count(*) from public.toolkit_read_only") == 0


def test_a_get_request_reads_and_leaves_the_caller_transaction_writable(db: Database) -> None:
    _table(db)
    read = db.as_service_role().execute(
        "select current_setting('transaction_read_only') as ro", method="GET"
    )
    assert assert_allowed(read).rows == [{"ro": "on"}]
    written = db.as_service_role().execute("insert into public.toolkit_read_only values (2)")
    assert_allowed(written)
    assert db.scalar("select count(*) from public.toolkit_read_only") == 1
