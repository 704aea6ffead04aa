"""The request's path and headers as PostgREST puts them in ``request.path`` and
``request.headers``.

PostgREST passes every header of the HTTP request but Cookie, names lower-cased, and the path
as it receives it (Supabase's gateway strips ``/rest/v1``: ``/rpc/chat_history``,
``/messages``). The headers are those supabase-js sends through that gateway; the JWTs in
``apikey`` and ``authorization`` are signed with the local stack's default secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import expressions

from pgpolicy.postgrest.claims import api_key_claims
from pgpolicy.postgrest.identity import Identity

__all__ = ["LOCAL_JWT_SECRET", "request_headers", "resource_path", "token"]

# `supabase start`'s default JWT secret (its config.toml's auth.jwt_secret).
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: Mapping[str, Any], secret: str = LOCAL_JWT_SECRET) -> str:
    """An HS256 JWT carrying ``claims``."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(dict(claims), separators=(",", ":"), default=str).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(signature.digest())}"


def request_headers(
    identity: Identity,
    *,
    method: str,
    schema: str,
    prefer: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers PostgREST sees for a supabase-js request as ``identity`` (no Cookie)."""
    headers = {
        "host": "127.0.0.1:54321",
        "accept": "application/json",
        "accept-encoding": "gzip, deflate",
        "user-agent": "pgpolicy",
        "x-client-info": "supabase-js/2",
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-proto": "http",
    }
    if method.upper() in ("GET", "HEAD"):
        headers["accept-profile"] = schema
    else:
        headers["content-type"] = "application/json"
        headers["content-profile"] = schema
    if identity.claims is not None:
        # The API key is the project's anon key unless the request runs as service_role.
        key_role = "service_role" if identity.role == "service_role" else "anon"
        key_claims = identity.claims if identity.sub is None else api_key_claims(key_role)
        headers["apikey"] = token(key_claims)
        headers["authorization"] = f"Bearer {token(identity.claims)}"
    if prefer:
        headers["prefer"] = prefer
    for name, value in (extra or {}).items():
        headers[name.lower()] = value
    headers.pop("cookie", None)
    return headers


def resource_path(query: str) -> str:
    """``/<table>`` of the statement's target (an INSERT's, UPDATE's, DELETE's, or the first
    table a SELECT reads), as the URL of the equivalent API request names it; ``/`` when the
    statement reads no table."""
    try:
        statement = sqlglot.parse_one(query, read="postgres")
    except sqlglot.errors.ParseError:
        return "/"
    if statement is None:
        return "/"
    target = (
        statement.this
        if isinstance(statement, expressions.Insert | expressions.Update | expressions.Delete)
        else statement.find(expressions.Table)
    )
    table = target.find(expressions.Table) if isinstance(target, expressions.Expression) else None
    if isinstance(target, expressions.Table):
        table = target
    return f"/{table.name}" if table is not None and table.name else "/"
