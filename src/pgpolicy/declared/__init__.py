"""The declared current state (policies/ and rpc/) and how it relates to migrations."""

from pgpolicy.declared.files import DeclaredFile, load_declared
from pgpolicy.declared.history import EmbeddedFile, embedded_state
from pgpolicy.declared.objects import DeclaredObjects, parse_objects

__all__ = [
    "DeclaredFile",
    "DeclaredObjects",
    "EmbeddedFile",
    "embedded_state",
    "load_declared",
    "parse_objects",
]
