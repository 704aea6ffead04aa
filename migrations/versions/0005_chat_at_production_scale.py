"""Chat at production scale: row-local messages policy, join check by primary key

Each message carries its thread's two participants (filled by a trigger, held equal to the
thread's by a foreign key), so the messages select policy reads no other table: a history
page, a direct insert's returned row and the realtime join check cost the same for a user in
one thread and a user in 20,000 (measured with `make bench`). Existing messages are
backfilled in this revision.

Declared files applied by this revision:
- rpc/public.chat_history.sql
- rpc/public.fill_chat_message_participants.sql
- policies/public.chat_messages.sql
- policies/realtime.messages.sql

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:57:33
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

# Table DDL lives only in the migrations.
MESSAGE_PARTICIPANTS = r"""
-- The foreign key below needs a unique key over exactly the thread's id and participants.
-- Built in this revision's transaction (CONCURRENTLY cannot run in one); chat_threads holds
-- one row per pair of users, so its lock is brief.
-- squawk-ignore disallowed-unique-constraint,constraint-missing-not-valid
alter table public.chat_threads add constraint chat_threads_participants_key
  unique (thread_id, user_a_supabase_id, user_b_supabase_id);

alter table public.chat_messages
  add column user_a_supabase_id uuid,
  add column user_b_supabase_id uuid;

comment on column public.chat_messages.user_a_supabase_id is
  'The thread''s user_a_supabase_id (server-set): makes the select policy row-local.';

comment on column public.chat_messages.user_b_supabase_id is
  'The thread''s user_b_supabase_id (server-set): makes the select policy row-local.';

update public.chat_messages m
set user_a_supabase_id = t.user_a_supabase_id,
    user_b_supabase_id = t.user_b_supabase_id
from public.chat_threads t
where t.thread_id = m.thread_id;

-- MATCH FULL: the participants are both set and equal to the thread's, or the row is refused.
alter table public.chat_messages
  add constraint chat_messages_participants_fkey
  foreign key (thread_id, user_a_supabase_id, user_b_supabase_id)
  references public.chat_threads (thread_id, user_a_supabase_id, user_b_supabase_id)
  match full
  on delete cascade
  not valid;

-- The backfill above already holds chat_messages' exclusive lock until commit: validating in a
-- later transaction would not shorten it, and head guarantees every row.
-- squawk-ignore constraint-missing-not-valid
alter table public.chat_messages validate constraint chat_messages_participants_fkey;
"""[1:]

# rpc/public.chat_history.sql, verbatim.
RPC_PUBLIC_CHAT_HISTORY = r"""
-- One page of a thread's messages, newest first, keyset-paginated on (created_at, id).
-- SECURITY INVOKER, language sql, stable, not strict, no set clause: the planner inlines it,
-- so RLS applies and a page is an index scan on chat_messages_thread_history_idx.
-- The row comparison has no OR so it stays an Index Cond at any depth, in generic plans too;
-- without a cursor it starts above every row ('infinity', the largest uuid).
-- Cost: one primary-key lookup of the thread, then the page's rows (DESIGN.md, performance).
create or replace function public.chat_history(
  _thread_id text,
  _before_created_at timestamptz default null,
  _before_id uuid default null,
  _limit integer default 50
)
returns setof public.chat_messages
language sql
stable
security invoker
as $$
  select m.*
  from public.chat_messages m
  where m.thread_id = _thread_id
    -- Evaluated once (an InitPlan): a caller who may not see the thread (chat_threads' policy)
    -- reads no message at all, instead of every message of the thread filtered out one by one.
    and exists (select from public.chat_threads t where t.thread_id = _thread_id)
    -- case, not coalesce(): the planner counts coalesce() as possibly leaky, and under RLS a
    -- leaky qual over parameters (generic plans, PostgREST's arguments) is no Index Cond.
    and (m.created_at, m.id) < (
      case
        when _before_created_at is null then 'infinity'::timestamptz
        else _before_created_at
      end,
      case
        when _before_id is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
        else _before_id
      end
    )
  order by m.created_at desc, m.id desc
  limit public.chat_history_page_size(_limit)
$$;

comment on function public.chat_history(text, timestamptz, uuid, integer) is
  'A thread''s messages, newest first; pass the last row''s created_at and id for the next page.';

revoke execute on function public.chat_history(text, timestamptz, uuid, integer)
  from public, anon;
grant execute on function public.chat_history(text, timestamptz, uuid, integer)
  to authenticated, service_role;
"""[1:]

# rpc/public.chat_history.sql as revision 0004 applied it (restored on downgrade).
RPC_PUBLIC_CHAT_HISTORY_BEFORE = r"""
-- One page of a thread's messages, newest first, keyset-paginated on (created_at, id).
-- SECURITY INVOKER, language sql, stable, not strict, no set clause: the planner inlines it,
-- so RLS applies and a page is an index scan on chat_messages_thread_history_idx.
-- The row comparison has no OR so it stays an Index Cond at any depth, in generic plans too;
-- without a cursor it starts above every row ('infinity', the largest uuid).
create or replace function public.chat_history(
  _thread_id text,
  _before_created_at timestamptz default null,
  _before_id uuid default null,
  _limit integer default 50
)
returns setof public.chat_messages
language sql
stable
security invoker
as $$
  select m.*
  from public.chat_messages m
  where m.thread_id = _thread_id
    -- case, not coalesce(): the planner counts coalesce() as possibly leaky, and under RLS a
    -- leaky qual over parameters (generic plans, PostgREST's arguments) is no Index Cond.
    and (m.created_at, m.id) < (
      case
        when _before_created_at is null then 'infinity'::timestamptz
        else _before_created_at
      end,
      case
        when _before_id is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
        else _before_id
      end
    )
  order by m.created_at desc, m.id desc
  limit public.chat_history_page_size(_limit)
$$;

comment on function public.chat_history(text, timestamptz, uuid, integer) is
  'A thread''s messages, newest first; pass the last row''s created_at and id for the next page.';

revoke execute on function public.chat_history(text, timestamptz, uuid, integer)
  from public, anon;
grant execute on function public.chat_history(text, timestamptz, uuid, integer)
  to authenticated, service_role;
"""[1:]

# rpc/public.fill_chat_message_participants.sql, verbatim.
RPC_PUBLIC_FILL_CHAT_MESSAGE_PARTICIPANTS = r"""
-- Copies the thread's two participants onto each new message, so the messages select policy
-- is row-local (no lookup per row, no scan of the caller's threads).
-- SECURITY DEFINER: it reads the thread whatever the caller may see; the insert policy and the
-- foreign key chat_messages_participants_fkey decide whether the row may exist.
create or replace function public.fill_chat_message_participants()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Always the server's values: whatever the insert said is overwritten. A missing thread
  -- leaves them NULL, and the foreign keys refuse the row (23503), as before.
  select t.user_a_supabase_id, t.user_b_supabase_id
  into new.user_a_supabase_id, new.user_b_supabase_id
  from public.chat_threads t
  where t.thread_id = new.thread_id;
  return new;
end;
$$;

comment on function public.fill_chat_message_participants() is
  'Trigger on public.chat_messages: copies the thread''s participants onto each new message.';

revoke execute on function public.fill_chat_message_participants()
  from public, anon, authenticated;

create or replace trigger fill_chat_message_participants
  before insert
  on public.chat_messages
  for each row
  execute function public.fill_chat_message_participants();
"""[1:]

# policies/public.chat_messages.sql, verbatim.
POLICIES_PUBLIC_CHAT_MESSAGES = r"""
-- Row Level Security and privileges of public.chat_messages (declared state).

alter table public.chat_messages enable row level security;

drop policy if exists "chat participants read messages of their threads"
  on public.chat_messages;
create policy "chat participants read messages of their threads"
  on public.chat_messages
  as permissive
  for select
  to authenticated
  -- Row-local: each message carries its thread's participants (filled by a trigger, held equal
  -- to the thread's by a foreign key), so a page costs its rows whatever the caller's thread
  -- count or the table size; auth.uid() is one InitPlan (= any: `in` would copy it per side).
  -- coalesce(): an opaque expression, so the planner estimates half the rows pass instead of
  -- deriving "rows this caller may see" from one user's share of the table, which would make
  -- a Bitmap Heap Scan and a Sort look cheaper than walking the history index.
  using (
    coalesce((select auth.uid()) = any (array[user_a_supabase_id, user_b_supabase_id]), false)
  );

-- What supabase-js .from('chat_messages').insert() does: allowed only as yourself, in your
-- thread, from your Mongo id to the other participant's. It checks the new row: no index needed.
drop policy if exists "chat participants send messages as themselves" on public.chat_messages;
create policy "chat participants send messages as themselves"
  on public.chat_messages
  as permissive
  for insert
  to authenticated
  with check (
    sender_supabase_id = (select auth.uid())
    and exists (
      select 1
      from public.chat_threads t
      where t.thread_id = chat_messages.thread_id
        and (
          (
            t.user_a_supabase_id = (select auth.uid())
            and chat_messages.sender_mongo_id = t.user_a_mongo_id
            and chat_messages.recipient_mongo_id = t.user_b_mongo_id
          )
          or (
            t.user_b_supabase_id = (select auth.uid())
            and chat_messages.sender_mongo_id = t.user_b_mongo_id
            and chat_messages.recipient_mongo_id = t.user_a_mongo_id
          )
        )
    )
  );

-- No update or delete policy: nobody edits or removes messages through the API (0 rows).
-- Supabase's default grants stay, except the privileges RLS does not govern.
revoke truncate, references, trigger
  on table public.chat_messages
  from anon, authenticated;
"""[1:]

# policies/public.chat_messages.sql as revision 0002 applied it (restored on downgrade).
POLICIES_PUBLIC_CHAT_MESSAGES_BEFORE = r"""
-- Row Level Security and privileges of public.chat_messages (declared state).

alter table public.chat_messages enable row level security;

drop policy if exists "chat participants read messages of their threads"
  on public.chat_messages;
create policy "chat participants read messages of their threads"
  on public.chat_messages
  as permissive
  for select
  to authenticated
  -- A set membership (one hashed subplan per query), not a function call per row.
  using (
    thread_id in (
      select t.thread_id
      from public.chat_threads t
      where (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );

-- What supabase-js .from('chat_messages').insert() does: allowed only as yourself, in your
-- thread, from your Mongo id to the other participant's. It checks the new row: no index needed.
drop policy if exists "chat participants send messages as themselves" on public.chat_messages;
create policy "chat participants send messages as themselves"
  on public.chat_messages
  as permissive
  for insert
  to authenticated
  with check (
    sender_supabase_id = (select auth.uid())
    and exists (
      select 1
      from public.chat_threads t
      where t.thread_id = chat_messages.thread_id
        and (
          (
            t.user_a_supabase_id = (select auth.uid())
            and chat_messages.sender_mongo_id = t.user_a_mongo_id
            and chat_messages.recipient_mongo_id = t.user_b_mongo_id
          )
          or (
            t.user_b_supabase_id = (select auth.uid())
            and chat_messages.sender_mongo_id = t.user_b_mongo_id
            and chat_messages.recipient_mongo_id = t.user_a_mongo_id
          )
        )
    )
  );

-- No update or delete policy: nobody edits or removes messages through the API (0 rows).
-- Supabase's default grants stay, except the privileges RLS does not govern.
revoke truncate, references, trigger
  on table public.chat_messages
  from anon, authenticated;
"""[1:]

# policies/realtime.messages.sql, verbatim.
POLICIES_REALTIME_MESSAGES = r"""
-- Our policies on realtime.messages, for private channels named chat:<thread_id>.
-- The table, its RLS switch and its grants belong to Supabase: only these policies are ours.
-- Realtime's join probes carry no event, payload or private flag, so none is looked at here.

drop policy if exists "chat participants read their thread topic" on realtime.messages;
create policy "chat participants read their thread topic"
  on realtime.messages
  as permissive
  for select
  to authenticated
  using (
    extension in ('broadcast', 'presence')
    -- Only rows of the topic being joined, so one thread's right never reads another's rows.
    and topic = (select realtime.topic())
    -- A malformed or missing topic matches no thread: a clean false, never an error.
    and exists (
      select 1
      from public.chat_threads t
      -- A scalar subquery (an InitPlan): the thread id is then a parameter, and chat_threads'
      -- own policy lets a leakproof parameter comparison, not substr(), be its index condition.
      where t.thread_id = (
          select substr(realtime.topic(), 6) where left(realtime.topic(), 5) = 'chat:'
        )
        and (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );

-- Participants may track presence. Nobody may send broadcast events: only the SECURITY
-- DEFINER trigger public.broadcast_chat_message() writes them, so no one can forge a message.
drop policy if exists "chat participants track presence on their thread topic"
  on realtime.messages;
create policy "chat participants track presence on their thread topic"
  on realtime.messages
  as permissive
  for insert
  to authenticated
  with check (
    extension = 'presence'
    and topic = (select realtime.topic())
    and exists (
      select 1
      from public.chat_threads t
      -- A scalar subquery (an InitPlan): the thread id is then a parameter, and chat_threads'
      -- own policy lets a leakproof parameter comparison, not substr(), be its index condition.
      where t.thread_id = (
          select substr(realtime.topic(), 6) where left(realtime.topic(), 5) = 'chat:'
        )
        and (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );
"""[1:]

# policies/realtime.messages.sql as revision 0003 applied it (restored on downgrade).
POLICIES_REALTIME_MESSAGES_BEFORE = r"""
-- Our policies on realtime.messages, for private channels named chat:<thread_id>.
-- The table, its RLS switch and its grants belong to Supabase: only these policies are ours.
-- Realtime's join probes carry no event, payload or private flag, so none is looked at here.

drop policy if exists "chat participants read their thread topic" on realtime.messages;
create policy "chat participants read their thread topic"
  on realtime.messages
  as permissive
  for select
  to authenticated
  using (
    extension in ('broadcast', 'presence')
    -- Only rows of the topic being joined, so one thread's right never reads another's rows.
    and topic = (select realtime.topic())
    -- A malformed or missing topic matches no thread: a clean false, never an error.
    and exists (
      select 1
      from public.chat_threads t
      where left((select realtime.topic()), 5) = 'chat:'
        and t.thread_id = substr((select realtime.topic()), 6)
        and (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );

-- Participants may track presence. Nobody may send broadcast events: only the SECURITY
-- DEFINER trigger public.broadcast_chat_message() writes them, so no one can forge a message.
drop policy if exists "chat participants track presence on their thread topic"
  on realtime.messages;
create policy "chat participants track presence on their thread topic"
  on realtime.messages
  as permissive
  for insert
  to authenticated
  with check (
    extension = 'presence'
    and topic = (select realtime.topic())
    and exists (
      select 1
      from public.chat_threads t
      where left((select realtime.topic()), 5) = 'chat:'
        and t.thread_id = substr((select realtime.topic()), 6)
        and (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );
"""[1:]

# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {
    "rpc/public.chat_history.sql": RPC_PUBLIC_CHAT_HISTORY,
    "rpc/public.fill_chat_message_participants.sql": RPC_PUBLIC_FILL_CHAT_MESSAGE_PARTICIPANTS,
    "policies/public.chat_messages.sql": POLICIES_PUBLIC_CHAT_MESSAGES,
    "policies/realtime.messages.sql": POLICIES_REALTIME_MESSAGES,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(MESSAGE_PARTICIPANTS)
    _execute(RPC_PUBLIC_CHAT_HISTORY)
    _execute(RPC_PUBLIC_FILL_CHAT_MESSAGE_PARTICIPANTS)
    _execute(POLICIES_PUBLIC_CHAT_MESSAGES)
    _execute(POLICIES_REALTIME_MESSAGES)


def downgrade() -> None:
    _execute(POLICIES_REALTIME_MESSAGES_BEFORE)
    _execute(POLICIES_PUBLIC_CHAT_MESSAGES_BEFORE)
    op.execute("drop trigger if exists fill_chat_message_participants on public.chat_messages")
    op.execute("drop function if exists public.fill_chat_message_participants()")
    _execute(RPC_PUBLIC_CHAT_HISTORY_BEFORE)
    op.execute("alter table public.chat_messages drop constraint chat_messages_participants_fkey")
    op.execute(
        "alter table public.chat_messages"
        " drop column user_a_supabase_id, drop column user_b_supabase_id"
    )
    op.execute("alter table public.chat_threads drop constraint chat_threads_participants_key")
