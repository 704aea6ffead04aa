"""L002: policies exist but RLS is off, so none of them applies."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for table in catalog.tables.values():
        policies = catalog.policies_on(table.qualified)
        if policies and not table.rls:
            names = ", ".join(f'"{p.name}"' for p in policies)
            yield Hit(table.qualified, f"{table.qualified} has policies ({names}) but RLS is off")


RULE = Rule(
    id="L002",
    name="policy_on_table_without_rls",
    level="error",
    category="security",
    description="Policies on a table whose Row Level Security is disabled are ignored: the "
    "table looks protected and is not.",
    remediation="alter table … enable row level security (or drop the dead policies).",
    check=_check,
)
