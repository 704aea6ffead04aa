"""L012: a policy filters on a column that no index leads."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule
from pgpolicy.analysis.lint.policyexpr import compared_columns


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        table = catalog.tables.get(policy.qualified_table)
        # WITH CHECK judges the new row itself: only USING filters existing rows.
        if table is None or policy.using is None:
            continue
        missing = compared_columns(policy.using, table.name, table.columns)
        missing -= table.leading_columns()
        if missing:
            yield Hit(
                policy.label,
                f"{policy.label} filters on {', '.join(sorted(missing))}, which no index leads",
            )


RULE = Rule(
    id="L012",
    name="policy_column_without_index",
    level="warn",
    category="performance",
    description="A policy's USING condition compares a column that is not the first column "
    "of any index: every query under the policy scans the table.",
    remediation="create index on … (column); for an OR of columns, one index per column.",
    check=_check,
)
