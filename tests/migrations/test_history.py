"""The revision history: one head, a straight line, and a real downgrade in every revision."""

from __future__ import annotations

import ast
import inspect
import itertools

from alembic.config import Config
from alembic.script import ScriptDirectory
from pytest_alembic import MigrationContext
from pytest_alembic import tests as alembic_tests

from tests.migrations.support import ALEMBIC_INI


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))


def test_history_has_exactly_one_head(alembic_runner: MigrationContext) -> None:
    alembic_tests.test_single_head_revision(alembic_runner)  # pytest-alembic's own check
    assert len(_script().get_heads()) == 1


def test_history_is_one_straight_line() -> None:
    script = _script()
    chain = list(reversed(list(script.walk_revisions())))
    assert chain[0].down_revision is None
    for previous, revision in itertools.pairwise(chain):
        # Each revision follows exactly the one before it: no branches, merges or depends_on.
        assert revision.down_revision == previous.revision, revision.revision
        assert not revision.dependencies, revision.revision
    assert [rev.revision for rev in chain if rev.is_branch_point or rev.is_merge_point] == []


def test_every_revision_has_a_downgrade_that_does_something() -> None:
    for revision in _script().walk_revisions():
        function = ast.parse(inspect.getsource(revision.module.downgrade)).body[0]
        assert isinstance(function, ast.FunctionDef)
        statements = [
            node
            for node in function.body
            if not isinstance(node, ast.Pass | ast.Raise)
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        ]
        assert statements, f"revision {revision.revision}: downgrade() does nothing"
