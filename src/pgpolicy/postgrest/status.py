"""How PostgREST turns a raised SQLSTATE into an HTTP status, release by release.

The table follows ``pgErrorStatus`` in PostgREST's src/PostgREST/Error.hs (v12.2.0-v12.2.12 are
identical; v14.0-v14.12 add the 22023 row). Each row names its condition; a row keyed by a
two-character class covers every code of the class that no exact row takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pgpolicy.postgrest.version import PostgrestVersion, resolve_postgrest_version

__all__ = ["StatusRule", "http_status", "pgrst_raise_status", "status_table"]

Test = Callable[[str], bool]  # on the error's message


@dataclass(frozen=True)
class StatusRule:
    """One row: ``sqlstate`` (five characters, or a class of two) answered ``status``."""

    sqlstate: str
    condition: str
    status: int
    when: Test | None = None  # the row applies only to messages passing this test
    otherwise: int | None = None  # the status when ``when`` fails
    since: PostgrestVersion | None = None

    def applies_to(self, sqlstate: str) -> bool:
        return sqlstate == self.sqlstate or (
            len(self.sqlstate) == 2 and sqlstate[:2] == self.sqlstate
        )

    def answer(self, message: str) -> int | None:
        if self.when is None or self.when(message):
            return self.status
        return self.otherwise


def _safeupdate(message: str) -> bool:
    return message.endswith("requires a WHERE clause")


def _missing_role(message: str) -> bool:
    return message.startswith("role") and message.endswith("does not exist")


def _xmlagg(message: str) -> bool:
    return message.startswith("function xmlagg(")


_ROWS: tuple[StatusRule, ...] = (
    StatusRule("08", "connection_exception", 503),
    StatusRule("09", "triggered_action_exception", 500),
    StatusRule("0L", "invalid_grantor", 403),
    StatusRule("0P", "invalid_role_specification", 403),
    StatusRule("23503", "foreign_key_violation", 409),
    StatusRule("23505", "unique_violation", 409),
    StatusRule("25006", "read_only_sql_transaction", 405),
    # pg-safeupdate's refusal is a client error; any other cardinality_violation ("more than
    # one row returned by a subquery used as an expression") is the server's.
    StatusRule(
        "21000", "cardinality_violation: ... requires a WHERE clause", 400, _safeupdate, 500
    ),
    StatusRule(
        "22023",
        "invalid_parameter_value: role ... does not exist",
        401,
        _missing_role,
        400,
        since=PostgrestVersion(13, 0, 1),
    ),
    StatusRule("25", "invalid_transaction_state", 500),
    StatusRule("28", "invalid_authorization_specification", 403),
    StatusRule("2D", "invalid_transaction_termination", 500),
    StatusRule("38", "external_routine_exception", 500),
    StatusRule("39", "external_routine_invocation_exception", 500),
    StatusRule("3B", "savepoint_exception", 500),
    StatusRule("40", "transaction_rollback", 500),
    StatusRule("53400", "configuration_limit_exceeded", 500),
    StatusRule("53", "insufficient_resources", 503),
    StatusRule("54", "program_limit_exceeded", 500),
    StatusRule("55", "object_not_in_prerequisite_state", 500),
    StatusRule("57P01", "admin_shutdown", 503),
    StatusRule("57", "operator_intervention", 500),
    StatusRule("58", "system_error", 500),
    StatusRule("F0", "config_file_error", 500),
    StatusRule("HV", "fdw_error", 500),
    StatusRule("P0001", "raise_exception", 400),
    StatusRule("P0", "plpgsql_error", 500),
    StatusRule("XX", "internal_error", 500),
    StatusRule("42883", "undefined_function: function xmlagg(...)", 406, _xmlagg, 404),
    StatusRule("42P01", "undefined_table", 404),
    StatusRule("42P17", "invalid_object_definition (infinite recursion)", 500),
)

DEFAULT_STATUS = 400  # every other SQLSTATE
PGRST_PARSE_ERROR_STATUS = 500  # PGRST121: a PGRST raise whose MESSAGE or DETAIL is not valid


def status_table(version: PostgrestVersion | None = None) -> tuple[StatusRule, ...]:
    """The rows ``version`` (default: the selected release) has, in PostgREST's order."""
    chosen = version or resolve_postgrest_version()
    return tuple(row for row in _ROWS if row.since is None or chosen >= row.since)


def pgrst_raise_status(message: str, detail: str | None) -> int:
    """``RAISE sqlstate 'PGRST' USING message = '{"code":..,"message":..}', detail =
    '{"status":..,"headers":{..}}'``: the status the DETAIL names, else 500 (PGRST121)."""
    try:
        body = json.loads(message)
        details = json.loads(detail) if detail is not None else None
    except ValueError:
        return PGRST_PARSE_ERROR_STATUS
    if not (isinstance(body, dict) and {"code", "message"} <= body.keys()):
        return PGRST_PARSE_ERROR_STATUS
    if not (isinstance(details, dict) and {"status", "headers"} <= details.keys()):
        return PGRST_PARSE_ERROR_STATUS
    status = details["status"]
    if isinstance(status, bool) or not isinstance(status, int):
        return PGRST_PARSE_ERROR_STATUS
    return status


def http_status(
    sqlstate: str,
    *,
    authenticated: bool,
    message: str = "",
    detail: str | None = None,
    version: PostgrestVersion | None = None,
) -> int:
    """Return the HTTP status PostgREST answers for an error with this SQLSTATE.

    ``authenticated`` is whether the request carried a JWT whose role is not the anonymous
    role: insufficient privilege (42501) is 401 without one and 403 with one. ``message`` and
    ``detail`` are the error's, which some rows (21000, 22023, 42883, PGRST) look at.
    """
    if sqlstate == "42501":  # insufficient_privilege
        return 403 if authenticated else 401
    if sqlstate == "PGRST":
        return pgrst_raise_status(message, detail)
    if sqlstate.startswith("PT"):  # a RAISE choosing its status: PT404 -> 404
        code = sqlstate[2:]
        return int(code) if code.isdigit() else 500
    rows = status_table(version)
    for exact in (True, False):
        for row in rows:
            if (len(row.sqlstate) == 5) == exact and row.applies_to(sqlstate):
                answer = row.answer(message)
                return DEFAULT_STATUS if answer is None else answer
    return DEFAULT_STATUS
