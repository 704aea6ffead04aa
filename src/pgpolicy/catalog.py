"""A comparable description of the schema objects migrations create, and its differences.

``snapshot(conn)`` reads the system catalogs into a ``Catalog``: every object has a stable
key (kind, parent, name) and string attributes, with nothing that depends on OIDs, creation
order, the session's ``search_path`` or who granted a privilege. Two databases built the
same way (online or offline SQL, upgrade or upgrade-downgrade-upgrade) give equal catalogs;
``diff(a, b)`` says in one line per difference what is not the same.

Scope: everything in the *full* schemas (default ``public``, minus ``public.alembic_version``);
in the *attached* schemas (default ``auth`` and ``realtime``, owned by Supabase or the compat
layer) only what a migration attaches to tables it does not own: policies and triggers.
Ownership is recorded only where it changes what an object may do (SECURITY DEFINER
functions, views); privileges are recorded relative to the owner (grantee ``OWNER``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import tuple_row

__all__ = [
    "ATTACHED_SCHEMAS",
    "FULL_SCHEMAS",
    "IGNORED_TABLES",
    "Catalog",
    "CatalogObject",
    "Key",
    "diff",
    "snapshot",
]

FULL_SCHEMAS: tuple[str, ...] = ("public",)
ATTACHED_SCHEMAS: tuple[str, ...] = ("auth", "realtime")
# Alembic's bookkeeping is not schema a migration declares.
IGNORED_TABLES: tuple[str, ...] = ("public.alembic_version",)

Key = tuple[str, str, str]
"""(kind, parent, name): e.g. ("policy", "public.chat_threads", "participants read")."""

# Kinds whose parent is a table: described as "<kind> <name> on <parent>".
_ON_PARENT = frozenset({"constraint", "index", "policy", "trigger"})
_SHORT_VALUE = 60


@dataclass(frozen=True)
class CatalogObject:
    """One schema object: its key and its attributes as sorted (name, value) text pairs."""

    kind: str
    parent: str
    name: str
    attributes: tuple[tuple[str, str], ...]

    @property
    def key(self) -> Key:
        return (self.kind, self.parent, self.name)

    def attribute(self, name: str) -> str | None:
        """The value of one attribute, None when the object does not have it."""
        return dict(self.attributes).get(name)

    def describe(self) -> str:
        """How a person names the object: 'policy "x" on public.t', 'function public.f(text)'."""
        name = f'"{self.name}"' if self.kind == "policy" else self.name
        if self.kind in _ON_PARENT:
            return f"{self.kind} {name} on {self.parent}"
        if self.kind == "publication_table":
            return f"table {self.name} in publication {self.parent}"
        if self.kind == "default_privileges":
            role, _, objects = self.name.partition(" ")
            return f"default privileges of {role} on {objects} in schema {self.parent}"
        return f"{self.kind} {self.parent}.{name}" if self.parent else f"{self.kind} {name}"


@dataclass(frozen=True)
class Catalog:
    """The objects of one database, sorted by key; equal catalogs mean the same schema."""

    objects: tuple[CatalogObject, ...]

    def __iter__(self) -> Iterator[CatalogObject]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def __contains__(self, key: object) -> bool:
        return key in self.by_key()

    def by_key(self) -> dict[Key, CatalogObject]:
        return {obj.key: obj for obj in self.objects}

    def get(self, kind: str, parent: str, name: str) -> CatalogObject | None:
        return self.by_key().get((kind, parent, name))

    def of_kind(self, kind: str) -> list[CatalogObject]:
        return [obj for obj in self.objects if obj.kind == kind]


def diff(a: Catalog, b: Catalog) -> list[str]:
    """What changes from ``a`` to ``b``, one line each, in key order ([] when equal).

    ``+ <object>`` only in b, ``- <object>`` only in a, ``~ <object>: <attribute> ...`` in
    both but different: short values as ``old -> new``, long ones as ``differs``, privileges
    as ``acl[role] -LOST +GAINED``.
    """
    left, right = a.by_key(), b.by_key()
    lines: list[str] = []
    for key in sorted(left.keys() | right.keys()):
        old, new = left.get(key), right.get(key)
        if old is None and new is not None:
            lines.append(f"+ {new.describe()}")
        elif new is None and old is not None:
            lines.append(f"- {old.describe()}")
        elif old is not None and new is not None and old != new:
            lines.extend(_attribute_changes(old, new))
    return lines


def _attribute_changes(old: CatalogObject, new: CatalogObject) -> list[str]:
    before, after = dict(old.attributes), dict(new.attributes)
    lines = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if was == now:
            continue
        if name.startswith("acl["):
            change = _privilege_change(was, now)
        elif all(v is None or ("\n" not in v and len(v) <= _SHORT_VALUE) for v in (was, now)):
            change = f"{_shown(was)} -> {_shown(now)}"
        else:
            change = "differs"
        lines.append(f"~ {old.describe()}: {name} {change}")
    return lines


def _privilege_change(was: str | None, now: str | None) -> str:
    """'-TRUNCATE +SELECT*': privileges lost and gained (a trailing * is WITH GRANT OPTION)."""
    before = set((was or "").split(", ")) - {""}
    after = set((now or "").split(", ")) - {""}
    lost = [f"-{privilege}" for privilege in sorted(before - after)]
    gained = [f"+{privilege}" for privilege in sorted(after - before)]
    return " ".join(lost + gained)


def _shown(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


def snapshot(
    conn: psycopg.Connection[Any],
    *,
    schemas: Collection[str] = FULL_SCHEMAS,
    attached_schemas: Collection[str] = ATTACHED_SCHEMAS,
    ignored_tables: Collection[str] = IGNORED_TABLES,
) -> Catalog:
    """Read the catalog of ``conn``'s database (see the module docstring for the scope).

    Runs read-only queries under ``search_path = pg_catalog`` (so every deparsed name is
    schema-qualified whatever the caller's setting), restored afterwards.
    """
    params = {
        "full": list(schemas),
        "attached": list(attached_schemas),
        "ignored": list(ignored_tables),
    }
    queries = _queries(conn.info.server_version)
    objects: list[CatalogObject] = []
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("select pg_catalog.current_setting('search_path')")
        saved = cur.fetchone()
        cur.execute("select pg_catalog.set_config('search_path', 'pg_catalog', true)")
        for kind, query in queries.items():
            cur.execute(query, params)
            for parent, name, attributes in cur.fetchall():
                objects.append(CatalogObject(kind, parent, name, _flatten(attributes or {})))
        # On an error the transaction (or savepoint) rollback restores it instead.
        cur.execute("select pg_catalog.set_config('search_path', %s, true)", saved)
    objects.sort(key=lambda obj: obj.key)
    return Catalog(tuple(objects))


def _flatten(attributes: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """jsonb attributes to text pairs: maps become ``name[key]``, lists ``a, b``."""
    pairs: list[tuple[str, str]] = []
    for name, value in attributes.items():
        if isinstance(value, Mapping):
            pairs.extend((f"{name}[{key}]", _text(item)) for key, item in value.items())
        else:
            pairs.append((name, _text(value)))
    return tuple(sorted(pairs))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


# --- queries: each returns (parent text, name text, attributes jsonb) ---------------------
# Parameters: %(full)s, %(attached)s, %(ignored)s (text arrays). No other % in the SQL.
# Text is ordered with COLLATE "C" so that the database's collation changes nothing.


def _acl(acl: str, owner: str) -> str:
    """jsonb {grantee: "PRIV, PRIV*"} from an aclitem[]; the owner is spelt OWNER and the
    grantor dropped, so the result does not depend on which role ran the migration."""
    return f"""(
      select jsonb_object_agg(g.grantee, g.privileges)
      from (
        select case when a.grantee = 0 then 'PUBLIC'
                    when a.grantee = {owner} then 'OWNER'
                    else pg_get_userbyid(a.grantee)::text end as grantee,
               string_agg(distinct a.privilege_type
                          || case when a.is_grantable then '*' else '' end,
                          ', ' order by a.privilege_type
                          || case when a.is_grantable then '*' else '' end) as privileges
        from aclexplode({acl}) a
        group by 1
      ) g
    )"""


def _not_extension_member(catalog: str, oid: str) -> str:
    return f"""not exists (
      select from pg_depend d
      where d.classid = '{catalog}'::regclass and d.objid = {oid} and d.deptype = 'e'
    )"""


_TABLE_SCOPE = f"""
  c.relkind in ('r', 'p', 'v', 'm', 'f')
  and n.nspname = any(%(full)s)
  and not (n.nspname || '.' || c.relname) = any(%(ignored)s)
  and {_not_extension_member("pg_class", "c.oid")}
"""

_SCHEMAS = f"""
select '', n.nspname, jsonb_strip_nulls(jsonb_build_object(
  'acl', {_acl("coalesce(n.nspacl, acldefault('n', n.nspowner))", "n.nspowner")},
  'comment', obj_description(n.oid, 'pg_namespace')))
from pg_namespace n
where n.nspname = any(%(full)s)
"""

_TABLES = f"""
select n.nspname, c.relname, jsonb_strip_nulls(jsonb_build_object(
  'relkind', c.relkind::text,
  'persistence', c.relpersistence::text,
  'rls_enabled', c.relrowsecurity,
  'rls_forced', c.relforcerowsecurity,
  'options', (select string_agg(o, ', ' order by o collate "C") from unnest(c.reloptions) o),
  'definition', case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid, false) end,
  'owner', case when c.relkind in ('v', 'm') then pg_get_userbyid(c.relowner)::text end,
  'partition_key', case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end,
  'partition_of', (
    select pn.nspname || '.' || pc.relname || ' ' || pg_get_expr(c.relpartbound, c.oid)
    from pg_inherits i
    join pg_class pc on pc.oid = i.inhparent
    join pg_namespace pn on pn.oid = pc.relnamespace
    where i.inhrelid = c.oid and c.relispartition),
  'acl', {_acl("coalesce(c.relacl, acldefault('r', c.relowner))", "c.relowner")},
  'comment', obj_description(c.oid, 'pg_class')))
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where {_TABLE_SCOPE}
"""

_COLUMNS = f"""
select n.nspname || '.' || c.relname, a.attname, jsonb_strip_nulls(jsonb_build_object(
  'position', row_number() over (partition by c.oid order by a.attnum),
  'type', format_type(a.atttypid, a.atttypmod),
  'not_null', a.attnotnull,
  'default', pg_get_expr(ad.adbin, ad.adrelid),
  'generated', nullif(a.attgenerated::text, ''),
  'identity', nullif(a.attidentity::text, ''),
  'collation', (
    select cn.nspname || '.' || co.collname
    from pg_collation co
    join pg_namespace cn on cn.oid = co.collnamespace
    where co.oid = a.attcollation and a.attcollation <> t.typcollation),
  'acl', {_acl("a.attacl", "c.relowner")},
  'comment', col_description(c.oid, a.attnum)))
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
where a.attnum > 0 and not a.attisdropped and {_TABLE_SCOPE}
"""

_CONSTRAINTS = f"""
select n.nspname || '.' || c.relname, con.conname, jsonb_strip_nulls(jsonb_build_object(
  'type', con.contype::text,
  'definition', pg_get_constraintdef(con.oid, false),
  'comment', obj_description(con.oid, 'pg_constraint')))
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
where {_TABLE_SCOPE}
"""

_INDEXES = f"""
select n.nspname || '.' || c.relname, ic.relname, jsonb_strip_nulls(jsonb_build_object(
  'definition', pg_get_indexdef(i.indexrelid),
  'valid', i.indisvalid,
  'comment', obj_description(i.indexrelid, 'pg_class')))
from pg_index i
join pg_class ic on ic.oid = i.indexrelid
join pg_class c on c.oid = i.indrelid
join pg_namespace n on n.oid = c.relnamespace
where {_TABLE_SCOPE}
"""

_POLICIES = """
select n.nspname || '.' || c.relname, p.polname, jsonb_strip_nulls(jsonb_build_object(
  'permissive', p.polpermissive,
  'roles', array(
    select g.name
    from (select case when r = 0 then 'public' else pg_get_userbyid(r)::text end as name
          from unnest(p.polroles) r) g
    order by g.name collate "C"),
  'command', case p.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT'
                           when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end,
  'using', pg_get_expr(p.polqual, p.polrelid),
  'with_check', pg_get_expr(p.polwithcheck, p.polrelid),
  'comment', obj_description(p.oid, 'pg_policy')))
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
where (n.nspname = any(%(full)s) or n.nspname = any(%(attached)s))
  and not (n.nspname || '.' || c.relname) = any(%(ignored)s)
"""

_FUNCTIONS = f"""
select n.nspname, p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
  jsonb_strip_nulls(jsonb_build_object(
  'kind', p.prokind::text,
  'definition', case when p.prokind <> 'a' then pg_get_functiondef(p.oid) end,
  'security_definer', p.prosecdef,
  'config', (select string_agg(s, ', ' order by s collate "C") from unnest(p.proconfig) s),
  'volatility', p.provolatile::text,
  'owner', case when p.prosecdef then pg_get_userbyid(p.proowner)::text end,
  'acl', {_acl("coalesce(p.proacl, acldefault('f', p.proowner))", "p.proowner")},
  'comment', obj_description(p.oid, 'pg_proc')))
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%(full)s) and {_not_extension_member("pg_proc", "p.oid")}
"""

# {clones}: triggers a partitioned table's trigger creates on each partition are left out.
_TRIGGERS = """
select n.nspname || '.' || c.relname, t.tgname, jsonb_strip_nulls(jsonb_build_object(
  'definition', pg_get_triggerdef(t.oid, false),
  'enabled', t.tgenabled::text,
  'comment', obj_description(t.oid, 'pg_trigger')))
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_namespace n on n.oid = c.relnamespace
where not t.tgisinternal and {clones}
  and (n.nspname = any(%(full)s) or n.nspname = any(%(attached)s))
  and not (n.nspname || '.' || c.relname) = any(%(ignored)s)
"""

_SEQUENCES = f"""
select n.nspname, c.relname, jsonb_strip_nulls(jsonb_build_object(
  'type', format_type(s.seqtypid, null),
  'start', s.seqstart, 'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax,
  'cache', s.seqcache, 'cycle', s.seqcycle,
  'owned_by', (
    select dn.nspname || '.' || dc.relname || '.' || da.attname
    from pg_depend d
    join pg_class dc on dc.oid = d.refobjid
    join pg_namespace dn on dn.oid = dc.relnamespace
    join pg_attribute da on da.attrelid = d.refobjid and da.attnum = d.refobjsubid
    where d.classid = 'pg_class'::regclass and d.objid = c.oid
      and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')),
  'acl', {_acl("coalesce(c.relacl, acldefault('s', c.relowner))", "c.relowner")},
  'comment', obj_description(c.oid, 'pg_class')))
from pg_class c
join pg_sequence s on s.seqrelid = c.oid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(full)s) and {_not_extension_member("pg_class", "c.oid")}
"""

_TYPES = f"""
select n.nspname, t.typname, jsonb_strip_nulls(jsonb_build_object(
  'type', t.typtype::text,
  'labels', case when t.typtype = 'e' then array(
    select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid
    order by e.enumsortorder) end,
  'base', case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod) end,
  'not_null', case when t.typtype = 'd' then t.typnotnull end,
  'default', t.typdefault,
  'constraints', case when t.typtype = 'd' then array(
    select con.conname || ': ' || pg_get_constraintdef(con.oid, false)
    from pg_constraint con where con.contypid = t.oid order by con.conname) end,
  'attributes', case when t.typtype = 'c' then array(
    select a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
    from pg_attribute a
    where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
    order by a.attnum) end,
  'subtype', (select format_type(r.rngsubtype, null) from pg_range r where r.rngtypid = t.oid),
  'acl', {_acl("coalesce(t.typacl, acldefault('T', t.typowner))", "t.typowner")},
  'comment', obj_description(t.oid, 'pg_type')))
from pg_type t
join pg_namespace n on n.oid = t.typnamespace
where n.nspname = any(%(full)s)
  and (t.typtype in ('e', 'd', 'r')
       or (t.typtype = 'c'
           and (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c'))
  and {_not_extension_member("pg_type", "t.oid")}
"""

_EXTENSIONS = """
select n.nspname, e.extname, jsonb_build_object('version', e.extversion)
from pg_extension e
join pg_namespace n on n.oid = e.extnamespace
where n.nspname = any(%(full)s)
"""

_PUBLICATION_TABLES = """
select p.pubname, n.nspname || '.' || c.relname, '{}'::jsonb
from pg_publication_rel pr
join pg_publication p on p.oid = pr.prpubid
join pg_class c on c.oid = pr.prrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(full)s) and not (n.nspname || '.' || c.relname) = any(%(ignored)s)
"""

_DEFAULT_PRIVILEGES = f"""
select n.nspname,
  pg_get_userbyid(d.defaclrole)::text || ' ' || case d.defaclobjtype
    when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions'
    when 'T' then 'types' when 'n' then 'schemas' else d.defaclobjtype::text end,
  jsonb_strip_nulls(jsonb_build_object('acl', {_acl("d.defaclacl", "d.defaclrole")}))
from pg_default_acl d
join pg_namespace n on n.oid = d.defaclnamespace
where n.nspname = any(%(full)s)
"""


def _queries(server_version: int) -> dict[str, str]:
    # pg_trigger.tgparentid exists from PostgreSQL 13; before, clones are not distinguishable.
    clones = "t.tgparentid = 0" if server_version >= 130000 else "true"
    return {
        "schema": _SCHEMAS,
        "table": _TABLES,
        "column": _COLUMNS,
        "constraint": _CONSTRAINTS,
        "index": _INDEXES,
        "policy": _POLICIES,
        "function": _FUNCTIONS,
        "trigger": _TRIGGERS.format(clones=clones),
        "sequence": _SEQUENCES,
        "type": _TYPES,
        "extension": _EXTENSIONS,
        "publication_table": _PUBLICATION_TABLES,
        "default_privileges": _DEFAULT_PRIVILEGES,
    }
