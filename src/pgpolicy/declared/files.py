"""Load policies/<schema>.<table>.sql and rpc/<schema>.<function>.sql."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDERS = ("rpc", "policies")  # functions first: policies may call them


@dataclass(frozen=True)
class DeclaredFile:
    """One declared object: its project-relative path and its SQL text."""

    path: str
    sql: str

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def qualified_name(self) -> str:
        """`schema.table` (policies/) or `schema.function` (rpc/), from the file name."""
        return self.path.split("/", 1)[1].removesuffix(".sql")


def load_declared(root: Path) -> list[DeclaredFile]:
    """Every declared file under ``root``, rpc/ before policies/, each folder sorted by name."""
    files: list[DeclaredFile] = []
    for folder in FOLDERS:
        for file in sorted((root / folder).glob("*.sql")):
            if file.name.count(".") != 2:
                raise ValueError(f"{folder}/{file.name}: name it <schema>.<name>.sql")
            files.append(DeclaredFile(f"{folder}/{file.name}", file.read_text(encoding="utf-8")))
    return files
