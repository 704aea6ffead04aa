"""How PostgREST (v12) turns a raised SQLSTATE into an HTTP status."""

from __future__ import annotations

# Exact codes first, then two-character class prefixes, as PostgREST's error mapping does.
_EXACT: dict[str, int] = {
    "23503": 409,  # foreign_key_violation
    "23505": 409,  # unique_violation
    "25006": 405,  # read_only_sql_transaction
    "42883": 404,  # undefined_function
    "42P01": 404,  # undefined_table
    "42P17": 500,  # invalid_object_definition (e.g. infinite recursion in a policy)
    "P0001": 400,  # raise_exception (a RAISE without its own errcode)
}
_CLASS: dict[str, int] = {
    "08": 503,  # connection_exception
    "09": 500,  # triggered_action_exception
    "0L": 403,  # invalid_grantor
    "0P": 403,  # invalid_role_specification
    "25": 500,  # invalid_transaction_state
    "28": 403,  # invalid_authorization_specification
    "2D": 500,  # invalid_transaction_termination
    "38": 500,  # external_routine_exception
    "39": 500,  # external_routine_invocation_exception
    "3B": 500,  # savepoint_exception
    "40": 500,  # transaction_rollback
    "53": 503,  # insufficient_resources
    "54": 413,  # program_limit_exceeded
    "55": 500,  # object_not_in_prerequisite_state
    "57": 500,  # operator_intervention
    "58": 500,  # system_error
    "F0": 500,  # config_file_error
    "HV": 500,  # fdw_error
    "P0": 500,  # plpgsql_error
    "XX": 500,  # internal_error
}


def http_status(sqlstate: str, *, authenticated: bool) -> int:
    """Return the HTTP status PostgREST answers for an error with this SQLSTATE.

    ``authenticated`` is whether the request carried a JWT whose role is not the anonymous
    role: insufficient privilege (42501) is 401 without one and 403 with one.
    """
    if sqlstate == "42501":  # insufficient_privilege
        return 403 if authenticated else 401
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    if sqlstate in _EXACT:
        return _EXACT[sqlstate]
    return _CLASS.get(sqlstate[:2], 400)
