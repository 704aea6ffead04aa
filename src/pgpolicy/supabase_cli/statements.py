"""Splitting a Supabase CLI SQL file into statements, as the CLI sends them one by one.

The CLI splits each file on semicolons outside quotes, quoted identifiers, dollar-quoted
bodies, comments, parentheses and SQL-standard function bodies (`BEGIN ATOMIC ... END`),
trims each piece and drops the empty ones; each statement keeps the line of the file it
starts on, so a failure can name it. A `BEGIN ATOMIC` body ends at its own END: CASE
expressions inside it are counted, so their END does not close it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Statement", "split_statements"]

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
# Any letter starts a word: PostgreSQL takes non-ASCII letters in unquoted identifiers.
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Statement:
    """One statement of a file, with the 1-based line its code (after comments) starts on."""

    sql: str
    line: int


def split_statements(text: str) -> list[Statement]:
    """The file's statements in order (without their terminating semicolons)."""
    statements: list[Statement] = []
    start = 0
    i = 0
    n = len(text)
    parentheses = 0
    # Inside BEGIN ATOMIC: 1 for the body, one more per open CASE; 0 outside.
    atomic = 0
    previous_word = ""
    while i < n:
        char = text[i]
        if char == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif char == "/" and text.startswith("/*", i):
            i = _end_of_block_comment(text, i)
        elif char == "'":
            backslashes = i > 0 and text[i - 1] in "eE" and not _is_word(text, i - 2)
            i = _end_of_quoted(text, i, "'", backslashes=backslashes)
        elif char == '"':
            i = _end_of_quoted(text, i, '"', backslashes=False)
        elif char == "$" and not _is_word(text, i - 1):
            match = _DOLLAR_TAG.match(text, i)
            if match is None:
                i += 1
            else:
                close = text.find(match.group(0), match.end())
                i = n if close < 0 else close + len(match.group(0))
        elif char == "(":
            parentheses += 1
            i += 1
        elif char == ")":
            parentheses = max(0, parentheses - 1)
            i += 1
        elif (char.isalpha() or char == "_") and not _is_word(text, i - 1):
            end = _WORD.match(text, i).end()  # type: ignore[union-attr]  # a letter is a word
            keyword = text[i:end].lower()
            if atomic == 0 and keyword == "atomic" and previous_word == "begin":
                atomic = 1
            elif atomic and keyword == "case":
                atomic += 1
            elif atomic and keyword == "end":
                atomic -= 1
            previous_word = keyword
            i = end
        elif char == ";" and parentheses == 0 and atomic == 0:
            _keep(statements, text, start, i)
            i += 1
            start = i
            previous_word = ""
        else:
            i += 1
    _keep(statements, text, start, n)
    return statements


def _keep(statements: list[Statement], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped or _only_comments(stripped):
        return
    line = text.count("\n", 0, start + _code_offset(piece)) + 1
    statements.append(Statement(sql=stripped, line=line))


def _code_offset(piece: str) -> int:
    """Where the statement's code starts, after leading whitespace and comments."""
    i = 0
    while i < len(piece):
        if piece[i].isspace():
            i += 1
        elif piece.startswith("--", i):
            end = piece.find("\n", i)
            i = len(piece) if end < 0 else end + 1
        elif piece.startswith("/*", i):
            i = _end_of_block_comment(piece, i)
        else:
            break
    return i


def _only_comments(piece: str) -> bool:
    rest = piece
    while rest:
        if rest.startswith("--"):
            end = rest.find("\n")
            rest = "" if end < 0 else rest[end + 1 :].lstrip()
        elif rest.startswith("/*"):
            rest = rest[_end_of_block_comment(rest, 0) :].lstrip()
        else:
            return False
    return True


def _is_word(text: str, i: int) -> bool:
    return i >= 0 and (text[i].isalnum() or text[i] == "_")


def _end_of_block_comment(text: str, i: int) -> int:
    depth = 0
    n = len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _end_of_quoted(text: str, i: int, quote: str, *, backslashes: bool) -> int:
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        if backslashes and char == "\\":
            i += 2
        elif char == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return n
