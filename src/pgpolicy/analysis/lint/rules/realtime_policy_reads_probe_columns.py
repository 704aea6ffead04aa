"""L015: a realtime.messages policy that needs what Realtime's join probes never carry."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule
from pgpolicy.analysis.lint.policyexpr import REALTIME_MESSAGES, outer_columns
from pgpolicy.analysis.sqlexpr import strip_parens

_NOT_IN_PROBES = {"event", "payload", "private", "binary_payload"}


def _probe_blind(column: exp.Column) -> bool:
    """`col is null` holds for a probe row (the column is null there): that is fine."""
    parent = column.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    return not (
        isinstance(parent, exp.Is)
        and strip_parens(parent.this) is column
        and isinstance(parent.expression, exp.Null)
        and column.name != "private"
    )


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        if policy.qualified_table != REALTIME_MESSAGES or policy.command in ("update", "delete"):
            continue
        used = {
            column.name
            for expression in policy.expressions()
            for column in outer_columns(expression)
            if column.name in _NOT_IN_PROBES
            and column.table in ("", "messages")
            and _probe_blind(column)
        }
        if used:
            yield Hit(
                policy.label,
                f"{policy.label} depends on {', '.join(sorted(used))}: Realtime's join probes "
                "carry none, so the check always fails",
            )


RULE = Rule(
    id="L015",
    name="realtime_policy_reads_probe_columns",
    level="error",
    category="realtime",
    description="Realtime authorizes a private channel by inserting probe rows with only topic "
    "and extension set (event, payload and binary_payload null, private false) and reading "
    "them back as the subscriber. A policy that needs event, payload, private or "
    "binary_payload therefore never lets anyone join or send.",
    remediation="Decide on topic (compared with realtime.topic()) and extension only; "
    "`event is null`/`payload is null` conditions are fine.",
    check=_check,
)
