"""Who a request runs as: a database role plus the JWT claims PostgREST would see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pgpolicy.postgrest.claims import Actor, JsonObject, api_key_claims, user_claims

ANON_ROLE = "anon"


@dataclass(frozen=True)
class Identity:
    """A request's role and claims. ``claims is None`` means "no JWT at all"."""

    role: str
    claims: JsonObject | None
    label: str

    @property
    def sub(self) -> str | None:
        """The `sub` claim (the user id) when present."""
        if self.claims is None:
            return None
        value = self.claims.get("sub")
        return None if value is None else str(value)

    @property
    def authenticated(self) -> bool:
        """Whether PostgREST treats the request as authenticated (a JWT with a non-anon role)."""
        return self.claims is not None and self.role != ANON_ROLE

    def claims_json(self) -> str:
        """The claims as PostgREST writes them into `request.jwt.claims` (role always set)."""
        claims: dict[str, Any] = dict(self.claims or {})
        claims["role"] = self.role
        return json.dumps(claims, separators=(",", ":"), sort_keys=True)

    def __str__(self) -> str:
        return self.label


def as_user(actor: Actor, claims: JsonObject | None = None) -> Identity:
    """A signed-in user: the token's role (`authenticated`) with its full claim set.

    ``claims`` defaults to what Supabase Auth issues; pass the claims an access token hook
    minted instead when the project has one.
    """
    token = user_claims(actor) if claims is None else claims
    return Identity(role=str(token.get("role", "authenticated")), claims=token, label=str(actor))


def as_anon(*, api_key: bool = True) -> Identity:
    """No session: the anon API key (what supabase-js sends), or no JWT at all."""
    claims = api_key_claims(ANON_ROLE) if api_key else None
    return Identity(role=ANON_ROLE, claims=claims, label="anon")


def as_service_role() -> Identity:
    """The service_role API key: a trusted backend job, bypassing RLS."""
    return Identity(
        role="service_role", claims=api_key_claims("service_role"), label="service_role"
    )


def as_role(role: str, claims: JsonObject | None = None, *, label: str | None = None) -> Identity:
    """Any role with arbitrary claims, e.g. `authenticated` whose session lost its `sub`."""
    return Identity(role=role, claims=claims, label=label or f"{role} with custom claims")


def as_signed_in_without_sub() -> Identity:
    """The lost-session case: role `authenticated` but no `sub`, so auth.uid() is NULL."""
    return as_role(
        "authenticated",
        {"aud": "authenticated", "role": "authenticated"},
        label="authenticated without sub",
    )
