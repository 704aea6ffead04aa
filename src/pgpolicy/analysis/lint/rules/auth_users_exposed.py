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
        uses = sorted(
            {use for statement in function.statements for use in _uses_of_auth_users(statement)},
            key=_USES.index,
        )
        if uses:
            yield Hit(
                function.signature,
                f"{function.signature} {_sentence(uses)} auth.users with its owner's rights "
                "and API callers may execute it",
            )


_USES = ("reads", "inserts into", "updates", "deletes from")
_WRITES = {exp.Insert: "inserts into", exp.Update: "updates", exp.Delete: "deletes from"}


def _uses_of_auth_users(statement: exp.Expression) -> Iterator[str]:
    """How ``statement`` uses auth.users: the target of a write, else a read."""
    targets: dict[int, str] = {}
    for kind, verb in _WRITES.items():
        for write in statement.find_all(kind):
            target = write.this.this if isinstance(write.this, exp.Schema) else write.this
            targets[id(target)] = verb
    for table in statement.find_all(exp.Table):
        if table.db == "auth" and table.name == "users":
            yield targets.get(id(table), "reads")


def _sentence(verbs: list[str]) -> str:
    return verbs[0] if len(verbs) == 1 else ", ".join(verbs[:-1]) + " and " + verbs[-1]


RULE = Rule(
    id="L010",
    name="auth_users_exposed",
    level="error",
    category="security",
    description="A view in an exposed schema, or a SECURITY DEFINER function the API may "
    "call, reads or writes auth.users: e-mails, phones and metadata of every user leak to "
    "clients, or clients create and change accounts behind Auth's back.",
    remediation="Expose only what clients need through a table you control (e.g. a profile "
    "synced by a trigger) with its own policies, or revoke the API roles' access.",
    check=_check,
)
