"""L014: a policy's subquery reads a table with RLS of its own without a key lookup."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import LintCatalog, Table
from pgpolicy.analysis.lint.model import Hit, Rule
from pgpolicy.analysis.sqlexpr import conjuncts, strip_parens


def _inner_column(node: exp.Expression, alias: str, table: Table) -> str | None:
    node = strip_parens(node)
    if not isinstance(node, exp.Column) or node.name not in table.columns:
        return None
    own = node.table in (alias, table.name) or (node.table == "" and alias == table.name)
    return node.name if own else None


def _reads(node: exp.Expression, alias: str, table: Table) -> bool:
    return any(_inner_column(c, alias, table) for c in node.find_all(exp.Column))


def _keyed(select: exp.Select, alias: str, table: Table) -> bool:
    """Whether the subquery's WHERE fixes every column of a unique key of ``table``."""
    where = select.args.get("where")
    if where is None:
        return False
    fixed: set[str] = set()
    for term in conjuncts(where.this):
        if isinstance(term, exp.EQ):
            for side, other in ((term.this, term.expression), (term.expression, term.this)):
                column = _inner_column(side, alias, table)
                if column is not None and not _reads(other, alias, table):
                    fixed.add(column)
    return any(key <= fixed for key in table.unique_keys())


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        unkeyed: set[str] = set()
        for expression in policy.expressions():
            for select in expression.find_all(exp.Select):
                for source in select.find_all(exp.Table):
                    if source.parent_select is not select:
                        continue
                    nested = catalog.tables.get(f"{source.db or 'public'}.{source.name}")
                    if nested is None or not nested.rls:
                        continue
                    if not _keyed(select, source.alias_or_name, nested):
                        unkeyed.add(nested.qualified)
        if unkeyed:
            yield Hit(
                policy.label,
                f"{policy.label} reads {', '.join(sorted(unkeyed))} (RLS of its own) without "
                "a key lookup: its cost grows with that table or the caller's rows",
            )


RULE = Rule(
    id="L014",
    name="nested_rls_subquery_not_keyed",
    level="warn",
    category="performance",
    description="A policy's subquery reads a table that has RLS of its own, and does not look "
    "it up by a unique key. Sublinks in policies are never turned into joins, so PostgreSQL "
    "builds the whole set (a hashed SubPlan of every matching row, often a Seq Scan with the "
    "nested table's own policy as filter) before it checks a single row: a request costs what "
    "the nested table, or the caller's share of it, weighs, not what it returns.",
    remediation="Correlate the subquery by the nested table's primary key "
    "(exists (select 1 from t where t.id = policed.t_id and …)), or move the membership test "
    "into a column of the policed row or a STABLE SECURITY DEFINER helper keyed the same way.",
    check=_check,
)
