"""Requests exactly as PostgREST makes them: identity, claims, RPC calls, HTTP statuses."""

from pgpolicy.postgrest.claims import Actor, JsonObject, api_key_claims, user_claims
from pgpolicy.postgrest.identity import (
    Identity,
    as_anon,
    as_role,
    as_service_role,
    as_signed_in_without_sub,
    as_user,
)
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.postgrest.status import http_status

__all__ = [
    "Actor",
    "Identity",
    "JsonObject",
    "Request",
    "Result",
    "api_key_claims",
    "as_anon",
    "as_role",
    "as_service_role",
    "as_signed_in_without_sub",
    "as_user",
    "http_status",
    "user_claims",
]
