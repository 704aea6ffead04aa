"""Attempts made on behalf of an identity (a statement, an RPC, a channel join), announced to
whoever listens: proof coverage records them. With no listener this costs one list check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from pgpolicy.postgrest.identity import Identity

__all__ = ["Attempt", "AttemptKind", "listen", "listening", "muted", "notify"]

AttemptKind = Literal["sql", "rpc", "join"]


@dataclass(frozen=True)
class Attempt:
    identity: Identity
    kind: AttemptKind
    target: str  # the SQL text, `schema.function`, or the topic


Listener = Callable[[Attempt], None]
_listeners: list[Listener] = []
_muted = 0


def listen(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` with every attempt from now on; returns the way to stop."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def listening() -> bool:
    return bool(_listeners) and not _muted


def notify(attempt: Attempt) -> None:
    if listening():
        for listener in list(_listeners):
            listener(attempt)


@contextmanager
def muted() -> Iterator[None]:
    """Attempts made inside are not announced (e.g. the matrix's own probes)."""
    global _muted
    _muted += 1
    try:
        yield
    finally:
        _muted -= 1
