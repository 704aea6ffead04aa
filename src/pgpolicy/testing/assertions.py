"""Assertions that tell apart *allowed*, *raised SQLSTATE X* and *silently filtered*.

The names read like the rule they prove (pgTAP style). Each takes a :class:`Result` and
fails with a message naming the actor and what the database really answered.
"""

from __future__ import annotations

from pgpolicy.postgrest.request import Result


def _describe(result: Result) -> str:
    if result.ok:
        return f"it succeeded with {result.rowcount} row(s): {result.rows[:3]!r}"
    return f"it raised {result.sqlstate}: {result.message}"


def assert_allowed(result: Result, *, rowcount: int | None = None) -> Result:
    """The request succeeded (and touched exactly ``rowcount`` rows when given)."""
    assert result.ok, f"{result.identity} should be allowed, but {_describe(result)}"
    if rowcount is not None:
        assert result.rowcount == rowcount, (
            f"{result.identity} should affect {rowcount} row(s), but {_describe(result)}"
        )
    return result


def assert_raised(result: Result, sqlstate: str, *, status: int | None = None) -> Result:
    """The request raised ``sqlstate`` (and PostgREST would answer ``status``)."""
    assert not result.ok, f"{result.identity} should get {sqlstate}, but {_describe(result)}"
    assert result.sqlstate == sqlstate, (
        f"{result.identity} should get {sqlstate}, but {_describe(result)}"
    )
    if status is not None:
        assert result.status == status, (
            f"{result.identity}: {sqlstate} should answer HTTP {status}, not {result.status}"
        )
    return result


def assert_denied(result: Result, *, status: int | None = None) -> Result:
    """The request raised insufficient_privilege (42501): a loud refusal."""
    return assert_raised(result, "42501", status=status)


def assert_filtered(result: Result) -> Result:
    """The request succeeded but saw or touched nothing: RLS silently filtered it.

    Pair it with ``Database.unchanged`` to prove the data is untouched as well.
    """
    assert result.ok, f"{result.identity} should be silently filtered, but {_describe(result)}"
    assert result.rowcount == 0 and not result.rows, (
        f"{result.identity} should see/affect no rows, but {_describe(result)}"
    )
    return result


def assert_rows(result: Result, expected: list[dict[str, object]]) -> Result:
    """The request succeeded and returned exactly these rows, in this order."""
    assert result.ok, f"{result.identity} should get rows, but {_describe(result)}"
    assert result.rows == expected, f"{result.identity} got {result.rows!r}, expected {expected!r}"
    return result
