"""Make `alembic check` fail when the declared state is not what the database holds.

The schema is not modelled in SQLAlchemy metadata: tables live in revisions, policies and
functions in policies/ and rpc/. So autogenerate compares no tables (``include_object``
refuses them all) and one comparator asks two questions instead:
- is every declared file embedded by a revision (else: run `pgpolicy revision`)?
- does the database hold exactly the declared state (`pgpolicy drift`)?
Each answer is an operation whose only use is to be listed by `alembic check`;
`alembic revision --autogenerate` is refused with a pointer to `pgpolicy revision`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from alembic.autogenerate import comparators
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrateOperation, MigrationScript, UpgradeOps
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from pgpolicy.declared import load_declared
from pgpolicy.declared.drift import check_drift
from pgpolicy.declared.revision import pending_changes

DECLARED_ROOT_OPTION = "pgpolicy_declared_root"


class DeclaredStateDifference(MigrateOperation):
    """One difference between the declared state and the migrations or the database."""

    def __init__(self, description: str) -> None:
        self.description = description

    def reverse(self) -> DeclaredStateDifference:
        return self

    def to_diff_tuple(self) -> tuple[str, str]:
        return ("declared_state", self.description)


def include_no_tables(*_args: Any) -> bool:
    """Tables are not modelled: never compare (or drop) them."""
    return False


@comparators.dispatch_for("schema")
def compare_declared_state(
    autogen_context: AutogenContext, upgrade_ops: UpgradeOps, _schemas: set[str | None]
) -> None:
    root = autogen_context.opts.get(DECLARED_ROOT_OPTION)
    if root is None or autogen_context.connection is None:
        return
    scripts: ScriptDirectory | None = autogen_context.migration_context.script
    if scripts is None:
        return
    for change in pending_changes(Path(root), scripts):
        upgrade_ops.ops.append(
            DeclaredStateDifference(f"{change.path} is not embedded by any revision yet")
        )
    raw = autogen_context.connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    for line in check_drift(raw, load_declared(Path(root))).lines():
        upgrade_ops.ops.append(DeclaredStateDifference(f"database drift: {line}"))


def refuse_autogenerate(
    context: MigrationContext, _revision: Any, directives: list[MigrationScript]
) -> None:
    """`alembic revision --autogenerate` cannot embed declared files: point to the tool that does.

    `alembic check` passes through here too; it reports the differences itself.
    """
    command_options = context.config.cmd_opts if context.config is not None else None
    if not getattr(command_options, "autogenerate", False):
        return
    upgrade_ops = directives[0].upgrade_ops if directives else None
    if upgrade_ops is not None and any(
        isinstance(op, DeclaredStateDifference) for op in upgrade_ops.ops
    ):
        raise CommandError(
            "the declared state differs (see `alembic check`): write a revision for changed"
            " files with `pgpolicy revision -m '...'`; database drift is shown by `pgpolicy drift`"
        )
