"""L011: a function left executable by anon (Supabase's default privileges do that)."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for function in catalog.functions:
        if (
            function.security_definer  # L007 reports those, as errors
            or function.is_trigger
            or not catalog.exposed(function.schema)
            or "anon" not in function.executable_by
        ):
            continue
        origin = (
            f"the default privileges of schema {function.schema} grant EXECUTE to anon"
            if function.schema in catalog.anon_default_execute
            else "PUBLIC or anon holds EXECUTE"
        )
        yield Hit(function.signature, f"{function.signature} is executable by anon ({origin})")


RULE = Rule(
    id="L011",
    name="function_executable_by_anon",
    level="warn",
    category="security",
    description="On Supabase every new function in public is executable by anon through the "
    "default privileges, unless revoked: signed-out clients can call it as an RPC.",
    remediation="revoke execute on function … from public, anon; (or suppress this finding "
    "for a function meant for signed-out clients, saying so).",
    check=_check,
)
