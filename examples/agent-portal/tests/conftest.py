"""The agent portal every proof starts from.

Actors (the rows of the access table), each signed in with the claims the access token hook
mints (role ``authenticated``, portal role in ``user_role``):
- ``client_a``, ``client_b``: clients; ``agent_x``, ``agent_y``: agents; ``admin``;
- ``stranger``: signed in, no portal role; ``anon``: the anon key, no session.
Tickets: ``t1`` (client_a, assigned to agent_x), ``t2`` (client_b, agent_y),
``t3`` (client_a, unassigned); each has one attachment and one activity.
Fixtures write with the harness's privileges, so no proof depends on the code it checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.request import Request
from pgpolicy.testing.harness import Database

MEMBERS = {
    "client_a": "client",
    "client_b": "client",
    "agent_x": "agent",
    "agent_y": "agent",
    "admin": "admin",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test commits, in a database of its own: the access token hook reads
    portal_members, and Supabase Auth calls it on its own connection (as
    supabase_auth_admin), which sees only committed rows."""
    for item in items:
        item.add_marker(pytest.mark.commit)


@dataclass
class Portal:
    db: Database
    users: dict[str, Actor]
    tickets: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Actor:
        return self.users[name]

    def as_(self, name: str) -> Request:
        """A request as one of the actors (``anon`` is the anon key)."""
        return self.db.as_anon() if name == "anon" else self.db.as_user(self.users[name])

    def ticket(self, name: str) -> dict[str, object]:
        """The ticket as it really is (read with privileges)."""
        [row] = self.db.execute("select * from public.tickets where id = %s", (self.tickets[name],))
        return dict(row)

    def open_ticket(self, client: str, agent: str | None, subject: str) -> int:
        agent_id = None if agent is None else self.users[agent].id
        ticket_id = int(
            self.db.scalar(
                "insert into public.tickets (client_id, assigned_agent_id, subject)"
                " values (%s, %s, %s) returning id",
                (self.users[client].id, agent_id, subject),
            )
        )
        return ticket_id


@pytest.fixture
def portal(db: Database) -> Portal:
    users = {name: db.create_user(name) for name in [*MEMBERS, "stranger"]}
    for name, portal_role in MEMBERS.items():
        db.execute(
            "insert into public.portal_members (user_id, portal_role) values (%s, %s)",
            (users[name].id, portal_role),
        )
    world = Portal(db=db, users=users)
    for name, (client, agent) in {
        "t1": ("client_a", "agent_x"),
        "t2": ("client_b", "agent_y"),
        "t3": ("client_a", None),
    }.items():
        ticket_id = world.open_ticket(client, agent, f"ticket {name}")
        world.tickets[name] = ticket_id
        db.execute(
            "insert into public.ticket_attachments (ticket_id, file_name, storage_path)"
            " values (%s, %s, %s)",
            (ticket_id, f"{name}.png", f"tickets/{ticket_id}/{name}.png"),
        )
        db.execute(
            "insert into public.ticket_activities (ticket_id, actor_id, kind, body)"
            " values (%s, %s, 'comment', %s)",
            (ticket_id, users[client].id, f"about {name}"),
        )
    return world
