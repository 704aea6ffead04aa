"""Each row of PostgREST's SQLSTATE -> HTTP status table, for each emulated release.

Expected statuses are read from ``pgErrorStatus`` in src/PostgREST/Error.hs at v12.2.12 and
v14.12; every error is really raised in the database, by a function the request calls.
"""

from __future__ import annotations

import json

import pytest

from pgpolicy.postgrest.identity import as_role
from pgpolicy.postgrest.request import Request
from pgpolicy.postgrest.version import SUPPORTED_POSTGREST_VERSIONS, PostgrestVersion
from pgpolicy.testing.assertions import assert_raised
from pgpolicy.testing.harness import Database

V12, V14 = SUPPORTED_POSTGREST_VERSIONS

_PGRST_MESSAGE = json.dumps({"code": "TK001", "message": "payment required"})
_PGRST_DETAIL = json.dumps({"status": 402, "headers": {"x-toolkit": "1"}})

# (condition, sqlstate, message, detail, status in v12.2, status in v14.12)
ROWS = [
    ("connection_exception", "08006", "x", None, 503, 503),
    ("triggered_action_exception", "09000", "x", None, 500, 500),
    ("invalid_grantor", "0L000", "x", None, 403, 403),
    ("invalid_role_specification", "0P000", "x", None, 403, 403),
    ("foreign_key_violation", "23503", "x", None, 409, 409),
    ("unique_violation", "23505", "x", None, 409, 409),
    ("read_only_sql_transaction", "25006", "x", None, 405, 405),
    ("safeupdate", "21000", "DELETE requires a WHERE clause", None, 400, 400),
    ("cardinality_violation", "21000", "more than one row returned", None, 500, 500),
    ("missing_role", "22023", 'role "nobody" does not exist', None, 400, 401),
    ("invalid_parameter_value", "22023", "bad value", None, 400, 400),
    ("invalid_transaction_state", "25001", "x", None, 500, 500),
    ("invalid_authorization_specification", "28000", "x", None, 403, 403),
    ("invalid_transaction_termination", "2D000", "x", None, 500, 500),
    ("external_routine_exception", "38000", "x", None, 500, 500),
    ("external_routine_invocation_exception", "39000", "x", None, 500, 500),
    ("savepoint_exception", "3B000", "x", None, 500, 500),
    ("transaction_rollback", "40001", "x", None, 500, 500),
    ("configuration_limit_exceeded", "53400", "x", None, 500, 500),
    ("insufficient_resources", "53200", "x", None, 503, 503),
    ("program_limit_exceeded", "54001", "x", None, 500, 500),
    ("object_not_in_prerequisite_state", "55000", "x", None, 500, 500),
    ("admin_shutdown", "57P01", "x", None, 503, 503),
    ("operator_intervention", "57014", "x", None, 500, 500),
    ("system_error", "58000", "x", None, 500, 500),
    ("config_file_error", "F0000", "x", None, 500, 500),
    ("fdw_error", "HV000", "x", None, 500, 500),
    ("raise_exception", "P0001", "x", None, 400, 400),
    ("plpgsql_error", "P0002", "x", None, 500, 500),
    ("internal_error", "XX000", "x", None, 500, 500),
    ("xmlagg", "42883", "function xmlagg(integer) does not exist", None, 406, 406),
    ("undefined_function", "42883", "function nope() does not exist", None, 404, 404),
    ("undefined_table", "42P01", "x", None, 404, 404),
    ("infinite_recursion", "42P17", "x", None, 500, 500),
    ("pt_status", "PT418", "x", None, 418, 418),
    ("pgrst_raise", "PGRST", _PGRST_MESSAGE, _PGRST_DETAIL, 402, 402),
    ("pgrst_unparsable", "PGRST", "not json", _PGRST_DETAIL, 500, 500),
    ("pgrst_without_headers", "PGRST", _PGRST_MESSAGE, '{"status": 402}', 500, 500),
    ("any_other", "22P02", "x", None, 400, 400),
]


def _request(db: Database, version: PostgrestVersion) -> Request:
    request = db.as_service_role()
    request.version = version
    return request


def _raiser(db: Database) -> None:
    db.execute(
        "create function public.toolkit_raise_as(_code text, _message text, _detail text)"
        " returns void language plpgsql as $$ begin"
        " if _detail is null then raise exception using errcode = _code, message = _message;"
        " else raise exception using errcode = _code, message = _message, detail = _detail;"
        " end if; end $$"
    )


@pytest.mark.parametrize("version", SUPPORTED_POSTGREST_VERSIONS, ids=str)
@pytest.mark.parametrize(
    ("sqlstate", "message", "detail", "v12", "v14"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_status_of_a_raised_sqlstate(
    db: Database,
    version: PostgrestVersion,
    sqlstate: str,
    message: str,
    detail: str | None,
    v12: int,
    v14: int,
) -> None:
    _raiser(db)
    result = _request(db, version).rpc(
        "toolkit_raise_as", _code=sqlstate, _message=message, _detail=detail
    )
    assert_raised(result, sqlstate, status=v12 if version == V12 else v14)


@pytest.mark.parametrize("version", SUPPORTED_POSTGREST_VERSIONS, ids=str)
def test_a_jwt_naming_a_missing_role(db: Database, version: PostgrestVersion) -> None:
    request = db.request(as_role("toolkit_no_such_role", {"role": "toolkit_no_such_role"}))
    request.version = version
    result = request.execute("select 1")
    assert_raised(result, "22023", status=400 if version == V12 else 401)


@pytest.mark.parametrize("version", SUPPORTED_POSTGREST_VERSIONS, ids=str)
def test_a_subquery_returning_two_rows_is_a_server_error(
    db: Database, version: PostgrestVersion
) -> None:
    result = _request(db, version).execute("select (select x from (values (1), (2)) v(x))")
    assert_raised(result, "21000", status=500)
