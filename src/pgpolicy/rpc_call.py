"""Old import path, kept working: the module now lives at ``pgpolicy.postgrest.rpc_call``."""

from pgpolicy.postgrest.rpc_call import (
    Signature,
    rpc_query,
)

__all__ = [
    "Signature",
    "rpc_query",
]
