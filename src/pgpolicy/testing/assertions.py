"""Assertions that tell apart *allowed*, *raised SQLSTATE X* and *silently filtered*.

The names read like the rule they prove (pgTAP style). Each takes a :class:`Result` and
fails with a message naming the actor and what the database really answered; their frames
are hidden from pytest's tracebacks, so a failure points at the test's line.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg

from pgpolicy.postgrest.request import Result

__all__ = [
    "assert_allowed",
    "assert_denied",
    "assert_filtered",
    "assert_raised",
    "assert_rows",
    "assert_rows_unordered",
]

SqlState = str | type[psycopg.Error]


def _describe(result: Result) -> str:
    if result.ok:
        return f"it succeeded with {result.rowcount} row(s): {result.rows[:3]!r}"
    hint = f" (hint: {result.hint})" if result.hint else ""
    return f"it raised {result.sqlstate}: {result.message}{hint}"


def _code(sqlstate: SqlState) -> str:
    """``"42501"`` as given, or the SQLSTATE of a psycopg error class (InsufficientPrivilege)."""
    if isinstance(sqlstate, str):
        return sqlstate
    code = getattr(sqlstate, "sqlstate", None)
    if not isinstance(code, str):
        raise TypeError(f"{sqlstate!r} names no SQLSTATE: pass e.g. psycopg.errors.UniqueViolation")
    return code


def assert_allowed(result: Result, *, rowcount: int | None = None) -> Result:
    """The request succeeded (and touched exactly ``rowcount`` rows when given)."""
    __tracebackhide__ = True
    assert result.ok, f"{result.identity} should be allowed, but {_describe(result)}"
    if rowcount is not None:
        assert result.rowcount == rowcount, (
            f"{result.identity} should affect {rowcount} row(s), but {_describe(result)}"
        )
    return result


def assert_raised(
    result: Result,
    sqlstate: SqlState,
    *,
    status: int | None = None,
    message: str | None = None,
    hint: str | None = None,
) -> Result:
    """The request raised ``sqlstate`` ("42501" or ``errors.InsufficientPrivilege``), with
    exactly this ``message`` and ``hint`` when given, and PostgREST would answer ``status``."""
    __tracebackhide__ = True
    code = _code(sqlstate)
    assert not result.ok, f"{result.identity} should get {code}, but {_describe(result)}"
    assert result.sqlstate == code, f"{result.identity} should get {code}, but {_describe(result)}"
    if message is not None:
        assert result.message == message, (
            f"{result.identity}: {code} should say {message!r}, not {result.message!r}"
        )
    if hint is not None:
        assert result.hint == hint, (
            f"{result.identity}: {code} should hint {hint!r}, not {result.hint!r}"
        )
    if status is not None:
        assert result.status == status, (
            f"{result.identity}: {code} should answer HTTP {status}, not {result.status}"
        )
    return result


def assert_denied(
    result: Result,
    *,
    status: int | None = None,
    message: str | None = None,
    hint: str | None = None,
) -> Result:
    """The request raised insufficient_privilege (42501): a loud refusal."""
    __tracebackhide__ = True
    return assert_raised(result, "42501", status=status, message=message, hint=hint)


def assert_filtered(result: Result) -> Result:
    """The request succeeded but saw or touched nothing: RLS silently filtered it.

    Pair it with ``Database.unchanged`` to prove the data is untouched as well.
    """
    __tracebackhide__ = True
    assert result.ok, f"{result.identity} should be silently filtered, but {_describe(result)}"
    assert result.rowcount == 0 and not result.rows, (
        f"{result.identity} should see/affect no rows, but {_describe(result)}"
    )
    return result


def assert_rows(result: Result, expected: list[dict[str, object]]) -> Result:
    """The request succeeded and returned exactly these rows, in this order (results_eq)."""
    __tracebackhide__ = True
    assert result.ok, f"{result.identity} should get rows, but {_describe(result)}"
    assert result.rows == expected, f"{result.identity} got {result.rows!r}, expected {expected!r}"
    return result


def _hashable(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, repr(value)) for key, value in row.items()))


def assert_rows_unordered(result: Result, expected: list[dict[str, object]]) -> Result:
    """The request returned exactly these rows, in any order, duplicates counted (set_eq)."""
    __tracebackhide__ = True
    assert result.ok, f"{result.identity} should get rows, but {_describe(result)}"
    got = Counter(_hashable(row) for row in result.rows)
    want = Counter(_hashable(row) for row in expected)
    if got != want:
        extra = [dict(row) for row in (got - want).elements()]
        missing = [dict(row) for row in (want - got).elements()]
        raise AssertionError(
            f"{result.identity} got other rows: unexpected {extra!r}, missing {missing!r}"
        )
    return result
