"""A lint rule describes itself (splinter style) and yields the objects it finds at fault."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pgpolicy.analysis.lint.catalog import LintCatalog

__all__ = ["LEVELS", "Finding", "Hit", "Level", "Rule"]

Level = Literal["error", "warn", "info"]
LEVELS: tuple[Level, ...] = ("info", "warn", "error")  # ascending severity


@dataclass(frozen=True)
class Hit:
    """What a check reports: the object at fault and why, in a sentence."""

    object: str
    message: str


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    level: Level
    category: Literal["security", "performance", "realtime"]
    description: str
    remediation: str
    check: Callable[[LintCatalog], Iterable[Hit]]


@dataclass(frozen=True)
class Finding:
    rule: Rule
    object: str
    message: str
    suppressed_because: str | None = None

    @property
    def suppressed(self) -> bool:
        return self.suppressed_because is not None
