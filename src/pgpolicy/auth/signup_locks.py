"""Why a sign-up would wait forever: locks on auth.users held by the caller's own transaction.

Auth signs users up on a connection of its own, so a lock the caller's open transaction holds
on auth.users makes the sign-up wait until that transaction ends, which it never does while the
caller waits for the sign-up. On Supabase the usual holder is supautils: every CREATE, ALTER or
DROP POLICY run as postgres, on any table, takes ACCESS EXCLUSIVE on auth.users (and the rest
of its policy_grants list) until the transaction ends. Asked before the insert, the catalog
names the lock at once, where waiting would only end in a lock timeout.
"""

from __future__ import annotations

from typing import Any

import psycopg

__all__ = ["blocking_lock_message"]

# Lock modes that conflict with the ROW EXCLUSIVE lock an insert takes.
_HELD_BY_CALLER = """
select l.mode, pg_catalog.current_setting('pgpolicy_compat.policy_grant_locks_by', true)
from pg_catalog.pg_locks l
where l.pid = pg_catalog.pg_backend_pid()
  and l.granted
  and l.locktype = 'relation'
  and l.relation = pg_catalog.to_regclass('auth.users')
  and l.mode in ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
order by l.mode
limit 1
"""


def blocking_lock_message(
    caller: psycopg.Connection[Any], label: str, caller_name: str
) -> str | None:
    """Why signing ``label`` up would wait on ``caller``'s own locks, or None if it would not."""
    if caller.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        return None  # idle (no locks) or failed (the sign-up's own error will say so)
    row = caller.execute(_HELD_BY_CALLER).fetchone()
    if row is None:
        return None
    mode, taken_by = row
    if taken_by:
        cause = (
            f"{taken_by} in {caller_name}'s transaction: run as postgres, every policy statement "
            "takes ACCESS EXCLUSIVE on auth.users and the rest of supautils' policy_grants "
            "tables until the transaction ends, as on Supabase"
        )
    else:
        cause = (
            f"{caller_name}'s open transaction holds {mode} on auth.users (on Supabase, any "
            "CREATE/ALTER/DROP POLICY run as postgres takes it, through supautils; DDL on "
            "auth.users too)"
        )
    return (
        f"signing up {label!r} would wait forever: {cause}. Sign users up before the first "
        "policy statement (request the user fixtures first, or call db.create_user earlier)"
    )
