"""The README's example proof is a real one: it is taken from README.md and run as it stands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pgpolicy.testing import Database

README = Path(__file__).resolve().parents[1] / "README.md"


def _example_proofs() -> dict[str, Any]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## What a proof looks like", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README.md's 'What a proof looks like' has no python block"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(README), "exec"), namespace)
    return {name: value for name, value in namespace.items() if name.startswith("test_")}


def test_the_readme_example_proof_passes_on_the_chat_schema(db: Database) -> None:
    proofs = _example_proofs()
    assert proofs, "README.md's example defines no test function"
    for proof in proofs.values():
        proof(db)
