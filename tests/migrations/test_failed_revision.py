"""A revision that fails half-way leaves the previous revision intact and says which it was."""

from __future__ import annotations

import psycopg
import pytest

from pgpolicy.catalog import diff
from pgpolicy.migrate import runner
from pgpolicy.migrate.failures import MigrationFailed
from pgpolicy.migrate.runner import current_revisions
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import ALEMBIC_INI, catalog, revisions

REVISIONS = revisions()


def test_failing_upgrade_rolls_back_to_the_previous_revision_and_names_it(
    make_database: MakeDatabase,
) -> None:
    # 0002 creates chat_threads (and its indexes) before chat_messages: a chat_messages that
    # is already there makes it fail half-way, after objects of its own exist.
    previous, failing = REVISIONS[0], REVISIONS[1]
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, previous)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table public.chat_messages (id integer)")
    before = catalog(url)

    with pytest.raises(MigrationFailed) as failure:
        runner.upgrade(ALEMBIC_INI, url, "head")

    assert failure.value.revision == failing
    assert failure.value.sqlstate == "42P07"
    assert str(failure.value).startswith(
        f'revision {failing} (chat threads and messages) failed: 42P07 relation "chat_messages"'
        " already exists in statement: create table public.chat_threads ("
    )
    assert current_revisions(url) == [previous]
    assert diff(before, catalog(url)) == [], "the failed revision left objects behind"


def test_failing_downgrade_keeps_the_revision_and_names_it(make_database: MakeDatabase) -> None:
    # 0004 (chat rpc) drops chat_history on downgrade: a function already gone makes it fail.
    head = "0004"
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, head)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop function public.chat_history(text, timestamptz, uuid, integer)")
    before = catalog(url)

    expected = rf"^downgrade of revision {head} \(chat rpc\) failed: 42883 "
    with pytest.raises(MigrationFailed, match=expected):
        runner.downgrade(ALEMBIC_INI, url, "base")

    assert current_revisions(url) == [head]
    assert diff(before, catalog(url)) == []
