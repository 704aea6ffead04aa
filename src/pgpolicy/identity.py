"""Old import path, kept working: the module now lives at ``pgpolicy.postgrest.identity``."""

from pgpolicy.postgrest.identity import (
    ANON_ROLE,
    Identity,
    as_anon,
    as_role,
    as_service_role,
    as_signed_in_without_sub,
    as_user,
)

__all__ = [
    "ANON_ROLE",
    "Identity",
    "as_anon",
    "as_role",
    "as_service_role",
    "as_signed_in_without_sub",
    "as_user",
]
