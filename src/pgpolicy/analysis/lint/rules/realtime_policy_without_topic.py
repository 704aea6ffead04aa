"""L017: a private-channel policy that does not tie rows to the topic being joined."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule
from pgpolicy.analysis.lint.policyexpr import REALTIME_MESSAGES, row_column
from pgpolicy.analysis.sqlexpr import conjuncts, function_calls, strip_parens


def _is_current_topic(node: exp.Expression) -> bool:
    node = strip_parens(node)
    if isinstance(node, exp.Subquery):
        select = node.this
        return (
            isinstance(select, exp.Select)
            and len(select.expressions) == 1
            and _is_current_topic(select.expressions[0].unalias())
        )
    return any(True for _ in function_calls(node, {"realtime.topic"})) and not isinstance(
        node, exp.Select
    )


def _compares_topic(expression: exp.Expression) -> bool:
    for term in conjuncts(expression):
        if isinstance(term, exp.EQ):
            for side, other in ((term.this, term.expression), (term.expression, term.this)):
                if row_column(side, "messages", ("topic",)) and _is_current_topic(other):
                    return True
    return False


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        if policy.qualified_table != REALTIME_MESSAGES:
            continue
        expressions = policy.expressions()
        if expressions and not all(_compares_topic(e) for e in expressions):
            yield Hit(
                policy.label,
                f"{policy.label} does not require topic = realtime.topic(): a right to one "
                "topic reaches the rows of others",
            )


RULE = Rule(
    id="L017",
    name="realtime_policy_without_topic",
    level="warn",
    category="realtime",
    description="Realtime sets realtime.topic() to the channel being joined. A policy on "
    "realtime.messages that does not require topic = realtime.topic() (as a condition of its "
    "own, ANDed with the rest) lets a member of any channel read or write rows of other topics.",
    remediation="Add `topic = (select realtime.topic())` as a top-level AND term.",
    check=_check,
)
