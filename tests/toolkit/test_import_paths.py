"""Users' tests written against the flat module names keep importing after the move."""

import importlib

import pytest

MOVED = [
    ("pgpolicy.request", "pgpolicy.postgrest.request", "Result"),
    ("pgpolicy.identity", "pgpolicy.postgrest.identity", "as_user"),
    ("pgpolicy.claims", "pgpolicy.postgrest.claims", "Actor"),
    ("pgpolicy.rpc_call", "pgpolicy.postgrest.rpc_call", "rpc_query"),
    ("pgpolicy.postgrest", "pgpolicy.postgrest.status", "http_status"),
    ("pgpolicy.realtime", "pgpolicy.realtime.channels", "authorize_channel"),
    ("pgpolicy.harness", "pgpolicy.testing.harness", "Database"),
    ("pgpolicy.assertions", "pgpolicy.testing.assertions", "assert_denied"),
    ("pgpolicy.template", "pgpolicy.testing.template", "build_template"),
    ("pgpolicy.pytest_plugin", "pgpolicy.testing.plugin", "db"),
]


@pytest.mark.parametrize(("old", "new", "name"), MOVED)
def test_old_import_path_gives_the_same_object(old: str, new: str, name: str) -> None:
    assert getattr(importlib.import_module(old), name) is getattr(
        importlib.import_module(new), name
    )
