"""Reading parsed policy expressions: which columns of the policed row a term compares."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.sqlexpr import conjuncts, strip_parens

__all__ = [
    "REALTIME_MESSAGES",
    "compared_columns",
    "outer_columns",
    "row_column",
    "string_values",
]

REALTIME_MESSAGES = "realtime.messages"

_COMPARISONS = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def outer_columns(node: exp.Expression) -> Iterator[exp.Column]:
    """Columns of ``node`` outside any subquery: the policed row's own columns."""
    for child in node.walk(prune=lambda n: isinstance(n, exp.Subquery | exp.Exists | exp.Select)):
        if isinstance(child, exp.Column):
            yield child


def row_column(node: exp.Expression, table: str, columns: tuple[str, ...]) -> str | None:
    """The policed table's column that ``node`` is, if it is one (``col`` or ``table.col``)."""
    node = strip_parens(node)
    while isinstance(node, exp.Cast):
        node = strip_parens(node.this)
    if not isinstance(node, exp.Column) or node.name not in columns:
        return None
    return node.name if node.table in ("", table) else None


def compared_columns(expression: exp.Expression, table: str, columns: tuple[str, ...]) -> set[str]:
    """Columns of the policed row that a term compares with a value (index-usable shapes).

    ``col = v``, ``v = col``, ``col < v``…, ``col = any(array[…])``, ``col in (select …)``,
    through AND and OR; ``v`` must not read the policed row itself.
    """
    found: set[str] = set()
    for term in conjuncts(expression):
        if isinstance(term, exp.Or):
            found |= compared_columns(term.left, table, columns)
            found |= compared_columns(term.right, table, columns)
        elif isinstance(term, _COMPARISONS):
            for side, other in ((term.this, term.expression), (term.expression, term.this)):
                column = row_column(side, table, columns)
                if column is not None and not _reads_row(other, table, columns):
                    found.add(column)
        elif isinstance(term, exp.In):
            column = row_column(term.this, table, columns)
            if column is not None:
                found.add(column)
    return found


def _reads_row(node: exp.Expression, table: str, columns: tuple[str, ...]) -> bool:
    return any(row_column(column, table, columns) for column in outer_columns(node))


def string_values(node: exp.Expression) -> list[str] | None:
    """The string constants of ``'x'``, ``any(array['x', 'y'])`` or ``('x', 'y')``; None if
    anything else is there."""
    node = strip_parens(node)
    while isinstance(node, exp.Cast):
        node = strip_parens(node.this)
    if isinstance(node, exp.Literal) and node.is_string:
        return [node.this]
    if isinstance(node, exp.Any):
        return string_values(node.this)
    if isinstance(node, exp.Array | exp.Tuple):
        values: list[str] = []
        for item in node.expressions:
            inner = string_values(item)
            if inner is None:
                return None
            values += inner
        return values
    return None
