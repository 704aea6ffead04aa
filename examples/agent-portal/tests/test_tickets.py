"""Per portal role: who reads and who changes which tickets, attachments and activities.

| actor | reads | opens | updates | deletes |
|---|---|---|---|---|
| client | own tickets | own, unassigned, open | nothing (filtered) | nothing (filtered) |
| agent | assigned tickets | nothing (42501) | assigned, keeping them assigned | nothing |
| admin | all | nothing (42501) | all | all |
| stranger | nothing | nothing (42501) | nothing (filtered) | nothing (filtered) |
| anon | nothing | nothing (42501) | nothing (42501) | nothing (filtered) |
"""

from __future__ import annotations

import pytest
from conftest import Portal

from pgpolicy.testing.assertions import (
    assert_allowed,
    assert_denied,
    assert_filtered,
)

READS = {
    "client_a": ["t1", "t3"],
    "client_b": ["t2"],
    "agent_x": ["t1"],
    "agent_y": ["t2"],
    "admin": ["t1", "t2", "t3"],
    "stranger": [],
    "anon": [],
}
TABLES = ("public.tickets", "public.ticket_attachments", "public.ticket_activities")


def _names(portal: Portal, ids: list[object]) -> list[str]:
    by_id = {ticket_id: name for name, ticket_id in portal.tickets.items()}
    return sorted(by_id[int(str(ticket_id))] for ticket_id in ids)


# reading ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), READS.items())
def test_each_role_reads_exactly_its_tickets(
    portal: Portal, name: str, expected: list[str]
) -> None:
    result = assert_allowed(portal.as_(name).execute("select id from public.tickets"))
    assert _names(portal, [row["id"] for row in result.rows]) == expected


@pytest.mark.parametrize("table", ["public.ticket_attachments", "public.ticket_activities"])
@pytest.mark.parametrize(("name", "expected"), READS.items())
def test_attachments_and_activities_follow_the_tickets(
    portal: Portal, table: str, name: str, expected: list[str]
) -> None:
    result = assert_allowed(portal.as_(name).execute(f"select ticket_id from {table}"))
    assert _names(portal, [row["ticket_id"] for row in result.rows]) == expected


# opening ----------------------------------------------------------------------------------
def test_a_client_opens_a_ticket_for_themselves(portal: Portal) -> None:
    result = assert_allowed(
        portal.as_("client_b").execute(
            "insert into public.tickets (subject) values ('printer on fire')"
            " returning client_id, status"
        ),
        rowcount=1,
    )
    assert result.rows == [{"client_id": portal["client_b"].id, "status": "open"}]


@pytest.mark.parametrize(
    ("name", "status"), [("agent_x", 403), ("admin", 403), ("stranger", 403), ("anon", 401)]
)
def test_only_clients_open_tickets(portal: Portal, name: str, status: int) -> None:
    with portal.db.unchanged("public.tickets"):
        assert_denied(
            portal.as_(name).execute("insert into public.tickets (subject) values ('x')"),
            status=status,
        )


def test_a_client_cannot_open_a_ticket_for_another_client_or_pick_an_agent(
    portal: Portal,
) -> None:
    db = portal.db
    with db.unchanged("public.tickets"):
        assert_denied(
            portal.as_("client_a").execute(
                "insert into public.tickets (client_id, subject) values (%s, 'x')",
                (portal["client_b"].id,),
            )
        )
        assert_denied(
            portal.as_("client_a").execute(
                "insert into public.tickets (assigned_agent_id, subject) values (%s, 'x')",
                (portal["agent_x"].id,),
            )
        )


# updating ---------------------------------------------------------------------------------
_CLOSE = "update public.tickets set status = 'closed' where id = %s"


def test_an_agent_updates_an_assigned_ticket(portal: Portal) -> None:
    assert_allowed(portal.as_("agent_x").execute(_CLOSE, (portal.tickets["t1"],)), rowcount=1)
    assert portal.ticket("t1")["status"] == "closed"


@pytest.mark.parametrize(
    ("name", "ticket"),
    [("agent_x", "t2"), ("agent_x", "t3"), ("client_a", "t1"), ("stranger", "t1")],
)
def test_others_updates_are_filtered(portal: Portal, name: str, ticket: str) -> None:
    with portal.db.unchanged(*TABLES):
        assert_filtered(portal.as_(name).execute(_CLOSE, (portal.tickets[ticket],)))


def test_anon_holds_no_update_privilege_at_all(portal: Portal) -> None:
    with portal.db.unchanged(*TABLES):
        assert_denied(portal.as_("anon").execute(_CLOSE, (portal.tickets["t1"],)), status=401)


def test_an_agent_cannot_hand_a_ticket_to_another_agent(portal: Portal) -> None:
    with portal.db.unchanged("public.tickets"):
        assert_denied(
            portal.as_("agent_x").execute(
                "update public.tickets set assigned_agent_id = %s where id = %s",
                (portal["agent_y"].id, portal.tickets["t1"]),
            ),
            status=403,
        )


def test_nobody_rewrites_who_opened_a_ticket(portal: Portal) -> None:
    with portal.db.unchanged("public.tickets"):
        assert_denied(
            portal.as_("admin").execute(
                "update public.tickets set client_id = %s where id = %s",
                (portal["client_b"].id, portal.tickets["t1"]),
            ),
            status=403,
        )


def test_an_admin_assigns_any_ticket(portal: Portal) -> None:
    assert_allowed(
        portal.as_("admin").execute(
            "update public.tickets set assigned_agent_id = %s where id = %s",
            (portal["agent_y"].id, portal.tickets["t3"]),
        ),
        rowcount=1,
    )
    assert portal.ticket("t3")["assigned_agent_id"] == portal["agent_y"].id


# deleting ---------------------------------------------------------------------------------
def test_an_admin_deletes_a_ticket_with_its_attachments_and_activities(portal: Portal) -> None:
    db = portal.db
    assert_allowed(
        portal.as_("admin").execute(
            "delete from public.tickets where id = %s", (portal.tickets["t2"],)
        ),
        rowcount=1,
    )
    assert (
        db.scalar(
            "select count(*) from public.ticket_attachments where ticket_id = %s",
            (portal.tickets["t2"],),
        )
        == 0
    )


@pytest.mark.parametrize("name", ["client_a", "agent_x", "stranger", "anon"])
def test_only_admins_delete_tickets(portal: Portal, name: str) -> None:
    with portal.db.unchanged(*TABLES):
        assert_filtered(
            portal.as_(name).execute(
                "delete from public.tickets where id = %s", (portal.tickets["t1"],)
            )
        )


# attachments and activities ---------------------------------------------------------------
def test_a_client_comments_on_their_own_ticket(portal: Portal) -> None:
    assert_allowed(
        portal.as_("client_a").execute(
            "insert into public.ticket_activities (ticket_id, kind, body)"
            " values (%s, 'comment', 'any news?')",
            (portal.tickets["t1"],),
        ),
        rowcount=1,
    )


@pytest.mark.parametrize(("name", "ticket"), [("client_b", "t1"), ("agent_y", "t1")])
def test_nobody_comments_on_or_attaches_to_a_ticket_they_cannot_read(
    portal: Portal, name: str, ticket: str
) -> None:
    with portal.db.unchanged(*TABLES):
        assert_denied(
            portal.as_(name).execute(
                "insert into public.ticket_activities (ticket_id, kind, body)"
                " values (%s, 'comment', 'hello')",
                (portal.tickets[ticket],),
            )
        )
        assert_denied(
            portal.as_(name).execute(
                "insert into public.ticket_attachments (ticket_id, file_name, storage_path)"
                " values (%s, 'x.png', 'x')",
                (portal.tickets[ticket],),
            )
        )


def test_a_comment_cannot_be_signed_as_someone_else(portal: Portal) -> None:
    with portal.db.unchanged("public.ticket_activities"):
        assert_denied(
            portal.as_("agent_x").execute(
                "insert into public.ticket_activities (ticket_id, actor_id, kind)"
                " values (%s, %s, 'comment')",
                (portal.tickets["t1"], portal["client_a"].id),
            )
        )
