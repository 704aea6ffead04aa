"""L005: a policy that lets anon or authenticated do something to every row."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule
from pgpolicy.analysis.sqlexpr import strip_parens

_CLIENT_ROLES = {"anon", "authenticated", "public"}


def _always_true(expression: exp.Expression | None) -> bool:
    if expression is None:
        return False
    node = strip_parens(expression)
    return isinstance(node, exp.Boolean) and bool(node.this)


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        if not policy.permissive or not _CLIENT_ROLES & set(policy.roles):
            continue
        # An insert policy has only WITH CHECK; an update/all policy without one reuses USING.
        check = policy.check if policy.check is not None else policy.using
        parts = [e for e in (policy.using, check) if e is not None]
        if parts and all(_always_true(e) for e in parts):
            roles = ", ".join(policy.roles)
            yield Hit(policy.label, f"{policy.label} is always true for {roles} ({policy.command})")


RULE = Rule(
    id="L005",
    name="always_true_policy",
    level="warn",
    category="security",
    description="A permissive policy for anon, authenticated or public whose condition is "
    "just true: every row, for every client (one such policy opens the table, whatever the "
    "others say).",
    remediation="State who may touch which rows (e.g. owner = (select auth.uid())); keep "
    "`true` only for data meant to be public, and suppress this finding with that reason.",
    check=_check,
)
