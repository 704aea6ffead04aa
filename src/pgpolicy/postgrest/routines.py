"""Functions as PostgREST's schema cache sees them (its ``funcsSqlQuery``, read afresh).

What a request needs of a function: its input parameters (name, type, required, VARIADIC),
volatility (STABLE and IMMUTABLE calls run read-only), return shape, and the settings of its
``SET`` clauses that PostgREST hoists into the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

__all__ = ["HOISTED_SETTINGS", "Parameter", "Routine", "routines"]

# db-hoisted-tx-settings' default: a function's SET of these governs the whole transaction.
HOISTED_SETTINGS = (
    "statement_timeout",
    "plan_filter.statement_cost_limit",
    "default_transaction_isolation",
)

# Types an unnamed parameter may have and still be callable (a raw request body).
_UNNAMED_CALLABLE = {"bytea", "json", "jsonb", "text", "xml"}

_ROUTINES = """
select p.oid::regprocedure::text as signature,
       p.provolatile::text as volatility,
       p.proretset as returns_set,
       p.prorettype = 'pg_catalog.void'::pg_catalog.regtype as returns_void,
       p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype as returns_trigger,
       (t.typtype = 'c' or coalesce(p.proargmodes::text[] && '{t,b,o}', false))
         as returns_composite,
       coalesce(p.proargnames, '{}') as names,
       coalesce(p.proargmodes::text[], '{}') as modes,
       array(select a.t::pg_catalog.regtype::text
             from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality a(t, i)
             order by a.i) as types,
       p.pronargs as inputs,
       p.pronargdefaults as defaults,
       coalesce(p.proconfig, '{}') as config
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_type rt on rt.oid = p.prorettype
join pg_catalog.pg_type t on t.oid = coalesce(nullif(rt.typbasetype, 0), rt.oid)
where n.nspname = %s and p.proname = %s and p.prokind = 'f'
order by p.pronargs, p.oid
"""


@dataclass(frozen=True)
class Parameter:
    name: str  # "" when unnamed
    type: str  # as `regtype::text` writes it: integer, text, uuid[], character varying
    required: bool
    variadic: bool

    @property
    def record_type(self) -> str:
        """The type json_to_record reads it as: bit and character take any length."""
        return {
            "bit": "bit varying",
            "bit[]": "bit varying[]",
            "character": "character varying",
            "character[]": "character varying[]",
        }.get(self.type, self.type)


@dataclass(frozen=True)
class Routine:
    schema: str
    name: str
    signature: str
    parameters: tuple[Parameter, ...]
    volatility: str  # v, s or i
    returns_set: bool
    returns_void: bool
    returns_composite: bool
    settings: tuple[tuple[str, str], ...]  # its hoisted SET settings, in proconfig order
    isolation: str | None  # its SET default_transaction_isolation

    @property
    def read_only(self) -> bool:
        """PostgREST calls a STABLE or IMMUTABLE function with POST in a READ ONLY transaction."""
        return self.volatility in ("s", "i")

    @property
    def returns_scalar(self) -> bool:
        return not self.returns_composite


def _parameters(row: dict[str, Any]) -> tuple[Parameter, ...] | None:
    """The input parameters, or None when PostgREST cannot call the function at all."""
    names: list[str] = list(row["names"])
    modes: list[str] = list(row["modes"]) or ["i"] * len(row["types"])
    types: list[str] = list(row["types"])
    names += [""] * (len(types) - len(names))
    inputs = [
        (n, t, m) for n, t, m in zip(names, types, modes, strict=True) if m in ("i", "b", "v")
    ]
    required = row["inputs"] - row["defaults"]
    parameters = tuple(
        Parameter(name=n, type=t, required=index < required, variadic=m == "v")
        for index, (n, t, m) in enumerate(inputs)
    )
    unnamed = [p for p in parameters if not p.name]
    if len(unnamed) > 1 or (unnamed and unnamed[0].type not in _UNNAMED_CALLABLE):
        return None
    return parameters


def _settings(config: list[str]) -> tuple[tuple[tuple[str, str], ...], str | None]:
    hoisted: list[tuple[str, str]] = []
    isolation: str | None = None
    for setting in config:
        key, _, value = setting.partition("=")
        if key == "default_transaction_isolation":
            isolation = value.split(",")[0].strip().lower()
        # PostgREST matches each entry against the allow list as regular expressions.
        if any(re.search(pattern, setting) for pattern in HOISTED_SETTINGS):
            hoisted.append((key, value))
    return tuple(hoisted), isolation


def routines(conn: psycopg.Connection[Any], schema: str, name: str) -> list[Routine]:
    """Every overload of ``schema.name`` PostgREST's schema cache holds, fewest arguments first."""
    found: list[Routine] = []
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        for row in cur.execute(_ROUTINES, (schema, name)):
            parameters = _parameters(row)
            if parameters is None or row["returns_trigger"]:
                continue
            settings, isolation = _settings(list(row["config"]))
            found.append(
                Routine(
                    schema=schema,
                    name=name,
                    signature=row["signature"],
                    parameters=parameters,
                    volatility=row["volatility"],
                    returns_set=row["returns_set"],
                    returns_void=row["returns_void"],
                    returns_composite=row["returns_composite"],
                    settings=settings,
                    isolation=isolation,
                )
            )
    return found
