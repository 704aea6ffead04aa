"""The access token hook: the JWT role stays `authenticated`; the portal role rides in claims.

Called through the harness as Supabase Auth calls it (as supabase_auth_admin, with
``{user_id, claims, authentication_method}``).
"""

from __future__ import annotations

import pytest
from conftest import MEMBERS, Portal

from pgpolicy.testing.assertions import assert_denied, assert_filtered, assert_rows


@pytest.mark.parametrize(("name", "portal_role"), sorted(MEMBERS.items()))
def test_hook_keeps_role_authenticated_and_adds_the_portal_role(
    portal: Portal, name: str, portal_role: str
) -> None:
    claims = portal.db.claims_for(portal[name])
    assert claims["role"] == "authenticated"
    assert claims["user_role"] == portal_role
    assert claims["app_metadata"]["user_role"] == portal_role
    assert claims["sub"] == str(portal[name].id)
    assert claims["app_metadata"]["provider"] == "email"  # Auth's own claims are kept


def test_a_user_without_membership_gets_no_portal_role(portal: Portal) -> None:
    claims = portal.db.claims_for(portal["stranger"])
    assert (claims["role"], claims["user_role"], claims["app_metadata"]["user_role"]) == (
        "authenticated",
        None,
        None,
    )


def test_user_metadata_cannot_grant_a_portal_role(portal: Portal) -> None:
    db = portal.db
    mallory = db.create_user("mallory", user_metadata={"user_role": "admin"})
    assert db.claims_for(mallory)["user_role"] is None


def test_the_portal_role_reaches_the_policies_through_auth_jwt(portal: Portal) -> None:
    assert_rows(
        portal.as_("agent_x").execute("select auth.jwt() ->> 'user_role' as user_role"),
        [{"user_role": "agent"}],
    )


@pytest.mark.parametrize("name", ["client_a", "anon"])
def test_the_hook_is_not_callable_through_the_api(portal: Portal, name: str) -> None:
    assert_denied(portal.as_(name).rpc("custom_access_token_hook", event={"user_id": "x"}))


def test_members_read_only_their_own_portal_role(portal: Portal) -> None:
    assert_rows(
        portal.as_("client_a").execute("select portal_role from public.portal_members"),
        [{"portal_role": "client"}],
    )
    assert_filtered(portal.as_("anon").execute("select * from public.portal_members"))


def test_nobody_grants_themselves_a_portal_role(portal: Portal) -> None:
    db = portal.db
    with db.unchanged("public.portal_members"):
        assert_denied(
            portal.as_("client_a").execute(
                "update public.portal_members set portal_role = 'admin' where user_id = %s",
                (portal["client_a"].id,),
            ),
            status=403,
        )
        assert_denied(
            portal.as_("stranger").execute(
                "insert into public.portal_members values (%s, 'admin')",
                (portal["stranger"].id,),
            ),
            status=403,
        )
