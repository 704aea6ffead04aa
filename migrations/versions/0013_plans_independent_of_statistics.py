"""Thread-list plans that depend neither on the caller's share nor on when ANALYZE ran

Under RLS the planner never knows the caller: `user_id = (select auth.uid())` is
`user_id = $0`, estimated at rows / n_distinct, the average user's share. Two plan choices
followed that estimate instead of the data (tests/plans/test_plan_statistics.py):

- The thread list. At the average share (about 2 rows when every partner is in one thread)
  walking chat_thread_members_recent_idx in order and a Bitmap Heap Scan with a top-N sort
  cost the same, and the visibility map decided: statistics taken when the busy user had 2%
  of its threads (the pages added since not known all-visible) made it read and sort all
  10,000 of its rows to return 50. chat_thread_members.user_id now declares its distinct
  count (n_distinct = -0.005: a user is estimated at 0.5% of the rows, never more than the
  most common user's share), so a page of 50 is a fraction of any caller's estimated rows
  and the ordered walk, which stops after its page, wins at every share and visibility.
- The embedded thread list. chat_threads' `(select auth.uid()) in (user_a, user_b)` offered
  a BitmapOr of the caller's every thread. Estimated at the average user's few threads
  (always without statistics, where each side is a default 0.5%), reading them all once
  and filtering the join looked cheaper than one primary-key lookup per listed row; for a
  caller in 10,000 threads it read all 10,000 for every page. The policy is now row-local,
  as chat_messages' is: an opaque filter on the row reached by its key, with no index path.
  Unfiltered `GET /chat_threads` (outside the performance contract) becomes a Seq Scan; a
  client reading threads from chat_threads filters by its own id, which stays indexed.

The new distinct count is used from the next ANALYZE; the revision analyzes that column.

Declared files applied by this revision:
- policies/public.chat_threads.sql

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 04:52:19
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

# policies/public.chat_threads.sql, verbatim.
POLICIES_PUBLIC_CHAT_THREADS = r"""
-- Row Level Security and privileges of public.chat_threads (declared state).

alter table public.chat_threads enable row level security;
-- Forced: the owner too is subject to the policies unless it bypasses RLS (postgres on
-- Supabase does, and so do the SECURITY DEFINER functions it owns): no silent owner exemption.
alter table public.chat_threads force row level security;

-- No insert, update or delete policy: threads are created by public.ensure_chat_thread()
-- (SECURITY DEFINER), so a direct insert raises 42501 and an update/delete affects 0 rows.
drop policy if exists "chat participants read their threads" on public.chat_threads;
create policy "chat participants read their threads"
  on public.chat_threads
  as permissive
  for select
  to authenticated
  -- Row-local, as chat_messages' (revision 0013): a filter on each row reached by its key,
  -- never an index path of its own. An indexable `in (user_a, user_b)` offered the planner a
  -- BitmapOr of the caller's every thread, estimated at the average user's few rows, which
  -- it then preferred to read in full, once, over one primary-key lookup per listed row of
  -- the embedded thread list. coalesce(): opaque, estimated at half the rows, so no plan
  -- counts on this filter being selective; auth.uid() is one InitPlan (`= any`, not `in`,
  -- which copies the sub-select per side). A client listing threads from this table filters
  -- by its own id, which is indexed (`or=(user_a_supabase_id.eq.…,user_b_supabase_id.eq.…)`).
  using (
    coalesce((select auth.uid()) = any (array[user_a_supabase_id, user_b_supabase_id]), false)
  );

-- Supabase's default grants stay (RLS protects the rows), except the privileges RLS does
-- not govern: TRUNCATE, REFERENCES and TRIGGER.
revoke truncate, references, trigger
  on table public.chat_threads
  from anon, authenticated;
"""[1:]

# policies/public.chat_threads.sql as revision 0006 applied it (restored on downgrade).
POLICIES_PUBLIC_CHAT_THREADS_BEFORE = r"""
-- Row Level Security and privileges of public.chat_threads (declared state).

alter table public.chat_threads enable row level security;
-- Forced: the owner too is subject to the policies unless it bypasses RLS (postgres on
-- Supabase does, and so do the SECURITY DEFINER functions it owns): no silent owner exemption.
alter table public.chat_threads force row level security;

-- No insert, update or delete policy: threads are created by public.ensure_chat_thread()
-- (SECURITY DEFINER), so a direct insert raises 42501 and an update/delete affects 0 rows.
drop policy if exists "chat participants read their threads" on public.chat_threads;
create policy "chat participants read their threads"
  on public.chat_threads
  as permissive
  for select
  to authenticated
  -- Both sides are indexed: a BitmapOr of two index scans, auth.uid() evaluated once (InitPlan).
  using ((select auth.uid()) in (user_a_supabase_id, user_b_supabase_id));

-- Supabase's default grants stay (RLS protects the rows), except the privileges RLS does
-- not govern: TRUNCATE, REFERENCES and TRIGGER.
revoke truncate, references, trigger
  on table public.chat_threads
  from anon, authenticated;
"""[1:]

# Table DDL lives only in the migrations. The override is a property of the data (a user is
# in many threads), read by ANALYZE; analyzing the one column keeps the others' statistics.
MEMBER_SHARE_ESTIMATE = r"""
alter table public.chat_thread_members alter column user_id set (n_distinct = -0.005);
analyze public.chat_thread_members (user_id);
"""[1:]

MEMBER_SHARE_ESTIMATE_BEFORE = r"""
alter table public.chat_thread_members alter column user_id reset (n_distinct);
analyze public.chat_thread_members (user_id);
"""[1:]

# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {
    "policies/public.chat_threads.sql": POLICIES_PUBLIC_CHAT_THREADS,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(MEMBER_SHARE_ESTIMATE)
    _execute(POLICIES_PUBLIC_CHAT_THREADS)


def downgrade() -> None:
    _execute(POLICIES_PUBLIC_CHAT_THREADS_BEFORE)
    _execute(MEMBER_SHARE_ESTIMATE_BEFORE)
