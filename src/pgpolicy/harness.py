"""Old import path, kept working: the module now lives at ``pgpolicy.testing.harness``."""

from pgpolicy.testing.harness import (
    Database,
    HookError,
)

__all__ = [
    "Database",
    "HookError",
]
