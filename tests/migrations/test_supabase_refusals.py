"""A revision Supabase would refuse is refused here too, while the chat revisions apply as the
non-superuser postgres (Supabase runs migrations as postgres, not as a superuser)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from pgpolicy.migrate import runner
from pgpolicy.migrate.failures import MigrationFailed
from pgpolicy.migrate.runner import current_revisions
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import project_with_revision, revisions


def _working_role_is_superuser(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
    return bool(row and row[0])


# supautils 3.x lets postgres create event triggers, and then refuses one that would run a
# superuser-owned function (XX000); without it (2.x, the embedded cluster) PostgreSQL refuses
# the statement itself (42501).
_EVENT_TRIGGER_REFUSALS = {
    "42501": "permission denied to create event trigger",
    "XX000": "Non-superuser owned event trigger must execute a non-superuser owned function",
}


@pytest.mark.parametrize(
    ("statement", "refusals"),
    [
        (
            "create function auth.is_staff() returns boolean language sql as $$ select false $$",
            {"42501": "permission denied for schema auth"},
        ),
        (
            "alter table realtime.messages add column room_id uuid",
            {"42501": "must be owner of table messages"},
        ),
        (
            "create event trigger refuse_ddl on ddl_command_start"
            " execute function pg_catalog.pg_event_trigger_ddl_commands()",
            _EVENT_TRIGGER_REFUSALS,
        ),
    ],
    ids=["function-in-auth", "alter-realtime-messages", "superuser-only"],
)
def test_a_revision_supabase_would_refuse_fails_with_its_sqlstate_after_the_chat_revisions_applied(
    make_database: MakeDatabase, tmp_path: Path, statement: str, refusals: dict[str, str]
) -> None:
    url = make_database()
    if _working_role_is_superuser(url):
        pytest.skip("the working role is a superuser on this server: nothing is refused to it")
    ini = project_with_revision(tmp_path, "refused", statement)

    with pytest.raises(MigrationFailed) as failure:
        runner.upgrade(ini, url, "head")

    assert failure.value.revision == "9999"
    assert failure.value.sqlstate in refusals
    assert refusals[failure.value.sqlstate] in str(failure.value)
    # Every chat revision applied as postgres; the refused one left nothing behind.
    assert current_revisions(url) == [revisions()[-1]]
