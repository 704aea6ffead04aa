"""L007: anon may call a SECURITY DEFINER function."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for function in catalog.functions:
        if (
            function.security_definer
            and catalog.exposed(function.schema)
            and "anon" in function.executable_by
            and not function.is_trigger
        ):
            yield Hit(
                function.signature,
                f"{function.signature} is SECURITY DEFINER and executable by anon "
                f"(POST /rpc/{function.name} without signing in)",
            )


RULE = Rule(
    id="L007",
    name="security_definer_executable_by_anon",
    level="error",
    category="security",
    description="Anyone holding the public anon key can call this SECURITY DEFINER function "
    "through the API, and it runs with its owner's rights (RLS does not apply to it).",
    remediation="revoke execute on function … from public, anon; grant it to authenticated "
    "(or service_role) only, and check auth.uid() inside.",
    check=_check,
)
