"""L006: a SECURITY DEFINER function whose search_path the caller controls."""

from collections.abc import Iterator

from pgpolicy.analysis.lint.catalog import SUPABASE_SCHEMAS, LintCatalog
from pgpolicy.analysis.lint.model import Hit, Rule


def _check(catalog: LintCatalog) -> Iterator[Hit]:
    for function in catalog.functions:
        if function.schema in SUPABASE_SCHEMAS or not function.security_definer:
            continue
        if function.search_path is None:
            yield Hit(
                function.signature,
                f"{function.signature} is SECURITY DEFINER without a pinned search_path",
            )


RULE = Rule(
    id="L006",
    name="security_definer_without_search_path",
    level="error",
    category="security",
    description="A SECURITY DEFINER function runs with its owner's rights but resolves names "
    "through the caller's search_path, so a caller can make it call their own objects.",
    remediation="Add `set search_path = ''` to the function and schema-qualify every name.",
    check=_check,
)
