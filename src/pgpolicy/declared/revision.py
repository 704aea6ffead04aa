"""Write a new revision for declared files that changed since the history last embedded them.

The revision embeds the new text (upgrade) and the previous text (downgrade); objects a
version no longer declares are dropped. Old revisions are never touched.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory

from pgpolicy.declared.adoption import AdoptionRefused, built_without_embedding
from pgpolicy.declared.files import FOLDERS, load_declared
from pgpolicy.declared.history import embedded_state
from pgpolicy.declared.objects import inverse_statement, parse_objects, reversible_statements


@dataclass(frozen=True)
class FileChange:
    """A declared file whose text differs from what the migrations last applied."""

    path: str
    before: str | None  # None: never applied
    after: str | None  # None: the file was removed
    before_revision: str | None

    @property
    def constant(self) -> str:
        return re.sub(r"[^A-Z0-9]+", "_", self.path.removesuffix(".sql").upper())

    def upgrade_statements(self) -> list[str]:
        return _reversals(self.before, self.after) + _drops_of_removed(self.before, self.after)

    def downgrade_statements(self) -> list[str]:
        return _reversals(self.after, self.before) + _drops_of_removed(self.after, self.before)


def _reversals(old: str | None, new: str | None) -> list[str]:
    """Undo, newest first, the grants, revokes and row security switches ``old`` made that
    ``new`` does not make again (re-applying ``new`` alone would leave them in force)."""
    kept = set(reversible_statements(new)) if new else set()
    made = reversible_statements(old) if old else []
    return [inverse_statement(s) for s in reversed(made) if s not in kept]


def _drops_of_removed(old: str | None, new: str | None) -> list[str]:
    """Drop statements for what ``old`` created and ``new`` no longer does."""
    kept = set(parse_objects(new).drop_statements()) if new else set()
    return [s for s in (parse_objects(old).drop_statements() if old else []) if s not in kept]


def pending_changes(root: Path, scripts: ScriptDirectory) -> list[FileChange]:
    """Declared files whose text is not what ``upgrade head`` applies, in apply order."""
    embedded = embedded_state(scripts)
    declared = {file.path: file.sql for file in load_declared(root)}
    changes = [
        FileChange(
            path,
            embedded[path].sql if path in embedded else None,
            text,
            embedded[path].revision if path in embedded else None,
        )
        for path, text in declared.items()
        if path not in embedded or embedded[path].sql != text
    ]
    changes += [
        FileChange(path, item.sql, None, item.revision)
        for path, item in embedded.items()
        if path not in declared
    ]
    return changes


def next_revision_id(scripts: ScriptDirectory) -> str:
    numbers = [int(s.revision) for s in scripts.walk_revisions() if s.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def _literal(text: str) -> str:
    if '"""' in text or text.endswith("\\"):
        return repr(text)
    return 'r"""\n' + text + '"""[1:]'


def render_revision(
    changes: list[FileChange], revision: str, down_revision: str | None, message: str
) -> str:
    """The source of a revision applying ``changes``."""
    constants: list[str] = []
    for change in changes:
        if change.after is not None:
            constants.append(
                f"# {change.path}, verbatim.\n{change.constant} = {_literal(change.after)}\n"
            )
        if change.before is not None:
            constants.append(
                f"# {change.path} as revision {change.before_revision} applied it"
                f" (restored on downgrade).\n{change.constant}_BEFORE = {_literal(change.before)}\n"
            )
    declared = "".join(
        f'    "{c.path}": {c.constant if c.after is not None else repr("")},\n' for c in changes
    )
    upgrade = [f"    op.execute({s!r})" for c in changes for s in c.upgrade_statements()]
    # Within a folder, new files first: a changed function may call a function that is new.
    applied = sorted(
        (c for c in changes if c.after is not None),
        key=lambda c: (FOLDERS.index(c.path.split("/", 1)[0]), c.before is not None),
    )
    upgrade += [f"    _execute({c.constant})" for c in applied]
    downgrade: list[str] = []
    for change in reversed(changes):
        downgrade += [f"    op.execute({s!r})" for s in change.downgrade_statements()]
        if change.before is not None:
            downgrade.append(f"    _execute({change.constant}_BEFORE)")
    files = "\n".join(f"- {c.path}" for c in changes)
    return f'''"""{message}

Declared files applied by this revision:
{files}

Revision ID: {revision}
Revises: {down_revision}
Create Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S}
"""

from collections.abc import Sequence

from alembic import op

revision: str = {revision!r}
down_revision: str | None = {down_revision!r}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

{chr(10).join(constants)}
# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {{
{declared}}}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
{chr(10).join(upgrade) or "    pass"}


def downgrade() -> None:
{chr(10).join(downgrade) or "    pass"}
'''


def slug(message: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "declared_change"


def write_revision(root: Path, scripts: ScriptDirectory, message: str) -> Path | None:
    """Write the revision for the pending changes; None when there is nothing to apply."""
    changes = pending_changes(root, scripts)
    if not changes:
        return None
    heads = scripts.get_heads()
    if len(heads) > 1:
        raise ValueError(f"the history has several heads ({', '.join(heads)}): merge them first")
    for change in changes:
        if change.before is None and change.after is not None:
            built = built_without_embedding(scripts, change.path, change.after)
            if built is not None:
                raise AdoptionRefused(
                    f"{change.path} was never embedded by a revision, but revision "
                    f"{built.revision} already creates its {built.what}: a downgrade written now "
                    "could only drop what the file creates (and disable RLS it did not enable). "
                    f"Embed the file's current text in the history first (DECLARED of revision "
                    f"{built.revision}, or a revision written by hand whose downgrade keeps the "
                    "objects), then edit the file; nothing was written"
                )
    revision = next_revision_id(scripts)
    path = Path(scripts.versions) / f"{revision}_{slug(message)}.py"
    path.write_text(
        render_revision(changes, revision, heads[0] if heads else None, message), encoding="utf-8"
    )
    _format(path)
    return path


def _format(path: Path) -> None:
    """Format the new revision like the rest of the project, when ruff is installed."""
    if importlib.util.find_spec("ruff") is None:
        return
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", str(path)], check=False, timeout=60
    )
