"""Refuse transaction control inside a revision, before it runs.

Each revision runs in one transaction, so that a failure leaves nothing of it behind. A
`begin; … commit;` pasted into a revision's SQL (common in Supabase SQL files) ends that
transaction midway: whatever fails after the COMMIT leaves the first half applied. The
statements a revision sends are read (sqlglot's PostgreSQL tokenizer: comments, strings and
dollar-quoted bodies are skipped, so a PL/pgSQL ``begin … end`` is no statement) and one
whose first word starts or ends a transaction is refused with 2D000, before it is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

__all__ = [
    "TRANSACTION_CONTROL_SQLSTATE",
    "TransactionControlInRevision",
    "find_transaction_control",
    "refuse_transaction_control",
]

TRANSACTION_CONTROL_SQLSTATE = "2D000"  # invalid_transaction_termination

_STARTS_OR_ENDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}
# Most statements hold none of these words: they are not tokenized at all.
_CANDIDATE = re.compile(r"\b(begin|start|commit|end|rollback|abort)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ControlStatement:
    """A statement that starts or ends a transaction: its command and line."""

    command: str
    line: int


class TransactionControlInRevision(Exception):
    """A revision's SQL starts or ends a transaction; nothing of it was sent."""

    sqlstate = TRANSACTION_CONTROL_SQLSTATE

    def __init__(self, found: ControlStatement, line_text: str) -> None:
        self.found = found
        super().__init__(
            f"{found.command} at line {found.line} of the statement ({line_text.strip()!r})"
            " would end the revision's transaction, and a later failure would leave part of"
            " the revision applied: remove the transaction control (each revision already"
            " runs in one transaction)"
        )


def find_transaction_control(sql_text: str) -> ControlStatement | None:
    """The first statement of ``sql_text`` that starts or ends a transaction, if any."""
    if not _CANDIDATE.search(sql_text):
        return None
    try:
        tokens = Postgres().tokenizer().tokenize(sql_text)
    except SqlglotError:
        return None  # unreadable here: the server will judge it
    for statement in _statements(tokens):
        first = statement[0]
        command = first.text.upper()
        if command not in _STARTS_OR_ENDS:
            continue
        if command == "ROLLBACK" and any(t.text.upper() == "TO" for t in statement[1:3]):
            continue  # rolling back to a savepoint keeps the transaction
        return ControlStatement(command, first.line)
    return None


def _statements(tokens: list[Token]) -> list[list[Token]]:
    """Tokens split at semicolons, except inside a SQL function's BEGIN ATOMIC … END."""
    statements: list[list[Token]] = [[]]
    atomic = cases = 0
    for index, token in enumerate(tokens):
        current = statements[-1]
        word = token.text.upper()
        if token.token_type == TokenType.SEMICOLON and atomic == 0:
            statements.append([])
            continue
        if current and word == "BEGIN" and index + 1 < len(tokens):
            if tokens[index + 1].text.upper() == "ATOMIC":
                atomic += 1
        elif word == "CASE":
            cases += 1
        elif current and word == "END" and (cases or atomic):
            if cases:
                cases -= 1
            else:
                atomic -= 1
        current.append(token)
    return [statement for statement in statements if statement]


def refuse_transaction_control(connection: Connection) -> None:
    """Refuse, on ``connection``, every statement that would start or end a transaction."""

    def check(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        found = find_transaction_control(statement)
        if found is not None:
            lines = statement.splitlines()
            text = lines[found.line - 1] if 0 < found.line <= len(lines) else found.command
            raise TransactionControlInRevision(found, text)

    event.listen(connection, "before_cursor_execute", check)
