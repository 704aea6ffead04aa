"""The rule catalog: one module per rule, each defining ``RULE``; add a file to add a rule."""

from __future__ import annotations

import importlib
import pkgutil

from pgpolicy.analysis.lint.model import Rule

__all__ = ["all_rules"]


def all_rules() -> list[Rule]:
    """Every rule of this package, ordered by id."""
    rules: list[Rule] = []
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        rule = getattr(module, "RULE", None)
        if isinstance(rule, Rule):
            rules.append(rule)
    ids = [rule.id for rule in rules]
    duplicates = {rule_id for rule_id in ids if ids.count(rule_id) > 1}
    if duplicates:
        raise RuntimeError(f"lint rule ids used twice: {sorted(duplicates)}")
    return sorted(rules, key=lambda rule: rule.id)
