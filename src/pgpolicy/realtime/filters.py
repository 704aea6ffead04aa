"""Postgres Changes column filters (``column=op.value``), parsed and checked as Realtime does.

Realtime splits a subscription's filter at top-level commas (outside parentheses and double
quotes) into filters that must all match (AND): ``status=eq.open,id=gt.3``. It validates each
one when it subscribes (the column must be one the subscriber's role may SELECT, the operator
one it knows, the value cast to the column's type) and evaluates it per change as
``value::type <op> filter::type`` (``= any(filter::type[])`` for ``in``); a NULL column value
never matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

__all__ = ["OPERATORS", "ColumnFilter", "SubscriptionError", "parse_filter", "parse_filters"]

# The operators Realtime accepts, with the SQL each one compiles to.
OPERATORS: dict[str, str] = {
    "eq": "=",
    "neq": "<>",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "in": "= any",
}


class SubscriptionError(ValueError):
    """Realtime refuses the subscription (unknown table or column, bad filter)."""


@dataclass(frozen=True)
class ColumnFilter:
    """One column filter: ``column=op.value`` (``in`` takes ``(a,b,…)``)."""

    column: str
    op: str
    value: str | tuple[str, ...]

    def __str__(self) -> str:
        value = f"({','.join(self.value)})" if isinstance(self.value, tuple) else self.value
        return f"{self.column}={self.op}.{value}"


def parse_filters(text: str) -> tuple[ColumnFilter, ...]:
    """Every filter of the client's filter string, in order (they are ANDed)."""
    if not text.strip():
        return ()
    segments = [segment.strip() for segment in _split_top_level(text.strip())]
    if any(not segment for segment in segments):
        raise SubscriptionError(
            f"filter {text!r}: filter must not contain empty segments (check for extra commas)"
        )
    return tuple(parse_filter(segment) for segment in segments)


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses and double-quoted values."""
    segments: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in text:
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            continue
        if char == '"' and (not current or current[-1] in ".(,"):
            quoted = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            segments.append("".join(current))
            current = []
            continue
        current.append(char)
    segments.append("".join(current))
    return segments


def parse_filter(text: str) -> ColumnFilter:
    """Parse the client's filter string, e.g. ``status=eq.open`` or ``id=in.(1,2)``."""
    column, equals, rest = text.partition("=")
    op, dot, value = rest.partition(".")
    if not equals or not dot or not column:
        raise SubscriptionError(f"filter {text!r} is not of the form column=op.value")
    if op not in OPERATORS:
        raise SubscriptionError(f"filter {text!r}: unknown operator {op!r}")
    if op == "in":
        if not (value.startswith("(") and value.endswith(")")):
            raise SubscriptionError(f"filter {text!r}: `in` takes a list, e.g. in.(a,b)")
        items = tuple(item.strip().strip('"') for item in value[1:-1].split(",") if item.strip())
        return ColumnFilter(column=column, op=op, value=items)
    return ColumnFilter(column=column, op=op, value=value)


def _comparison(column_filter: ColumnFilter, type_name: str) -> sql.Composed:
    column_type = sql.SQL(type_name)  # from the catalog (regtype output), already quoted
    if column_filter.op == "in":
        return sql.SQL(
            "(%(value)s::jsonb #>> '{{}}')::{t} = any(%(filter)s::text[]::{t}[])"
        ).format(t=column_type)
    return sql.SQL("(%(value)s::jsonb #>> '{{}}')::{t} {op} %(filter)s::{t}").format(
        t=column_type, op=sql.SQL(OPERATORS[column_filter.op])
    )


def check_filter(
    conn: psycopg.Connection[Any], column_filter: ColumnFilter, column_types: dict[str, str]
) -> None:
    """Refuse the filter as Realtime does at subscribe time (raises SubscriptionError)."""
    if column_filter.column not in column_types:
        raise SubscriptionError(f"invalid column for filter {column_filter.column}")
    type_name = column_types[column_filter.column]
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(
                sql.SQL("select ") + _comparison(column_filter, type_name),
                {"value": "null", "filter": _filter_param(column_filter)},
            )
    except psycopg.Error as error:
        raise SubscriptionError(
            f"filter {column_filter}: {error.diag.message_primary} (SQLSTATE {error.sqlstate})"
        ) from error


def filter_matches(
    conn: psycopg.Connection[Any],
    column_filter: ColumnFilter,
    row: dict[str, Any],
    column_types: dict[str, str],
) -> bool:
    """Whether ``row`` (column -> JSON value; absent columns never match) passes the filter."""
    if column_filter.column not in row or column_filter.column not in column_types:
        return False
    comparison = _comparison(column_filter, column_types[column_filter.column])
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("select coalesce(") + comparison + sql.SQL(", false)"),
            {
                "value": Jsonb(row[column_filter.column]),
                "filter": _filter_param(column_filter),
            },
        )
        result = cur.fetchone()
    return bool(result and result[0])


def _filter_param(column_filter: ColumnFilter) -> str | list[str]:
    return (
        list(column_filter.value) if isinstance(column_filter.value, tuple) else column_filter.value
    )
