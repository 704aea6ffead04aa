"""Old import path, kept working: the module now lives at ``pgpolicy.testing.template``."""

from pgpolicy.testing.template import (
    build_template,
)

__all__ = [
    "build_template",
]
