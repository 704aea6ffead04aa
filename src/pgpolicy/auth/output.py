"""What Supabase Auth accepts back from an access token hook, and what it refuses.

Auth reads the hook's answer as JSON: an ``error`` object with a non-empty ``message``
refuses the token (its ``http_code``, else 500); an ``error`` that is null or has no message
is ignored. ``claims`` must be present and an object, and the claims must satisfy Auth's
minimum token schema (JSON Schema, draft 7): the required claims, each with its type.
Anything else refuses the token with 500 and no token is issued.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from pgpolicy.postgrest.claims import JsonObject

__all__ = ["REQUIRED_CLAIMS", "TOKEN_SCHEMA", "HookRefusal", "claims_from_answer"]

REQUIRED_CLAIMS = (
    "aud",
    "exp",
    "iat",
    "sub",
    "email",
    "phone",
    "role",
    "aal",
    "session_id",
    "is_anonymous",
)

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_OBJECT = {"type": "object"}
TOKEN_SCHEMA: JsonObject = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": list(REQUIRED_CLAIMS),
    "properties": {
        **{name: _STRING for name in ("jti", "iss", "sub", "email", "phone", "role")},
        **{name: _STRING for name in ("aal", "session_id", "client_id")},
        **{name: _INTEGER for name in ("exp", "iat", "nbf")},
        "aud": {"type": ["string", "array"]},
        "app_metadata": _OBJECT,
        "user_metadata": _OBJECT,
        "amr": {"type": "array", "items": {"anyOf": [_STRING, _OBJECT]}},
    },
}
_VALIDATOR = jsonschema.Draft7Validator(TOKEN_SCHEMA)


class HookRefusal(Exception):
    """Auth issues no token: ``status`` is its HTTP answer, ``message`` its error text."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status or 500  # no http_code: Auth answers 500


def claims_from_answer(answer: Any) -> JsonObject:
    """The claims Auth would sign from the hook's ``answer``, or HookRefusal."""
    if not isinstance(answer, dict):
        raise HookRefusal(f"Error unmarshaling JSON output. (the hook returned {answer!r})")
    error = answer.get("error")
    if isinstance(error, dict) and error.get("message"):
        status = error.get("http_code")
        raise HookRefusal(
            str(error["message"]), status if isinstance(status, int) and status else 500
        )
    if "claims" not in answer:
        raise HookRefusal("output claims field is missing")
    claims = answer["claims"]
    problems = sorted(
        f"- {'/'.join(map(str, e.absolute_path)) or '(claims)'}: {e.message}"
        for e in _VALIDATOR.iter_errors(claims)
    )
    if problems:
        raise HookRefusal(
            "output claims do not conform to the expected schema: \n" + "\n".join(problems)
        )
    assert isinstance(claims, dict)
    return claims
