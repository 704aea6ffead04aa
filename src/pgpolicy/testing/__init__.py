"""Writing policy tests: the pytest plugin, the Database handle, the assertions."""

from pgpolicy.testing.assertions import (
    assert_allowed,
    assert_denied,
    assert_filtered,
    assert_raised,
    assert_rows,
    assert_rows_unordered,
)
from pgpolicy.testing.harness import Database

__all__ = [
    "Database",
    "assert_allowed",
    "assert_denied",
    "assert_filtered",
    "assert_raised",
    "assert_rows",
    "assert_rows_unordered",
]
