"""The ai-generation world: an owner, another user, and one generation still processing.

Actors (the rows of the access table):
- ``owner``: signed in, started the generation;
- ``other``: another signed-in user;
- ``anon``: the browser polling with a client that has no session;
- ``lost_auth``: the background job that kept the request's client after the response:
  role ``authenticated`` with no ``sub``, so auth.uid() is NULL;
- ``service_role``: the trusted generation job.
Fixtures write with the harness's privileges, so no proof depends on the code it checks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.testing.harness import Database


@dataclass
class World:
    db: Database
    owner: Actor
    other: Actor
    generation_id: uuid.UUID

    def status(self) -> str:
        """The generation's status as it really is (read with privileges)."""
        return str(
            self.db.scalar(
                "select status from public.generations where id = %s", (self.generation_id,)
            )
        )


@pytest.fixture
def world(db: Database) -> World:
    owner = db.create_user("owner")
    other = db.create_user("other")
    generation_id = db.scalar(
        "insert into public.generations (owner_id, input) values (%s, 'a logo for a bakery')"
        " returning id",
        (owner.id,),
    )
    db.execute(
        "insert into public.generation_proposals (generation_id, content) values (%s, 'draft')",
        (generation_id,),
    )
    db.execute(
        "insert into public.generation_ai_logs (generation_id, error) values (%s, 'timeout')",
        (generation_id,),
    )
    return World(db=db, owner=owner, other=other, generation_id=generation_id)
