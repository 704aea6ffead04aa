"""Upgrades and downgrades leave no trace: the catalog says so, object by object."""

from __future__ import annotations

import pytest
from pytest_alembic import MigrationContext
from pytest_alembic import tests as alembic_tests

from pgpolicy.catalog import Catalog, diff
from pgpolicy.migrate import runner
from pgpolicy.migrate.runner import current_revisions
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import ALEMBIC_INI, catalog, revisions

REVISIONS = revisions()
HEAD = REVISIONS[-1]


def test_upgrade_from_base_to_head(alembic_runner: MigrationContext) -> None:
    alembic_tests.test_upgrade(alembic_runner)  # pytest-alembic: base -> heads succeeds


def test_each_revision_goes_up_and_down_one_step_at_a_time(
    alembic_runner: MigrationContext,
) -> None:
    alembic_tests.test_up_down_consistency(alembic_runner)  # pytest-alembic


def test_base_head_base_head_ends_where_a_single_upgrade_does(
    make_database: MakeDatabase, compat_catalog: Catalog, head_catalog: Catalog
) -> None:
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, "head")
    assert diff(head_catalog, catalog(url)) == []

    runner.downgrade(ALEMBIC_INI, url, "base")
    assert current_revisions(url) == []
    assert diff(compat_catalog, catalog(url)) == [], "downgrade base left a trace"

    runner.upgrade(ALEMBIC_INI, url, "head")
    assert current_revisions(url) == [HEAD]
    assert diff(head_catalog, catalog(url)) == []


@pytest.mark.parametrize("revision", REVISIONS)
def test_downgrade_of_each_revision_leaves_no_trace(
    revision: str, make_database: MakeDatabase, reference_catalogs: dict[str, Catalog]
) -> None:
    previous = "base" if revision == REVISIONS[0] else REVISIONS[REVISIONS.index(revision) - 1]
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, previous)
    before = catalog(url)

    runner.upgrade(ALEMBIC_INI, url, revision)
    after = catalog(url)
    assert diff(before, after), f"revision {revision} changes nothing the catalog sees"
    assert diff(reference_catalogs[revision], after) == []

    runner.downgrade(ALEMBIC_INI, url, previous)
    assert diff(before, catalog(url)) == [], f"downgrade of {revision} left a trace"

    runner.upgrade(ALEMBIC_INI, url, revision)
    assert diff(after, catalog(url)) == [], f"{revision} applied again differs"
