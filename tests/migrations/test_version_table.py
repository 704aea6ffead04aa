"""The migration bookkeeping table is out of the API's reach (Supabase grants ALL by default)."""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_denied
from pgpolicy.testing.harness import Database


@pytest.mark.parametrize("caller", ["anon", "authenticated", "service_role"])
def test_api_roles_cannot_read_or_rewrite_the_revision(db: Database, caller: str) -> None:
    request = {
        "anon": db.as_anon,
        "authenticated": lambda: db.as_user(db.create_user("alice")),
        "service_role": db.as_service_role,
    }[caller]()
    revision = db.scalar("select version_num from public.alembic_version")
    assert_denied(request.execute("select version_num from public.alembic_version"))
    assert_denied(
        request.execute("update public.alembic_version set version_num = '0001' where true")
    )
    assert_denied(request.execute("delete from public.alembic_version where true"))
    assert db.scalar("select version_num from public.alembic_version") == revision
