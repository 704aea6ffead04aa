"""JWT claim sets as Supabase Auth issues them (never signed: PostgREST only sees the claims)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]

ACCESS_TOKEN_TTL_SECONDS = 3600
ISSUER = "http://127.0.0.1:54321/auth/v1"


@dataclass(frozen=True)
class Actor:
    """A row of auth.users, as the test harness created it."""

    id: uuid.UUID
    email: str | None = None
    phone: str = ""
    app_metadata: JsonObject = field(default_factory=dict)
    user_metadata: JsonObject = field(default_factory=dict)
    is_anonymous: bool = False
    label: str = "user"

    def __str__(self) -> str:
        return f"{self.label} ({self.id})"


def user_claims(actor: Actor, *, issued_at: int | None = None) -> JsonObject:
    """The claim set of a signed-in user's access token (role `authenticated`)."""
    iat = int(time.time()) if issued_at is None else issued_at
    app_metadata: JsonObject = {"provider": "email", "providers": ["email"]}
    app_metadata.update(actor.app_metadata)
    return {
        "iss": ISSUER,
        "sub": str(actor.id),
        "aud": "authenticated",
        "exp": iat + ACCESS_TOKEN_TTL_SECONDS,
        "iat": iat,
        "email": actor.email or "",
        "phone": actor.phone,
        "app_metadata": app_metadata,
        "user_metadata": dict(actor.user_metadata),
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": iat}],
        "session_id": str(uuid.uuid5(actor.id, "session")),
        "is_anonymous": actor.is_anonymous,
    }


def api_key_claims(role: str, *, issued_at: int | None = None) -> JsonObject:
    """The claim set of a project API key (`anon` or `service_role`): no `sub`."""
    iat = int(time.time()) if issued_at is None else issued_at
    return {"iss": "supabase", "ref": "pgpolicy", "role": role, "iat": iat, "exp": iat + 10**8}
