"""L009: a view that reads RLS tables with its owner's rights."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for view in catalog.views:
        if view.security_invoker or not {"anon", "authenticated"} & view.readable_by:
            continue
        protected = [
            name for name in view.reads if name in catalog.tables and catalog.tables[name].rls
        ]
        if protected:
            yield Hit(
                view.qualified,
                f"{view.qualified} reads {', '.join(sorted(protected))} as its owner: "
                "their policies do not apply to API callers",
            )


RULE = Rule(
    id="L009",
    name="view_without_security_invoker",
    level="error",
    category="security",
    description="A view runs with its owner's rights unless security_invoker is set; when the "
    "owner bypasses RLS (postgres does), API callers read every row of the tables under it.",
    remediation="alter view … set (security_invoker = true);",
    check=_check,
)
