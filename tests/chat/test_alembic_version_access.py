"""alembic_version: no API role reads or writes the migration bookkeeping, service_role
included (Supabase's default privileges would otherwise let anon rewrite it)."""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_denied
from tests.chat.conftest import Chat

STATEMENTS = {
    "select": "select version_num from public.alembic_version",
    "insert": "insert into public.alembic_version (version_num) values ('9999')",
    "update": "update public.alembic_version set version_num = '9999' where true",
    "delete": "delete from public.alembic_version where true",
}


@pytest.mark.parametrize("command", list(STATEMENTS))
@pytest.mark.parametrize("actor", ["alice", "carol", "anon", "no_sub", "service_role"])
def test_api_roles_cannot_touch_alembic_version(chat: Chat, actor: str, command: str) -> None:
    with chat.db.unchanged("public.alembic_version"):
        assert_denied(chat.caller(actor).execute(STATEMENTS[command]))
