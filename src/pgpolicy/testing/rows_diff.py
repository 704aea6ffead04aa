"""A readable difference between two snapshots of a table, for a failed `db.unchanged`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["rows_diff"]

_SHOWN = 10


def rows_diff(
    columns: Sequence[str], before: Sequence[tuple[Any, ...]], after: Sequence[tuple[Any, ...]]
) -> str:
    """The rows gone (``-``) and the rows that appeared (``+``), each as column=value pairs;
    an updated row shows as one of each."""
    # Rows are compared by their repr: values may be unhashable (jsonb as dicts, arrays).
    by_text = {repr(row): row for row in (*before, *after)}
    old, new = Counter(map(repr, before)), Counter(map(repr, after))
    gone = [by_text[text] for text in (old - new).elements()]
    came = [by_text[text] for text in (new - old).elements()]
    lines = [f"  - {_row(columns, row)}" for row in gone[:_SHOWN]]
    lines += [f"  + {_row(columns, row)}" for row in came[:_SHOWN]]
    hidden = max(0, len(gone) - _SHOWN) + max(0, len(came) - _SHOWN)
    if hidden:
        lines.append(f"  … and {hidden} more")
    lines.append(f"  ({len(gone)} row(s) gone, {len(came)} appeared; {len(before)} before)")
    return "\n".join(lines)


def _row(columns: Sequence[str], row: tuple[Any, ...]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in zip(columns, row, strict=False))
