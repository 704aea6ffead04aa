"""L010: auth.users reachable through the API."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule

_CLIENT_ROLES = {"anon", "authenticated"}


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for view in catalog.views:
        if "auth.users" in view.reads and _CLIENT_ROLES & view.readable_by:
            yield Hit(view.qualified, f"{view.qualified} exposes auth.users to API callers")
    for function in catalog.functions:
        if not (
            function.security_definer
            and catalog.exposed(function.schema)
            and _CLIENT_ROLES & function.executable_by
            and not function.is_trigger
        ):
            continue
        reads = any(
            table.db == "auth" and table.name == "users"
            for statement in function.statements
            for table in statement.find_all(exp.Table)
        )
        if reads:
            yield Hit(
                function.signature,
                f"{function.signature} reads auth.users with its owner's rights and API "
                "callers may execute it",
            )


RULE = Rule(
    id="L010",
    name="auth_users_exposed",
    level="error",
    category="security",
    description="A view in an exposed schema, or a SECURITY DEFINER function the API may "
    "call, reads auth.users: e-mails, phones and metadata of every user leak to clients.",
    remediation="Expose only what clients need through a table you control (e.g. a profile "
    "synced by a trigger) with its own policies, or revoke the API roles' access.",
    check=_check,
)
