"""L011: a function left executable by anon (Supabase's default privileges do that)."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import Function, LintCatalog
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
        yield Hit(
            function.signature,
            f"{function.signature} is executable by anon ({_origin(catalog, function)})",
        )


def _origin(catalog: LintCatalog, function: Function) -> str:
    """Where anon's EXECUTE comes from, so the fix revokes it where it is granted."""
    origins = []
    if "anon" in function.execute_grantees:
        origins.append(
            f"the default privileges of schema {function.schema} grant EXECUTE to anon"
            if function.schema in catalog.anon_default_execute
            else "EXECUTE is granted to anon"
        )
    if "public" in function.execute_grantees:
        origins.append("PUBLIC holds EXECUTE, as on every function until revoked from public")
    return "; ".join(origins) or "anon inherits EXECUTE from a role it belongs to"


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
