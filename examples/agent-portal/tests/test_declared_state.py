"""policies/ and rpc/ are the declared state: head holds exactly what they declare."""

from __future__ import annotations

from pathlib import Path

from pgpolicy.declared.drift import check_drift
from pgpolicy.declared.files import load_declared
from pgpolicy.testing.harness import Database

EXAMPLE = Path(__file__).resolve().parent.parent


def test_head_matches_the_declared_files(db: Database) -> None:
    files = load_declared(EXAMPLE)
    assert {file.path for file in files} >= {
        "policies/public.tickets.sql",
        "rpc/public.custom_access_token_hook.sql",
    }
    report = check_drift(db.conn, files)
    assert report.clean, report.lines()


def test_drift_is_seen_when_a_policy_changes(db: Database) -> None:
    db.execute('alter policy "admins delete tickets" on public.tickets using (true)')
    assert not check_drift(db.conn, load_declared(EXAMPLE)).clean
