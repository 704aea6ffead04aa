"""A migration that queues behind a lock gives up quickly and changes nothing."""

from __future__ import annotations

import psycopg
import pytest

from pgpolicy.catalog import diff
from pgpolicy.migrate import runner
from pgpolicy.migrate.runner import current_revisions
from pgpolicy.migrate.settings import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    MigrationSettings,
)
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import (
    ALEMBIC_INI,
    catalog,
    error_lines,
    revisions,
    run_alembic,
)

REVISIONS = revisions()


@pytest.mark.parametrize(
    ("env", "x", "sqlstate"),
    [
        # A 2 s statement_timeout beside each lock_timeout: were the 200 ms not applied, the
        # default lock_timeout (5 s) would lose to it and the answer would be 57014.
        pytest.param(
            {"PGPOLICY_LOCK_TIMEOUT": "200ms", "PGPOLICY_STATEMENT_TIMEOUT": "2s"},
            [],
            "55P03",
            id="PGPOLICY_LOCK_TIMEOUT",
        ),
        pytest.param(
            {"PGPOLICY_STATEMENT_TIMEOUT": "2s"},
            ["lock_timeout=200ms"],
            "55P03",
            id="x-lock_timeout",
        ),
        pytest.param(
            {"PGPOLICY_LOCK_TIMEOUT": "0", "PGPOLICY_STATEMENT_TIMEOUT": "300ms"},
            [],
            "57014",
            id="PGPOLICY_STATEMENT_TIMEOUT",
        ),
    ],
)
def test_upgrade_blocked_by_a_lock_fails_fast_and_stays_at_the_previous_revision(
    env: dict[str, str],
    x: list[str],
    sqlstate: str,
    make_database: MakeDatabase,
) -> None:
    # REVISIONS[2] (0003, chat realtime) creates policies and triggers that read or alter
    # public.chat_threads and public.chat_messages: a long transaction holding them blocks it.
    previous, blocked = REVISIONS[1], REVISIONS[2]
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, previous)
    before = catalog(url)

    with psycopg.connect(url) as blocker:
        blocker.execute("lock table public.chat_threads in access exclusive mode")
        # Without the setting the upgrade waits for the blocker, past this subprocess timeout.
        result = run_alembic("upgrade", "head", url=url, x=x, env=env, timeout=60)
        blocker.rollback()

    assert result.returncode != 0
    message = "\n".join(error_lines(result.stderr))
    # The SQLSTATE names the setting that ended the wait (55P03 lock_timeout, 57014
    # statement_timeout), timed by the server from the blocked statement: no wall-clock
    # bound here to miss on a loaded machine.
    assert f"revision {blocked} (chat realtime) failed: {sqlstate} " in message, message
    assert current_revisions(url) == [previous]
    assert diff(before, catalog(url)) == []


def test_timeouts_come_from_x_arguments_then_the_environment_then_defaults() -> None:
    environ = {"PGPOLICY_LOCK_TIMEOUT": "2s", "PGPOLICY_STATEMENT_TIMEOUT": "1min"}
    assert MigrationSettings.from_environment({}, {}).lock_timeout == DEFAULT_LOCK_TIMEOUT
    assert MigrationSettings.from_environment({}, {}).statement_timeout == DEFAULT_STATEMENT_TIMEOUT
    from_env = MigrationSettings.from_environment({}, environ)
    assert (from_env.lock_timeout, from_env.statement_timeout) == ("2s", "1min")
    from_x = MigrationSettings.from_environment({"lock_timeout": "300ms"}, environ)
    assert (from_x.lock_timeout, from_x.statement_timeout) == ("300ms", "1min")


@pytest.mark.parametrize("value", ["5 seconds", "1s; drop table x", "-1s", "s"])
def test_a_malformed_timeout_is_refused_before_reaching_sql(value: str) -> None:
    with pytest.raises(SystemExit, match="invalid timeout"):
        MigrationSettings.from_environment({"lock_timeout": value}, {})
