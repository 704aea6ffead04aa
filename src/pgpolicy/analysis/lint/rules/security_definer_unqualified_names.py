"""L008: a SECURITY DEFINER API function that names tables without their schema."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import Function, LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _unqualified_tables(function: Function) -> set[str]:
    names: set[str] = set()
    for statement in function.statements:
        # PL/pgSQL's `into _variable` targets are already gone (parse_statements drops them).
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if table.db or not table.name or table.name in ctes:
                continue
            names.add(table.name)
    return names


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for function in catalog.functions:
        if not function.security_definer or not catalog.exposed(function.schema):
            continue
        if function.search_path in ('""', "''"):
            continue  # nothing resolves without a schema: an unqualified name fails loudly
        names = _unqualified_tables(function)
        if names:
            yield Hit(
                function.signature,
                f"{function.signature} reads {', '.join(sorted(names))} without a schema "
                f"(search_path {function.search_path or 'not pinned'})",
            )


RULE = Rule(
    id="L008",
    name="security_definer_unqualified_names",
    level="warn",
    category="security",
    description="A SECURITY DEFINER function in an exposed schema refers to tables without "
    "their schema, so what it reads depends on a search_path rather than on its text.",
    remediation="Pin `set search_path = ''` and write every name schema-qualified "
    "(public.<table>, auth.uid()).",
    check=_check,
)
