"""Proof coverage: which cells of an access matrix the proofs exercised.

A cell here is (object, action, actor class): the matrix's actors are reduced to what a
proof's identity shows, its role and whether its claims carry a ``sub``
(``anon``, ``authenticated``, ``authenticated without sub``, ``service_role``, custom roles).
Attempts come from :mod:`pgpolicy.postgrest.attempts`: a statement is parsed (sqlglot) into
the tables it reads and writes, an RPC covers the function's execute and call cells, a
channel join covers the four read/write cells of the topic patterns it matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from pgpolicy.analysis.matrix.probes import FUNCTION_ACTIONS, TOPIC_ACTIONS
from pgpolicy.analysis.matrix.spec import ActorSpec, MatrixSpec
from pgpolicy.postgrest.attempts import Attempt
from pgpolicy.postgrest.identity import Identity

__all__ = ["CoverageCell", "CoverageRecorder", "actor_class", "cells_of", "matrix_cells"]


@dataclass(frozen=True, order=True)
class CoverageCell:
    object: str
    action: str
    actor: str  # actor class

    def __str__(self) -> str:
        return f"{self.actor}: {self.object} {self.action}"


def actor_class(role: str, has_sub: bool) -> str:
    if role in ("anon", "service_role") or has_sub:
        return role
    return f"{role} without sub"


def _spec_class(actor: ActorSpec) -> str:
    claims = actor.claims or {}
    if actor.kind == "anon":
        return "anon"
    if actor.kind == "service_role":
        return "service_role"
    if actor.kind == "no_sub":
        return actor_class(str(claims.get("role", "authenticated")), False)
    if actor.kind == "role":
        return actor_class(str(actor.role), "sub" in claims)
    return actor_class(str(claims.get("role", "authenticated")), True)


def _identity_class(identity: Identity) -> str:
    return actor_class(identity.role, identity.sub is not None)


def matrix_cells(spec: MatrixSpec) -> set[CoverageCell]:
    """The cells a proof suite should exercise: the matrix file's, by actor class."""
    classes = {actor.name: _spec_class(actor) for actor in spec.actors}
    return {CoverageCell(c.object, c.action, classes[c.actor]) for c in spec.expect}


def _qualified(table: exp.Table, schema: str) -> str:
    return f"{table.db or schema}.{table.name}"


def _sql_cells(text: str, schema: str) -> list[tuple[str, str]]:
    try:
        statements = sqlglot.parse(text, dialect="postgres")
    except (ParseError, TokenError):
        return []
    found: list[tuple[str, str]] = []
    for statement in statements:
        if statement is None:
            continue
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        target: exp.Table | None = None
        if isinstance(statement, exp.Insert | exp.Update | exp.Delete):
            node = statement.this
            if isinstance(node, exp.Schema):  # insert into t (columns)
                node = node.this
            if isinstance(node, exp.Table):
                target = node
                found.append((_qualified(node, schema), statement.key))
        for table in statement.find_all(exp.Table):
            if table is target or table.name in ctes or not table.name:
                continue
            found.append((_qualified(table, schema), "select"))
        for call in statement.find_all(exp.Anonymous):
            name = call.name
            parent = call.parent
            owner = schema
            if isinstance(parent, exp.Dot) and parent.expression is call:
                owner = parent.this.name
            for action in FUNCTION_ACTIONS:
                found.append((f"{owner}.{name}()", action))
    return found


def _topic_pattern(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"<[^>]*>", pattern)
    return re.compile("^" + ".+".join(re.escape(part) for part in parts) + "$")


@dataclass
class CoverageRecorder:
    """Collects the cells exercised; ``listen(recorder)`` it to the attempts."""

    topics: list[str] = field(default_factory=list)  # the matrix's topic patterns
    exercised: set[CoverageCell] = field(default_factory=set)

    def __call__(self, attempt: Attempt) -> None:
        self.exercised |= cells_of(attempt, self.topics)


def cells_of(attempt: Attempt, topics: list[str]) -> set[CoverageCell]:
    who = _identity_class(attempt.identity)
    if attempt.kind == "rpc":
        return {CoverageCell(f"{attempt.target}()", a, who) for a in FUNCTION_ACTIONS}
    if attempt.kind == "join":
        return {
            CoverageCell(f"topic {pattern}", action, who)
            for pattern in topics
            if _topic_pattern(pattern).match(attempt.target)
            for action in TOPIC_ACTIONS
        }
    return {CoverageCell(o, a, who) for o, a in _sql_cells(attempt.target, "public")}


def _normalized(cell: CoverageCell) -> CoverageCell:
    # Overloads are labelled schema.name(argtypes) in the matrix; a call names schema.name.
    if cell.object.endswith(")") and "(" in cell.object:
        return CoverageCell(cell.object.split("(")[0] + "()", cell.action, cell.actor)
    return cell


def missing_cells(expected: set[CoverageCell], exercised: set[CoverageCell]) -> list[CoverageCell]:
    covered = {_normalized(c) for c in exercised}
    return sorted(c for c in expected if _normalized(c) not in covered)
