"""Postgres Changes per subscriber: who receives which ticket event, as Realtime computes it.

The production failure: the portal's websocket connected with the anon key although the user
was signed in; every ticket event was filtered by RLS and the page simply never updated.
Each subscriber below is a socket: the anon key, or a user's access token minted through the
access token hook. ``db.changes()`` is Realtime polling after the commit.
"""

from __future__ import annotations

import pytest
from conftest import Portal

from pgpolicy.postgrest.identity import as_anon
from pgpolicy.realtime.changes import Subscription

SOCKETS = ["anon", "client_a", "client_b", "agent_x", "agent_y", "admin"]


def _subscribe(portal: Portal, table: str = "public.tickets") -> dict[str, Subscription]:
    return {
        name: portal.db.subscribe(
            table, as_=as_anon() if name == "anon" else portal[name], event="*"
        )
        for name in SOCKETS
    }


def _received(portal: Portal, sockets: dict[str, Subscription]) -> dict[str, list[str]]:
    """Per socket, the events it received so far, as ``TYPE:id``."""
    portal.db.changes()
    return {
        name: [
            f"{event.type}:{(event.record or event.old_record or {}).get('id')}"
            for event in subscription.received
        ]
        for name, subscription in sockets.items()
    }


def test_an_anon_socket_receives_no_ticket_event(portal: Portal) -> None:
    sockets = {"anon": portal.db.subscribe("public.tickets", as_=as_anon())}
    portal.as_("client_a").execute("insert into public.tickets (subject) values ('help')")
    portal.as_("agent_x").execute(
        "update public.tickets set status = 'pending' where id = %s", (portal.tickets["t1"],)
    )
    assert _received(portal, sockets) == {"anon": []}


def test_a_new_ticket_reaches_its_client_its_agent_and_admins_only(portal: Portal) -> None:
    sockets = _subscribe(portal)
    ticket = portal.open_ticket("client_b", "agent_x", "cross assignment")
    expected = [f"INSERT:{ticket}"]
    assert _received(portal, sockets) == {
        "anon": [],
        "client_a": [],
        "client_b": expected,
        "agent_x": expected,
        "agent_y": [],
        "admin": expected,
    }


def test_an_agents_update_reaches_the_client_the_agent_and_admins(portal: Portal) -> None:
    sockets = _subscribe(portal)
    t1 = portal.tickets["t1"]
    portal.as_("agent_x").execute(
        "update public.tickets set status = 'pending' where id = %s", (t1,)
    )
    expected = [f"UPDATE:{t1}"]
    assert _received(portal, sockets) == {
        "anon": [],
        "client_a": expected,
        "client_b": [],
        "agent_x": expected,
        "agent_y": [],
        "admin": expected,
    }
    [event] = sockets["client_a"].received
    # replica identity full: the whole old row comes along.
    assert (event.old_record or {})["status"] == "open"
    assert (event.record or {})["status"] == "pending"


def test_a_reassigned_ticket_leaves_the_old_agent_and_reaches_the_new_one(portal: Portal) -> None:
    sockets = _subscribe(portal)
    t1 = portal.tickets["t1"]
    portal.as_("admin").execute(
        "update public.tickets set assigned_agent_id = %s where id = %s", (portal["agent_y"].id, t1)
    )
    received = _received(portal, sockets)
    assert received["agent_x"] == []
    assert received["agent_y"] == [f"UPDATE:{t1}"]


def test_a_delete_reaches_every_subscription_with_only_the_key(portal: Portal) -> None:
    sockets = _subscribe(portal)
    t1 = portal.tickets["t1"]
    portal.as_("admin").execute("delete from public.tickets where id = %s", (t1,))
    assert _received(portal, sockets) == {name: [f"DELETE:{t1}"] for name in SOCKETS}
    for subscription in sockets.values():
        [event] = subscription.received
        assert event.old_record == {"id": t1}
        assert "record" not in event.payload


@pytest.mark.parametrize("table", ["public.ticket_attachments", "public.ticket_activities"])
def test_attachment_and_activity_events_follow_the_ticket(portal: Portal, table: str) -> None:
    sockets = _subscribe(portal, table)
    t2 = portal.tickets["t2"]
    if table.endswith("attachments"):
        portal.as_("client_b").execute(
            "insert into public.ticket_attachments (ticket_id, file_name, storage_path)"
            " values (%s, 'log.txt', 'tickets/log.txt')",
            (t2,),
        )
    else:
        portal.as_("agent_y").execute(
            "insert into public.ticket_activities (ticket_id, kind, body)"
            " values (%s, 'comment', 'on it')",
            (t2,),
        )
    received = {name: len(events) for name, events in _received(portal, sockets).items()}
    assert received == {
        "anon": 0,
        "client_a": 0,
        "client_b": 1,
        "agent_x": 0,
        "agent_y": 1,
        "admin": 1,
    }


def test_a_filtered_subscription_receives_only_matching_tickets(portal: Portal) -> None:
    db = portal.db
    agent_x = portal["agent_x"]
    mine = db.subscribe("public.tickets", as_=agent_x, filter=f"assigned_agent_id=eq.{agent_x.id}")
    inserts = db.subscribe("public.tickets", as_=portal["admin"], event="INSERT")
    portal.open_ticket("client_a", "agent_x", "for x")
    portal.open_ticket("client_a", "agent_y", "for y")
    db.execute("update public.tickets set status = 'closed'")
    assert [e.type for e in db.changes(mine)] == ["INSERT", "UPDATE", "UPDATE"]
    assert [e.type for e in db.changes(inserts)] == ["INSERT", "INSERT"]


def test_a_demoted_agent_keeps_receiving_until_the_token_is_refreshed(portal: Portal) -> None:
    db = portal.db
    agent_x = portal["agent_x"]
    socket = db.subscribe("public.tickets", as_=agent_x)
    db.execute(
        "update public.portal_members set portal_role = 'client' where user_id = %s", (agent_x.id,)
    )
    portal.open_ticket("client_a", "agent_x", "still assigned")
    assert [e.type for e in db.changes(socket)] == ["INSERT"]  # Realtime cached the claims
    refreshed = db.refresh_token(socket, agent_x)
    portal.open_ticket("client_a", "agent_x", "after refresh")
    assert db.changes(refreshed) == []
