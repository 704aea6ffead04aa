"""What the matrix probes: the exposed relations and the functions the API roles reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

__all__ = ["ApiFunction", "Relation", "api_functions", "exposed_relations"]

API_ROLES = ("anon", "authenticated", "service_role")


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    kind: str  # table, view, …

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class ApiFunction:
    oid: int
    schema: str
    name: str
    label: str  # schema.name(), with the argument types when the name is overloaded
    arguments: tuple[str, ...]  # input argument names, in order


_RELATIONS = """
select n.nspname, c.relname,
       case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                      when 'f' then 'foreign table' else 'table' end
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
order by 1, 2
"""

_FUNCTIONS = """
select p.oid::int, n.nspname, p.proname,
       pg_catalog.pg_get_function_identity_arguments(p.oid),
       count(*) over (partition by n.nspname, p.proname) > 1,
       coalesce(array(select a.name from unnest(p.proargnames, p.proargmodes::text[])
                        with ordinality a(name, mode, ord)
                      where a.mode is null or a.mode in ('i', 'b', 'v') order by a.ord),
                p.proargnames, '{}')
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%s) and p.prokind = 'f'
  and p.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
  and not exists (select 1 from pg_catalog.pg_depend d where d.objid = p.oid and d.deptype = 'e')
  and exists (select 1 from pg_catalog.pg_roles r
              where r.rolname = any(%s)
                and pg_catalog.has_function_privilege(r.oid, p.oid, 'execute'))
order by 2, 3, 4
"""


def exposed_relations(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> list[Relation]:
    return [Relation(*row) for row in conn.execute(_RELATIONS, (list(schemas),))]


def api_functions(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> list[ApiFunction]:
    """Functions of the exposed schemas that an API role may execute (triggers left out:
    they cannot be called as RPCs)."""
    found = []
    for oid, schema, name, identity, overloaded, arguments in conn.execute(
        _FUNCTIONS, (list(schemas), list(API_ROLES))
    ):
        label = f"{schema}.{name}({identity})" if overloaded else f"{schema}.{name}()"
        found.append(ApiFunction(oid, schema, name, label, tuple(arguments)))
    return found
