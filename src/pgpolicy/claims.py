"""Old import path, kept working: the module now lives at ``pgpolicy.postgrest.claims``."""

from pgpolicy.postgrest.claims import (
    ACCESS_TOKEN_TTL_SECONDS,
    ISSUER,
    Actor,
    JsonObject,
    api_key_claims,
    user_claims,
)

__all__ = [
    "ACCESS_TOKEN_TTL_SECONDS",
    "ISSUER",
    "Actor",
    "JsonObject",
    "api_key_claims",
    "user_claims",
]
