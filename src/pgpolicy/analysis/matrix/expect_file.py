"""`pgpolicy matrix --write-expect`: a run's verdicts as the matrix file's ``[expect]``.

Everything else in the file (actors, seed, rows, functions, topics, their comments) is kept
as written; the ``[expect.…]`` tables are replaced by the run's, one per object, its actions
in probe order. (Comments inside the old ``[expect]`` tables go with them.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pgpolicy.analysis.matrix.probes import Matrix

__all__ = ["render_expect", "write_expect"]

_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def render_expect(matrix: Matrix) -> str:
    """The ``[expect."object"]`` tables of ``matrix``'s verdicts."""
    verdicts = {(c.object, c.action, c.actor): str(v) for c, v in matrix.verdicts.items()}
    blocks: list[str] = []
    for obj in dict.fromkeys(obj for obj, _action in matrix.rows):
        lines = [f"[expect.{json.dumps(obj)}]"]
        for action in (action for row_object, action in matrix.rows if row_object == obj):
            cells = [
                f"{_key(actor)} = {json.dumps(verdicts[(obj, action, actor)])}"
                for actor, _label in matrix.actors
                if (obj, action, actor) in verdicts
            ]
            lines.append(f"{_key(action)} = {{ {', '.join(cells)} }}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write_expect(path: Path, matrix: Matrix) -> None:
    """Replace ``path``'s ``[expect]`` tables with ``matrix``'s verdicts."""
    kept: list[str] = []
    in_expect = False
    for line in path.read_text(encoding="utf-8").splitlines():
        header = _HEADER.match(line)
        if header is not None:
            name = header.group("name").strip()
            in_expect = name == "expect" or name.startswith("expect.")
        if not in_expect:
            kept.append(line)
    head = "\n".join(kept).rstrip()
    path.write_text((head + "\n\n" if head else "") + render_expect(matrix), encoding="utf-8")
