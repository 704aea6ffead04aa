"""L004: a policy trusts user-editable metadata."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _reads_user_metadata(expression: exp.Expression) -> bool:
    for node in expression.walk():
        if isinstance(node, exp.Column) and node.name == "raw_user_meta_data":
            return True
        if isinstance(node, exp.JSONPathKey) and node.this == "user_metadata":
            return True
    return False


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        if any(_reads_user_metadata(expression) for expression in policy.expressions()):
            yield Hit(policy.label, f"{policy.label} reads user_metadata, which users edit")


RULE = Rule(
    id="L004",
    name="user_metadata_in_policy",
    level="error",
    category="security",
    description="A policy reads auth.users.raw_user_meta_data or the JWT's user_metadata: "
    "any user can change those values through supabase.auth.updateUser().",
    remediation="Decide access from server-controlled data: app_metadata "
    "(raw_app_meta_data), or a table only the backend writes.",
    check=_check,
)
