"""What the lint rules read: one snapshot of the catalog, policy expressions parsed.

Everything is read with ``search_path`` empty (pg_catalog only), so ``pg_get_expr`` prints
every other name schema-qualified and a parsed ``public.<table>`` is unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import psycopg
from sqlglot import exp

from pgpolicy.analysis.sqlexpr import parse_expression, parse_statements

__all__ = [
    "API_ROLES",
    "Function",
    "Index",
    "LintCatalog",
    "Policy",
    "Table",
    "View",
    "load_catalog",
]

API_ROLES = ("anon", "authenticated", "service_role")

# Schemas Supabase owns: their tables and functions are not the project's to change.
SUPABASE_SCHEMAS = frozenset(
    {
        "auth",
        "realtime",
        "storage",
        "extensions",
        "graphql",
        "graphql_public",
        "vault",
        "pgbouncer",
        "pgsodium",
        "pgsodium_masks",
        "supabase_functions",
        "supabase_migrations",
        "net",
        "cron",
    }
)

COMMANDS = {"r": "select", "a": "insert", "w": "update", "d": "delete", "*": "all"}


@dataclass(frozen=True)
class Index:
    columns: tuple[str | None, ...]  # None: an expression column
    unique: bool
    partial: bool


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str  # r (table) or p (partitioned)
    rls: bool
    forced: bool
    columns: tuple[str, ...]
    indexes: tuple[Index, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def leading_columns(self) -> set[str]:
        return {index.columns[0] for index in self.indexes if index.columns and index.columns[0]}

    def unique_keys(self) -> list[set[str]]:
        return [
            {column for column in index.columns if column}
            for index in self.indexes
            if index.unique and not index.partial and all(index.columns)
        ]


@dataclass
class Policy:
    schema: str
    table: str
    name: str
    permissive: bool
    roles: tuple[str, ...]
    command: str  # select / insert / update / delete / all
    using_text: str | None
    check_text: str | None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def label(self) -> str:
        return f'policy "{self.name}" on {self.qualified_table}'

    @cached_property
    def using(self) -> exp.Expression | None:
        return None if self.using_text is None else parse_expression(self.using_text)

    @cached_property
    def check(self) -> exp.Expression | None:
        return None if self.check_text is None else parse_expression(self.check_text)

    def expressions(self) -> list[exp.Expression]:
        return [e for e in (self.using, self.check) if e is not None]

    def applies_to(self, role: str) -> bool:
        return role in self.roles or "public" in self.roles

    def covers(self, command: str) -> bool:
        return self.command in (command, "all")


@dataclass
class Function:
    schema: str
    name: str
    arguments: str
    returns: str
    language: str
    security_definer: bool
    config: tuple[str, ...]
    source: str
    executable_by: frozenset[str]
    # Who EXECUTE is granted to in the function's own ACL ('public' for PUBLIC): tells a
    # grant through PUBLIC from one to anon itself (what revoking it takes differs).
    execute_grantees: frozenset[str] = frozenset()

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({self.arguments})"

    @property
    def search_path(self) -> str | None:
        for setting in self.config:
            key, _, value = setting.partition("=")
            if key == "search_path":
                return value
        return None

    @property
    def is_trigger(self) -> bool:
        return self.returns in ("trigger", "event_trigger")

    @cached_property
    def statements(self) -> list[exp.Expression]:
        return parse_statements(self.source, self.language)


@dataclass(frozen=True)
class View:
    schema: str
    name: str
    security_invoker: bool
    reads: tuple[str, ...]  # qualified names of the relations its query reads
    readable_by: frozenset[str]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class LintCatalog:
    exposed_schemas: tuple[str, ...]
    tables: dict[str, Table]
    policies: list[Policy]
    functions: list[Function]
    views: list[View]
    publication_tables: list[str]
    anon_default_execute: frozenset[str]  # schemas whose default privileges give anon EXECUTE
    roles: frozenset[str] = field(default_factory=frozenset)

    def exposed(self, schema: str) -> bool:
        return schema in self.exposed_schemas

    def policies_on(self, qualified: str) -> list[Policy]:
        return [p for p in self.policies if p.qualified_table == qualified]


_TABLES = """
select n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
       array(select a.attname::text from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
             order by a.attnum) as columns,
       array(select json_build_object(
                      'unique', i.indisunique,
                      'partial', i.indpred is not null,
                      'columns', array(select a.attname::text
                                       from unnest(i.indkey) with ordinality k(attnum, ord)
                                       left join pg_attribute a
                                         on a.attrelid = c.oid and a.attnum = k.attnum
                                       order by k.ord))
             from pg_index i where i.indrelid = c.oid) as indexes
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and not c.relispartition
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
"""

_POLICIES = """
select n.nspname, c.relname, p.polname, p.polpermissive,
       array(select case when r = 0 then 'public' else r::regrole::text end
             from unnest(p.polroles) r order by 1) as roles,
       p.polcmd::text,
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
order by 1, 2, 3
"""

_FUNCTIONS = """
select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
       p.prorettype::regtype::text, l.lanname, p.prosecdef, coalesce(p.proconfig, '{}'),
       p.prosrc,
       array(select r.rolname::text from pg_roles r
             where r.rolname = any(%(api_roles)s)
               and has_function_privilege(r.oid, p.oid, 'execute')),
       array(select case when a.grantee = 0 then 'public' else a.grantee::regrole::text end
             from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             where a.privilege_type = 'EXECUTE')
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
where p.prokind in ('f', 'p')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
  and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
order by 1, 2, 3
"""

_VIEWS = """
select n.nspname, c.relname,
       coalesce(exists (select 1 from unnest(c.reloptions) o
                        where o in ('security_invoker=true', 'security_invoker=on',
                                    'security_invoker=1')), false),
       array(select distinct d.refobjid::regclass::text
             from pg_rewrite w
             join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = w.oid
             where w.ev_class = c.oid and d.refclassid = 'pg_class'::regclass
               and d.refobjid <> c.oid),
       array(select r.rolname::text from pg_roles r
             where r.rolname = any(%(api_roles)s) and has_table_privilege(r.oid, c.oid, 'select'))
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('v', 'm') and n.nspname = any(%(schemas)s)
"""

_PUBLICATION = """
select schemaname || '.' || tablename from pg_publication_tables
where pubname = 'supabase_realtime' order by 1
"""

_DEFAULT_EXECUTE = """
select distinct n.nspname
from pg_default_acl d
join pg_namespace n on n.oid = d.defaclnamespace
cross join lateral aclexplode(d.defaclacl) a
where d.defaclobjtype = 'f' and a.privilege_type = 'EXECUTE'
  and a.grantee = (select oid from pg_roles where rolname = 'anon')
"""


def load_catalog(conn: psycopg.Connection[Any], exposed_schemas: tuple[str, ...]) -> LintCatalog:
    """Read everything the rules look at, in one transaction that changes nothing."""
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute("set local search_path to ''")
        roles = frozenset(
            row[0]
            for row in cur.execute(
                "select rolname::text from pg_roles where rolname = any(%s)", (list(API_ROLES),)
            )
        )
        params = {"api_roles": list(roles), "schemas": list(exposed_schemas)}
        tables: dict[str, Table] = {}
        for schema, name, kind, rls, forced, columns, indexes in cur.execute(_TABLES):
            table = Table(
                schema=schema,
                name=name,
                kind=kind,
                rls=rls,
                forced=forced,
                columns=tuple(columns),
                indexes=tuple(
                    Index(
                        columns=tuple(index["columns"]),
                        unique=index["unique"],
                        partial=index["partial"],
                    )
                    for index in indexes
                ),
            )
            tables[table.qualified] = table
        policies = [
            Policy(
                schema=schema,
                table=table_name,
                name=name,
                permissive=permissive,
                roles=tuple(policy_roles),
                command=COMMANDS[command],
                using_text=using,
                check_text=check,
            )
            for schema, table_name, name, permissive, policy_roles, command, using, check in (
                cur.execute(_POLICIES)
            )
        ]
        functions = [
            Function(
                schema=row[0],
                name=row[1],
                arguments=row[2],
                returns=row[3],
                language=row[4],
                security_definer=row[5],
                config=tuple(row[6]),
                source=row[7],
                executable_by=frozenset(row[8]),
                execute_grantees=frozenset(row[9]),
            )
            for row in cur.execute(_FUNCTIONS, params)
        ]
        views = [
            View(
                schema=row[0],
                name=row[1],
                security_invoker=row[2],
                reads=tuple(row[3]),
                readable_by=frozenset(row[4]),
            )
            for row in cur.execute(_VIEWS, params)
        ]
        publication = [row[0] for row in cur.execute(_PUBLICATION)]
        default_execute = frozenset(row[0] for row in cur.execute(_DEFAULT_EXECUTE))
    return LintCatalog(
        exposed_schemas=exposed_schemas,
        tables=tables,
        policies=policies,
        functions=functions,
        views=views,
        publication_tables=publication,
        anon_default_execute=default_execute,
        roles=roles,
    )
