"""Reading pgoutput's binary messages (protocol version 1), the changes a logical slot holds.

Only what Postgres Changes needs: Begin/Commit (the commit time), Relation (the replica
identity and column names), Insert/Update/Delete with their tuples. A tuple's column is
NULL, unchanged TOAST (``UNCHANGED``: stored out of line and not rewritten, so the WAL does
not carry it) or its type's output text.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["UNCHANGED", "Decoded", "RowChange", "TupleValue", "decode_messages"]


class _Unchanged:
    """The marker of an unchanged TOASTed value (pgoutput's ``u``)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()

TupleValue = str | None | _Unchanged
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _RelationInfo:
    replica_identity: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class RowChange:
    """One row change of one committed transaction, as the WAL logged it."""

    relid: int
    action: str  # INSERT, UPDATE, DELETE
    replica_identity: str  # d, n, f, i
    new: dict[str, TupleValue] | None
    # The old tuple when the WAL has one: the key ("K") or the whole row ("O").
    old: dict[str, TupleValue] | None
    committed_at: datetime


@dataclass
class Decoded:
    """The decoder's state across reads: relations announced once stay known."""

    relations: dict[int, _RelationInfo] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return int(value)

    def byte(self) -> str:
        value = chr(self.data[self.at])
        self.at += 1
        return value

    def string(self) -> str:
        end = self.data.index(0, self.at)
        value = self.data[self.at : end].decode()
        self.at = end + 1
        return value

    def tuple(self, names: tuple[str, ...]) -> dict[str, TupleValue]:
        count = self.take("!h")
        values: dict[str, TupleValue] = {}
        for name in names[:count]:
            kind = self.byte()
            if kind == "n":
                values[name] = None
            elif kind == "u":
                values[name] = UNCHANGED
            else:  # "t": text (binary mode is never asked for)
                length = self.take("!i")
                values[name] = self.data[self.at : self.at + length].decode()
                self.at += length
        return values


def _timestamp(microseconds: int) -> datetime:
    return _POSTGRES_EPOCH + timedelta(microseconds=microseconds)


def decode_messages(state: Decoded, messages: list[bytes]) -> list[RowChange]:
    """The row changes of ``messages`` (whole transactions, in commit order)."""
    changes: list[RowChange] = []
    pending: list[tuple[int, str, dict[str, TupleValue] | None, dict[str, TupleValue] | None]]
    pending = []
    for message in messages:
        reader = _Reader(message)
        kind = reader.byte()
        if kind == "B":
            pending = []
        elif kind == "R":
            relid = reader.take("!I")
            reader.string()  # namespace
            reader.string()  # name
            identity = reader.byte()
            announced: list[str] = []
            for _ in range(reader.take("!h")):
                reader.take("!b")  # flags (part of the key)
                announced.append(reader.string())
                reader.take("!I")  # type oid
                reader.take("!i")  # typmod
            state.relations[relid] = _RelationInfo(identity, tuple(announced))
        elif kind in ("I", "U", "D"):
            relid = reader.take("!I")
            names = state.relations[relid].columns
            old: dict[str, TupleValue] | None = None
            new: dict[str, TupleValue] | None = None
            marker = reader.byte()
            if marker in ("K", "O"):
                old = reader.tuple(names)
                if kind == "U":
                    marker = reader.byte()
            if marker == "N":
                new = reader.tuple(names)
            action = {"I": "INSERT", "U": "UPDATE", "D": "DELETE"}[kind]
            pending.append((relid, action, new, old))
        elif kind == "C":
            reader.take("!b")  # flags
            reader.take("!Q")  # commit LSN
            reader.take("!Q")  # end LSN
            committed_at = _timestamp(reader.take("!q"))
            changes.extend(
                RowChange(
                    relid=relid,
                    action=action,
                    replica_identity=state.relations[relid].replica_identity,
                    new=new,
                    old=old,
                    committed_at=committed_at,
                )
                for relid, action, new, old in pending
            )
            pending = []
        # Type, origin, truncate and message records carry nothing Realtime sends.
    return changes
