"""Old import path, kept working: the module now lives at ``pgpolicy.postgrest.request``."""

from pgpolicy.postgrest.request import (
    DEFAULT_HEADERS,
    Params,
    Query,
    Request,
    Result,
    Row,
)

__all__ = [
    "DEFAULT_HEADERS",
    "Params",
    "Query",
    "Request",
    "Result",
    "Row",
]
