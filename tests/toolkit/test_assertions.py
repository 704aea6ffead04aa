"""The assertions: SQLSTATE by code or psycopg class, message and hint, unordered rows, and
failures that point at the test's line rather than at the helper."""

from __future__ import annotations

import psycopg
import pytest

from pgpolicy.testing.assertions import (
    assert_denied,
    assert_raised,
    assert_rows_unordered,
)
from pgpolicy.testing.harness import Database

pytest_plugins = ["pytester"]

RAISE = (
    "do $$ begin raise exception 'not signed in' using errcode = '42501',"
    " detail = 'auth.uid() is null', hint = 'Sign in first.'; end $$"
)


def test_a_result_keeps_message_detail_and_hint(db: Database) -> None:
    result = db.as_anon().execute(RAISE)
    assert (result.sqlstate, result.message, result.detail, result.hint) == (
        "42501",
        "not signed in",
        "auth.uid() is null",
        "Sign in first.",
    )


def test_assert_raised_takes_a_psycopg_error_class(db: Database) -> None:
    result = db.as_anon().execute(RAISE)
    assert_raised(result, psycopg.errors.InsufficientPrivilege, status=401)
    with pytest.raises(AssertionError, match="should get 23505"):
        assert_raised(result, psycopg.errors.UniqueViolation)


def test_assert_raised_checks_message_and_hint(db: Database) -> None:
    result = db.as_anon().execute(RAISE)
    assert_denied(result, message="not signed in", hint="Sign in first.")
    with pytest.raises(AssertionError, match="should say 'denied'"):
        assert_denied(result, message="denied")
    with pytest.raises(AssertionError, match=r"should hint 'Try later\.'"):
        assert_denied(result, hint="Try later.")


def test_rows_unordered_ignores_order_but_counts_duplicates(db: Database) -> None:
    result = db.as_anon().execute("select x from (values (2), (1), (2)) v(x)")
    assert_rows_unordered(result, [{"x": 1}, {"x": 2}, {"x": 2}])
    with pytest.raises(AssertionError, match="missing"):
        assert_rows_unordered(result, [{"x": 1}, {"x": 2}])


def test_a_failing_assertion_points_at_the_test_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_hidden="""
        from pgpolicy.postgrest.identity import as_anon
        from pgpolicy.postgrest.request import Result
        from pgpolicy.testing.assertions import assert_denied

        def test_fails():
            assert_denied(Result(identity=as_anon()))
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert_denied(Result(identity=as_anon()))*"])
    assert "assertions.py" not in result.stdout.str()
