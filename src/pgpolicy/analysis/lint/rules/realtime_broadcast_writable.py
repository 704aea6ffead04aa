"""L016: API clients may write broadcast rows, so they can forge events."""

from collections.abc import Iterator

from sqlglot import exp

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule
from pgpolicy.analysis.lint.policyexpr import REALTIME_MESSAGES, row_column, string_values
from pgpolicy.analysis.sqlexpr import conjuncts

_COLUMNS = ("extension",)


def _excludes_broadcast(expression: exp.Expression) -> bool:
    for term in conjuncts(expression):
        if isinstance(term, exp.EQ | exp.NEQ):
            for side, other in ((term.this, term.expression), (term.expression, term.this)):
                if row_column(side, "messages", _COLUMNS) is None:
                    continue
                values = string_values(other)
                if values is None:
                    continue
                if isinstance(term, exp.EQ) and "broadcast" not in values:
                    return True
                if isinstance(term, exp.NEQ) and values == ["broadcast"]:
                    return True
        if isinstance(term, exp.In) and row_column(term.this, "messages", _COLUMNS):
            values = string_values(exp.Tuple(expressions=term.expressions))
            if values is not None and "broadcast" not in values:
                return True
    return False


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for policy in catalog.policies:
        if policy.qualified_table != REALTIME_MESSAGES or not policy.permissive:
            continue
        if policy.command not in ("insert", "all"):
            continue
        if not {"anon", "authenticated", "public"} & set(policy.roles):
            continue
        condition = policy.check if policy.check is not None else policy.using
        if condition is None or not _excludes_broadcast(condition):
            yield Hit(
                policy.label,
                f"{policy.label} lets {', '.join(policy.roles)} insert broadcast rows: clients "
                "can send (forge) events to every subscriber of the topic",
            )


RULE = Rule(
    id="L016",
    name="realtime_broadcast_writable",
    level="error",
    category="realtime",
    description="An insert policy on realtime.messages for API roles that does not rule out "
    "extension = 'broadcast': a client may broadcast any event, so subscribers cannot tell a "
    "forged message from one the database emitted.",
    remediation="Restrict client writes to presence (extension = 'presence') and broadcast "
    "from the database (a SECURITY DEFINER trigger calling realtime.broadcast_changes).",
    check=_check,
)
