"""Old import path, kept working: the module now lives at ``pgpolicy.testing.assertions``."""

from pgpolicy.testing.assertions import (
    assert_allowed,
    assert_denied,
    assert_filtered,
    assert_raised,
    assert_rows,
    assert_rows_unordered,
)

__all__ = [
    "assert_allowed",
    "assert_denied",
    "assert_filtered",
    "assert_raised",
    "assert_rows",
    "assert_rows_unordered",
]
