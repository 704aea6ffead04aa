"""Thread list as an index-only scan: chat_thread_members_recent_idx includes thread_id

Under RLS the planner never knows who the caller is: the policy's `user_id = (select
auth.uid())` is `user_id = $0` (an InitPlan), estimated at rows / n_distinct, the average
user's share (about 2 rows when every partner is in one thread). At 2 rows, walking
chat_thread_members_recent_idx in order (a heap fetch per row) and a Bitmap Heap Scan of the
same rows with a top-N sort cost the same to a hair (12.21 against 12.28), so the rows'
physical order and the last ANALYZE chose between them; a user in 20,000 threads then had all
20,000 rows read and sorted to return 50 (553 buffers, 9.9 ms instead of 5 buffers, 0.06 ms).

With thread_id in the index, the index holds every column of the row: the ordered walk is an
Index Only Scan that reads no heap page on all-visible pages, and it costs less than any plan
that reads the heap and sorts, at every row estimate (4.45 against 12.01 on the same data).
The alternative of raising the estimate (a per-column n_distinct) was measured and rejected:
above 50 estimated rows the thread list walks the index, but the embedded form then
materializes the caller's every thread (a BitmapOr) instead of one primary-key lookup per row.

Table DDL only: no declared file changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table DDL lives only in the migrations.
# Built under a new name first: the build holds SHARE on chat_thread_members (reads go on,
# sends wait, as the broadcast trigger moves last_message_at); only then does the drop take
# ACCESS EXCLUSIVE, held from there to the commit, which is brief. CONCURRENTLY cannot run in
# a revision's transaction; docs/schema.md shows the by-hand path for a table too large for
# the build's pause.
COVERING_RECENT_INDEX = r"""
-- squawk-ignore require-concurrent-index-creation
create index chat_thread_members_recent_covering_idx
  on public.chat_thread_members (user_id, last_message_at desc)
  include (thread_id);
-- squawk-ignore require-concurrent-index-deletion
drop index public.chat_thread_members_recent_idx;
-- No client names an index; the plans and docs keep the old name.
-- squawk-ignore renaming-object
alter index public.chat_thread_members_recent_covering_idx rename to chat_thread_members_recent_idx;
"""[1:]

RECENT_INDEX_BEFORE = r"""
-- squawk-ignore require-concurrent-index-creation
create index chat_thread_members_recent_plain_idx
  on public.chat_thread_members (user_id, last_message_at desc);
-- squawk-ignore require-concurrent-index-deletion
drop index public.chat_thread_members_recent_idx;
-- No client names an index; the plans and docs keep the old name.
-- squawk-ignore renaming-object
-- squawk-ignore renaming-object
alter index public.chat_thread_members_recent_plain_idx rename to chat_thread_members_recent_idx;
"""[1:]


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(COVERING_RECENT_INDEX)


def downgrade() -> None:
    _execute(RECENT_INDEX_BEFORE)
