"""One cell's answer: allowed (n rows) · filtered (0 rows, data unchanged) · denied (42501)
· error (SQLSTATE)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Cell", "Verdict", "VerdictKind"]

VerdictKind = Literal["allowed", "filtered", "denied", "error"]
_KINDS: tuple[VerdictKind, ...] = ("allowed", "filtered", "denied", "error")


@dataclass(frozen=True, order=True)
class Cell:
    """Where a verdict sits: an object (table, function, topic), an action, an actor."""

    object: str
    action: str
    actor: str

    def __str__(self) -> str:
        return f"{self.actor}: {self.object} {self.action}"


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    rows: int | None = None  # allowed: how many rows came back or were touched
    sqlstate: str | None = None  # error (and denied: 42501)
    message: str | None = None

    def __str__(self) -> str:
        if self.kind == "allowed" and self.rows is not None:
            return f"allowed {self.rows}"
        if self.kind == "error":
            return f"error {self.sqlstate}"
        return self.kind

    @classmethod
    def parse(cls, text: str) -> Verdict:
        """``allowed``, ``allowed 2``, ``filtered``, ``denied``, ``error``, ``error 22023``."""
        kind, _, detail = text.strip().partition(" ")
        if kind not in _KINDS:
            raise ValueError(f"unknown verdict {text!r}: use one of {', '.join(_KINDS)}")
        if kind == "allowed":
            return cls("allowed", rows=int(detail) if detail else None)
        if kind == "error":
            return cls("error", sqlstate=detail or None)
        return cls(kind)

    def satisfies(self, expected: Verdict) -> bool:
        """Whether this probed verdict is what ``expected`` (maybe less precise) says."""
        if self.kind != expected.kind:
            return False
        if expected.rows is not None and self.rows != expected.rows:
            return False
        return expected.sqlstate is None or self.sqlstate == expected.sqlstate
