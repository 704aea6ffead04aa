"""L013: several permissive policies for one role and command."""

from collections import defaultdict
from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule

_COMMANDS = ("select", "insert", "update", "delete")


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    names: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for policy in catalog.policies:
        if not policy.permissive:
            continue
        # `to public` applies to the API's client roles too.
        roles = {"anon", "authenticated"} if "public" in policy.roles else set(policy.roles)
        for role in roles:
            for command in _COMMANDS:
                if policy.covers(command):
                    names[(policy.qualified_table, role, command)].append(policy.name)
    for (table, role, command), policies in sorted(names.items()):
        if len(policies) > 1:
            listed = ", ".join(f'"{name}"' for name in sorted(policies))
            yield Hit(
                f"{table} {command} for {role}",
                f"{table}: {len(policies)} permissive {command} policies for {role} ({listed})",
            )


RULE = Rule(
    id="L013",
    name="multiple_permissive_policies",
    level="warn",
    category="performance",
    description="Permissive policies combine with OR: every one of them is evaluated for "
    "every row, and the planner cannot use an index through the OR of unrelated conditions.",
    remediation="Merge them into one policy per role and command.",
    check=_check,
)
