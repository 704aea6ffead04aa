"""Thread list through chat_thread_members: one row per participant, newest first

A user's threads are one range of chat_thread_members' indexes, so the thread list
(`GET /chat_thread_members?select=*,chat_threads(*)&order=last_message_at.desc&limit=50`) is
an index scan that stops after its page, then one primary-key lookup per thread: the same
cost for a user in one thread and a user in 20,000 (measured with `make bench`). The rows are
written only by a trigger on chat_threads; existing threads are backfilled in this revision.

Declared files applied by this revision:
- rpc/public.sync_chat_thread_members.sql
- policies/public.chat_thread_members.sql

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 05:49:46
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

# Table DDL lives only in the migrations.
THREAD_MEMBERS_TABLE = r"""
create table public.chat_thread_members (
  user_id uuid not null,
  thread_id text not null
    references public.chat_threads (thread_id) on update cascade on delete cascade,
  last_message_at timestamptz,
  primary key (user_id, thread_id)
);

comment on table public.chat_thread_members is
  'One row per participant of each chat thread (server-written): the caller''s thread list.';

-- The newest-first thread list: a user's threads in last_message_at order, one index range.
create index chat_thread_members_recent_idx
  on public.chat_thread_members (user_id, last_message_at desc);

-- A thread's two rows, for the cascade when a thread is deleted.
create index chat_thread_members_thread_id_idx
  on public.chat_thread_members (thread_id);
"""[1:]

# Existing threads, after the trigger exists: creating it locked chat_threads against writes
# until commit, so no thread can be added between this read and the trigger.
THREAD_MEMBERS_BACKFILL = r"""
insert into public.chat_thread_members (user_id, thread_id, last_message_at)
select t.user_a_supabase_id, t.thread_id, t.last_message_at
from public.chat_threads t
union all
select t.user_b_supabase_id, t.thread_id, t.last_message_at
from public.chat_threads t
on conflict (user_id, thread_id) do nothing;
"""[1:]

# rpc/public.sync_chat_thread_members.sql, verbatim.
RPC_PUBLIC_SYNC_CHAT_THREAD_MEMBERS = r"""
-- Keeps public.chat_thread_members equal to chat_threads: one row per participant of a thread,
-- carrying the thread's last_message_at for the newest-first thread list.
-- SECURITY DEFINER because API roles cannot write chat_thread_members.
create or replace function public.sync_chat_thread_members()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    -- Changed participants: their old memberships go (a changed thread_id has cascaded to
    -- them already; deleted threads cascade too).
    delete from public.chat_thread_members m
    where m.thread_id = new.thread_id
      and m.user_id not in (new.user_a_supabase_id, new.user_b_supabase_id);
  end if;
  -- One statement for both rows, by primary key: a new message's touch costs two index lookups.
  insert into public.chat_thread_members (user_id, thread_id, last_message_at)
  values
    (new.user_a_supabase_id, new.thread_id, new.last_message_at),
    (new.user_b_supabase_id, new.thread_id, new.last_message_at)
  on conflict (user_id, thread_id) do update
    set last_message_at = excluded.last_message_at
    where public.chat_thread_members.last_message_at is distinct from excluded.last_message_at;
  return null;
end;
$$;

comment on function public.sync_chat_thread_members() is
  'Trigger on public.chat_threads: keeps chat_thread_members (participants, last_message_at).';

revoke execute on function public.sync_chat_thread_members()
  from public, anon, authenticated;

create or replace trigger sync_chat_thread_members
  after insert or update of thread_id, user_a_supabase_id, user_b_supabase_id, last_message_at
  on public.chat_threads
  for each row
  execute function public.sync_chat_thread_members();
"""[1:]

# policies/public.chat_thread_members.sql, verbatim.
POLICIES_PUBLIC_CHAT_THREAD_MEMBERS = r"""
-- Row Level Security and privileges of public.chat_thread_members (declared state).

alter table public.chat_thread_members enable row level security;
-- Forced: the owner too is subject to the policy unless it bypasses RLS.
alter table public.chat_thread_members force row level security;

-- Row-local: a user's rows are one range of the primary key and of the recency index, so the
-- thread list is an index scan that stops after its page, however many threads the user has.
drop policy if exists "chat users read their thread memberships" on public.chat_thread_members;
create policy "chat users read their thread memberships"
  on public.chat_thread_members
  as permissive
  for select
  to authenticated
  using (user_id = (select auth.uid()));

-- Rows are written only by the SECURITY DEFINER trigger public.sync_chat_thread_members():
-- API clients read their own rows and write nothing (42501); anon reads nothing (42501).
revoke all on table public.chat_thread_members from anon, authenticated;
grant select on table public.chat_thread_members to authenticated;
"""[1:]

# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {
    "rpc/public.sync_chat_thread_members.sql": RPC_PUBLIC_SYNC_CHAT_THREAD_MEMBERS,
    "policies/public.chat_thread_members.sql": POLICIES_PUBLIC_CHAT_THREAD_MEMBERS,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(THREAD_MEMBERS_TABLE)
    _execute(RPC_PUBLIC_SYNC_CHAT_THREAD_MEMBERS)
    _execute(THREAD_MEMBERS_BACKFILL)
    _execute(POLICIES_PUBLIC_CHAT_THREAD_MEMBERS)


def downgrade() -> None:
    op.execute("drop trigger if exists sync_chat_thread_members on public.chat_threads")
    op.execute("drop function if exists public.sync_chat_thread_members()")
    op.execute("drop table public.chat_thread_members")
