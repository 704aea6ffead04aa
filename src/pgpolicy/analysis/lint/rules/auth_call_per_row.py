"""L003: auth.uid()/auth.jwt()/current_setting() evaluated for every row."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule
from pgpolicy.analysis.sqlexpr import function_calls, function_name, is_initplan_wrapped

_PER_REQUEST = {"auth.uid", "auth.jwt", "auth.role", "auth.email", "current_setting"}


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        # Each call is judged on its own: a wrapped call elsewhere does not excuse this one.
        unwrapped = [
            function_name(call) or "?"
            for expression in policy.expressions()
            for call in function_calls(expression, _PER_REQUEST)
            if not is_initplan_wrapped(call)
        ]
        if unwrapped:
            calls = ", ".join(f"{name}()" for name in sorted(set(unwrapped)))
            yield Hit(
                policy.label,
                f"{policy.label} calls {calls} per row ({len(unwrapped)} unwrapped call(s))",
            )


RULE = Rule(
    id="L003",
    name="auth_call_per_row",
    level="warn",
    category="performance",
    description="A policy calls auth.uid(), auth.jwt(), auth.role(), auth.email() or "
    "current_setting() outside a scalar subquery, so PostgreSQL evaluates it for every row "
    "instead of once per query (an InitPlan).",
    remediation="Wrap each call in a scalar subquery: (select auth.uid()).",
    check=_check,
)
