"""Proof coverage: what an attempt exercises, and `pytest --pgpolicy-coverage` end to end."""

from __future__ import annotations

import textwrap
import uuid

import pytest

from pgpolicy.analysis.coverage import CoverageCell, cells_of, missing_cells
from pgpolicy.postgrest.attempts import Attempt, AttemptKind, listen, muted, notify
from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.identity import (
    Identity,
    as_anon,
    as_service_role,
    as_signed_in_without_sub,
    as_user,
)

pytest_plugins = ["pytester"]

ALICE = as_user(Actor(id=uuid.UUID(int=1)))


def cells(
    identity: Identity, kind: AttemptKind, target: str, topics: list[str] | None = None
) -> set[str]:
    attempt = Attempt(identity, kind, target)
    return {str(c) for c in cells_of(attempt, topics or [])}


def test_a_statement_covers_its_target_and_the_tables_it_reads() -> None:
    got = cells(
        ALICE,
        "sql",
        "insert into public.notes (body) select body from drafts where owner = %s",
    )
    assert got == {"authenticated: public.notes insert", "authenticated: public.drafts select"}


def test_update_delete_and_function_calls_in_sql() -> None:
    assert cells(as_anon(), "sql", "update public.notes set body = 'x'") == {
        "anon: public.notes update"
    }
    assert cells(as_signed_in_without_sub(), "sql", "delete from notes") == {
        "authenticated without sub: public.notes delete"
    }
    assert cells(as_service_role(), "sql", "select * from public.note_count()") == {
        "service_role: public.note_count() execute",
        "service_role: public.note_count() call",
    }


def test_an_rpc_covers_execute_and_call() -> None:
    assert cells(ALICE, "rpc", "public.send") == {
        "authenticated: public.send() execute",
        "authenticated: public.send() call",
    }


def test_a_join_covers_the_topic_patterns_it_matches() -> None:
    got = cells(ALICE, "join", "room:42", ["room:<id>", "chat:<thread_id>"])
    assert got == {
        f"authenticated: topic room:<id> {op} {ext}"
        for op in ("read", "write")
        for ext in ("broadcast", "presence")
    }
    assert cells(ALICE, "join", "room:", ["room:<id>"]) == set()


def test_overloads_are_matched_by_name() -> None:
    expected = {CoverageCell("public.f(integer)", "call", "anon")}
    assert missing_cells(expected, {CoverageCell("public.f()", "call", "anon")}) == []


def test_muted_attempts_are_not_recorded() -> None:
    seen: list[Attempt] = []
    stop = listen(seen.append)
    try:
        with muted():
            notify(Attempt(ALICE, "rpc", "public.hidden"))
        notify(Attempt(ALICE, "rpc", "public.shown"))
    finally:
        stop()
    assert [a.target for a in seen] == ["public.shown"]


MATRIX = """
[actors.owner]
kind = "user"
[actors.anon]
kind = "anon"
[expect."public.notes"]
select = { owner = "allowed", anon = "filtered" }
insert = { owner = "allowed", anon = "denied" }
"""

PROOFS = """
from pgpolicy.postgrest.attempts import Attempt, notify
from pgpolicy.postgrest.identity import as_anon

def test_anon_reads_notes():
    notify(Attempt(as_anon(), "sql", "select * from public.notes"))
"""


def test_pytest_reports_the_cells_never_exercised(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", matrix=textwrap.dedent(MATRIX))
    pytester.makepyfile(test_proofs=PROOFS)
    result = pytester.runpytest_inprocess(
        "--pgpolicy-coverage", "--pgpolicy-matrix", "matrix.toml", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(
        [
            "*matrix.toml: 1/4 cells exercised (25.0%)*",
            "*never exercised: anon: public.notes insert",
            "*never exercised: authenticated: public.notes insert",
            "*never exercised: authenticated: public.notes select",
        ]
    )
    assert result.ret == 0


def test_fail_under_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", matrix=textwrap.dedent(MATRIX))
    pytester.makepyfile(test_proofs=PROOFS)
    result = pytester.runpytest_inprocess(
        "--pgpolicy-coverage-fail-under", "100", "--pgpolicy-matrix", "matrix.toml"
    )
    result.stdout.fnmatch_lines(["*FAILED: coverage 25.0% is below 100.0%*"])
    assert result.ret == 1
