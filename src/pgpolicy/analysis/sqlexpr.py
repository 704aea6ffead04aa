"""Policy expressions and function bodies as parsed SQL (sqlglot, PostgreSQL dialect).

The text comes from ``pg_get_expr`` (read with an empty search_path, so every name outside
pg_catalog is schema-qualified); nothing here matches SQL as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType  # type: ignore[attr-defined]

__all__ = [
    "column_refs",
    "conjuncts",
    "function_calls",
    "function_name",
    "is_initplan_wrapped",
    "parse_expression",
    "parse_statements",
    "strip_parens",
]

_NAME = re.compile(r"[A-Za-z_][\w$]*")
_STATEMENT_STARTS = {
    TokenType.SELECT: "select",
    TokenType.INSERT: "insert",
    TokenType.UPDATE: "update",
    TokenType.DELETE: "delete",
    TokenType.WITH: "with",
}


def parse_expression(text: str) -> exp.Expression:
    """Parse one boolean expression as ``pg_get_expr`` prints it."""
    return sqlglot.parse_one(text, dialect="postgres")


def strip_parens(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def conjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    """The top-level AND terms of an expression (parentheses removed)."""
    node = strip_parens(node)
    if isinstance(node, exp.And):
        yield from conjuncts(node.left)
        yield from conjuncts(node.right)
    else:
        yield node


def function_name(node: exp.Expression) -> str | None:
    """``auth.uid`` for ``auth.uid()``, ``current_setting`` for an unqualified call."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Anonymous):
        schema = node.this.name if isinstance(node.this, exp.Identifier | exp.Column) else ""
        return f"{schema}.{node.expression.name}".lower()
    if isinstance(node, exp.Anonymous):
        if isinstance(node.parent, exp.Dot) and node.parent.expression is node:
            return None  # reported through its Dot
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return str(node.key).lower()
    return None


def function_calls(node: exp.Expression, names: set[str]) -> Iterator[exp.Expression]:
    """Every call to one of ``names`` (schema-qualified or bare) inside ``node``."""
    for child in node.walk():
        name = function_name(child)
        if name is not None and name in names:
            yield child


def is_initplan_wrapped(call: exp.Expression) -> bool:
    """Whether ``call`` sits in a scalar subquery without FROM: evaluated once per query.

    The nearest enclosing SELECT decides: inside ``(select auth.uid())`` the call is an
    InitPlan; inside a subquery that reads a table it runs for each row of that table.
    """
    node = call.parent
    while node is not None:
        if isinstance(node, exp.Select):
            return node.args.get("from_") is None and node.args.get("from") is None
        node = node.parent
    return False


def column_refs(node: exp.Expression) -> Iterator[exp.Column]:
    for child in node.walk():
        if isinstance(child, exp.Column):
            yield child


def parse_statements(body: str, language: str) -> list[exp.Expression]:
    """The SQL statements of a function body: all of an SQL function, and the embedded
    statements of a PL/pgSQL one (procedural lines are skipped, each statement parsed alone).
    Statements sqlglot cannot parse are left out.
    """
    if language == "sql":
        chunks = [body]
    elif language == "plpgsql":
        chunks = [_without_into_targets(chunk) for chunk in _plpgsql_statements(body)]
    else:
        return []
    statements: list[exp.Expression] = []
    for chunk in chunks:
        try:
            parsed = sqlglot.parse(chunk, dialect="postgres")
        except (ParseError, TokenError):
            continue
        statements.extend(statement for statement in parsed if statement is not None)
    return statements


def _without_into_targets(statement: str) -> str:
    """``statement`` without PL/pgSQL's ``into [strict] target, …`` clause.

    PL/pgSQL stores a row in variables with INTO (after the select list or after RETURNING);
    SQL would read it as ``select … into new_table``, and a list of targets does not parse.
    ``insert into`` and ``merge into`` name a table and are kept.
    """
    try:
        tokens = sqlglot.tokenize(statement, read="postgres")
    except TokenError:
        return statement
    depth = 0
    for number, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif (
            token.token_type == TokenType.INTO
            and depth == 0
            and number > 0
            and tokens[number - 1].text.lower() not in ("insert", "merge")
        ):
            end = _after_into_targets(tokens, number + 1)
            if end is None:
                return statement
            return statement[: token.start] + " " + _without_into_targets(statement[end:])
    return statement


def _after_into_targets(tokens: list[Token], number: int) -> int | None:
    """Offset in the text just after the targets starting at token ``number``."""
    if number < len(tokens) and tokens[number].text.lower() == "strict":
        number += 1
    end: int | None = None
    expect_name = True
    while number < len(tokens):
        token = tokens[number]
        if expect_name:
            if not _is_name(token):
                return None
            end, expect_name = token.end + 1, False
        elif token.token_type in (TokenType.COMMA, TokenType.DOT):
            expect_name = True
        else:
            break
        number += 1
    return None if expect_name else end


def _is_name(token: Token) -> bool:
    return token.token_type == TokenType.IDENTIFIER or _NAME.fullmatch(token.text) is not None


def _plpgsql_statements(body: str) -> Iterator[str]:
    """Each embedded SQL statement, from its first keyword to its semicolon, or to the
    parenthesis that closes it (``return (select …)``, ``if exists (select …) then``)."""
    try:
        tokens = sqlglot.tokenize(body, read="postgres")
    except TokenError:
        return
    start: int | None = None
    prefix = ""
    base = depth = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if start is not None and depth < base:
                yield prefix + body[start : token.start]
                start = None
            continue
        if start is not None:
            if token.token_type == TokenType.SEMICOLON and depth == base:
                yield prefix + body[start : token.start]
                start = None
            continue
        if token.token_type in _STATEMENT_STARTS:
            start, prefix, base = token.start, "", depth
        elif token.text.lower() == "perform":
            # PERFORM runs a SELECT whose result is discarded.
            start, prefix, base = token.end + 1, "select ", depth
    if start is not None:
        yield prefix + body[start:]
