"""L001: a table in an exposed schema without Row Level Security."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for table in catalog.tables.values():
        if catalog.exposed(table.schema) and not table.rls:
            yield Hit(table.qualified, f"{table.qualified} is exposed through the API without RLS")


RULE = Rule(
    id="L001",
    name="rls_disabled_in_exposed_schema",
    level="error",
    category="security",
    description="A table in a schema the API exposes has Row Level Security disabled: with "
    "Supabase's default grants every API role reads and writes all of its rows.",
    remediation="alter table … enable row level security; then add the policies it needs "
    "(or move the table out of the exposed schemas).",
    check=_check,
)
