"""What the migration history embeds: the newest text of each declared file.

Every revision that applies a declared file lists it in a module-level ``DECLARED`` mapping
(path -> exact SQL text). Walking from base to head gives, per path, the text the database
holds after ``upgrade head``; a missing path in every revision means "never applied".
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.script import ScriptDirectory


@dataclass(frozen=True)
class EmbeddedFile:
    """The newest embedded text of a declared file and the revision that embeds it."""

    path: str
    sql: str
    revision: str


def embedded_state(scripts: ScriptDirectory) -> dict[str, EmbeddedFile]:
    """Map each declared path to its newest embedded text (a removed file maps to '')."""
    state: dict[str, EmbeddedFile] = {}
    for script in reversed(list(scripts.walk_revisions("base", "heads"))):
        declared = getattr(script.module, "DECLARED", {})
        for path, text in declared.items():
            state[path] = EmbeddedFile(path=path, sql=text, revision=script.revision)
    return {path: item for path, item in state.items() if item.sql}
