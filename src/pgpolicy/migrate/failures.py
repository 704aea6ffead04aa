"""Name the revision and the statement when a migration fails.

Alembic has no hook that runs *before* a revision, and its error is a traceback ending in a
driver message. env.py wraps the steps Alembic iterates (``StepTracker.attach``) so it knows
which revision is running, and turns a failure into one sentence
(``MigrationFailed``): "revision 0003 (chat realtime) failed: 55P03 ... in statement: ...".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from alembic.runtime.migration import MigrationContext, RevisionStep
from sqlalchemy.exc import DBAPIError

from pgpolicy.migrate.transaction_control import TransactionControlInRevision

__all__ = ["MigrationFailed", "StepTracker", "describe_failure", "revision_label"]

# Alembic annotates the steps as RevisionStep; at run time stamps yield other MigrationSteps.
StepsFn = Callable[..., Iterable[RevisionStep]]

_STATEMENT_CHARS = 100


class MigrationFailed(SystemExit):
    """A revision failed; its transaction was rolled back and the message says where.

    A SystemExit so ``alembic`` and ``pgpolicy`` print the one sentence, not a traceback; a
    class of its own so Python callers (tests, the template builder) can catch it.
    """

    def __init__(self, message: str, *, revision: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.revision = revision
        self.sqlstate = sqlstate

    def __str__(self) -> str:
        return self.message


@dataclass
class StepTracker:
    """Remembers the revision step Alembic is running (None between steps)."""

    current: RevisionStep | None = None

    @classmethod
    def attach(cls, migration_context: MigrationContext) -> StepTracker:
        """Track the steps of a configured MigrationContext.

        Alembic offers no hook that runs before a revision, so this wraps the steps function
        the command handed it, a private attribute. Should it disappear, failures are still
        raised, only without the revision's name (tests/migrations/test_failed_revision.py
        would say so).
        """
        tracker = cls()
        steps_fn = getattr(migration_context, "_migrations_fn", None)
        if steps_fn is not None:
            migration_context._migrations_fn = tracker.wrap(steps_fn)
        return tracker

    def wrap(self, steps_fn: StepsFn) -> StepsFn:
        """The same steps function, recording each step while Alembic runs it."""

        def tracked(*args: Any, **kwargs: Any) -> Iterator[RevisionStep]:
            for step in steps_fn(*args, **kwargs):
                self.current = step if isinstance(step, RevisionStep) else None
                yield step  # Alembic runs the step before asking for the next one.
                self.current = None

        return tracked

    def failure(self, error: BaseException) -> MigrationFailed | None:
        """The MigrationFailed to raise for ``error``, None when no revision was running."""
        step = self.current
        if step is None:
            return None
        sqlstate = _sqlstate(error)
        return MigrationFailed(
            describe_failure(step, error), revision=step.revision.revision, sqlstate=sqlstate
        )


def revision_label(step: RevisionStep) -> str:
    """'0003 (chat realtime)': the id and the file's slug (else the docstring's first line)."""
    script = step.revision
    stem = Path(script.path).stem
    slug = stem.removeprefix(f"{script.revision}_")
    if slug == stem:
        slug = (script.doc or "").split(":")[0]
    label = slug.replace("_", " ").strip()
    return f"{script.revision} ({label})" if label else script.revision


def describe_failure(step: RevisionStep, error: BaseException) -> str:
    """One sentence: which revision, which direction, the SQLSTATE, message and statement."""
    what = "revision" if step.is_upgrade else "downgrade of revision"
    head = f"{what} {revision_label(step)} failed"
    if isinstance(error, DBAPIError) and isinstance(error.orig, psycopg.Error):
        diag = error.orig.diag
        message = diag.message_primary or str(error.orig).strip()
        statement = _statement_excerpt(str(error.statement or ""), diag.statement_position)
        return f"{head}: {error.orig.sqlstate or '?'} {message} in statement: {statement}"
    if isinstance(error, TransactionControlInRevision):
        return f"{head}: {error.sqlstate} {error}"
    return f"{head}: {type(error).__name__}: {error}"


def _sqlstate(error: BaseException) -> str | None:
    if isinstance(error, DBAPIError) and isinstance(error.orig, psycopg.Error):
        return error.orig.sqlstate
    if isinstance(error, TransactionControlInRevision):
        return error.sqlstate
    return None


def _statement_excerpt(statement: str, position: str | None) -> str:
    """The line PostgreSQL pointed at, else the first line that is not a comment."""
    lines = statement.splitlines()
    if position and position.isdigit():
        offset = int(position) - 1
        number = statement.count("\n", 0, offset)
        if number < len(lines):
            return f"line {number + 1}: {_shorten(lines[number], more=True)}"
    meaningful = [line for line in lines if line.strip() and not line.strip().startswith("--")]
    if not meaningful:
        return "(empty)"
    return _shorten(meaningful[0], more=len(meaningful) > 1)


def _shorten(line: str, *, more: bool) -> str:
    text = line.strip()
    if len(text) > _STATEMENT_CHARS:
        return text[:_STATEMENT_CHARS] + "…"
    return text + " …" if more else text
