"""L018: a table streamed by Postgres Changes without RLS."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for name in catalog.publication_tables:
        table = catalog.tables.get(name)
        if table is not None and not table.rls:
            yield Hit(
                name,
                f"{name} is in publication supabase_realtime without RLS: every subscriber "
                "whose role may select it receives every change",
            )


RULE = Rule(
    id="L018",
    name="publication_table_without_rls",
    level="error",
    category="realtime",
    description="Realtime checks a Postgres Changes subscriber's access with RLS only; a "
    "published table without RLS streams every change to every subscriber, anon included.",
    remediation="Enable RLS on the table (with select policies), or remove it from the "
    "supabase_realtime publication.",
    check=_check,
)
