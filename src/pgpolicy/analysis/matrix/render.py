"""The matrix as a terminal table, Markdown, or JSON; and its comparison with an expected file."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pgpolicy.analysis.matrix.probes import Matrix
from pgpolicy.analysis.matrix.spec import MatrixSpec
from pgpolicy.analysis.matrix.verdict import Cell, Verdict

__all__ = [
    "Difference",
    "compare",
    "expected_matrix",
    "render_json",
    "render_markdown",
    "render_text",
]


def _grid(matrix: Matrix, headers: list[str]) -> list[list[str]]:
    rows = [["object", "action", *headers]]
    for object_name, action in matrix.rows:
        cells = [
            str(matrix.verdicts.get(Cell(object_name, action, name), "—"))
            for name, _ in matrix.actors
        ]
        rows.append([object_name, action, *cells])
    return rows


def render_text(matrix: Matrix) -> str:
    grid = _grid(matrix, [name for name, _ in matrix.actors])
    widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
    lines = []
    previous = None
    for number, row in enumerate(grid):
        shown = list(row)
        if number > 0 and row[0] == previous:
            shown[0] = ""  # the object once per group of actions
        previous = row[0] if number > 0 else None
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(shown, widths, strict=True)).rstrip()
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_markdown(matrix: Matrix) -> str:
    headers = [f"{name} ({label})" if label != name else name for name, label in matrix.actors]
    grid = _grid(matrix, headers)
    lines = ["| " + " | ".join(grid[0]) + " |", "|" + "---|" * len(grid[0])]
    for row in grid[1:]:
        lines.append("| " + " | ".join([f"`{row[0]}`", *row[1:]]) + " |")
    return "\n".join(lines)


def render_json(matrix: Matrix) -> str:
    return json.dumps(
        {
            "actors": [{"name": name, "label": label} for name, label in matrix.actors],
            "cells": [
                {
                    "object": cell.object,
                    "action": cell.action,
                    "actor": cell.actor,
                    "verdict": verdict.kind,
                    "rows": verdict.rows,
                    "sqlstate": verdict.sqlstate,
                    "message": verdict.message,
                }
                for cell, verdict in matrix.verdicts.items()
            ],
        },
        indent=2,
    )


def expected_matrix(spec: MatrixSpec) -> Matrix:
    """The file's expected verdicts as a matrix (what the README's table is made of)."""
    matrix = Matrix(actors=[(actor.name, actor.label) for actor in spec.actors])
    for cell, verdict in spec.expect.items():
        matrix.add(cell, verdict)
    return matrix


@dataclass(frozen=True)
class Difference:
    cell: Cell
    expected: Verdict | None  # None: probed, but the file does not say
    probed: Verdict | None  # None: expected, but no such object was probed

    def __str__(self) -> str:
        expected = "not in the file" if self.expected is None else str(self.expected)
        if self.probed is None:
            probed = "not probed (no such object)"
        else:
            probed = str(self.probed)
            if self.probed.message:
                probed += f" ({self.probed.message})"
        return f"{self.cell}: expected {expected}, got {probed}"


def compare(matrix: Matrix, expect: dict[Cell, Verdict]) -> list[Difference]:
    """Every cell whose probed verdict is not the expected one, and cells only one side has."""
    differences = []
    for cell, probed in matrix.verdicts.items():
        expected = expect.get(cell)
        if expected is None or not probed.satisfies(expected):
            differences.append(Difference(cell, expected, probed))
    for cell, expected in expect.items():
        if cell not in matrix.verdicts:
            differences.append(Difference(cell, expected, None))
    return sorted(differences, key=lambda d: d.cell)
