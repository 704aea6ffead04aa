"""Chat realtime: topic policies on realtime.messages, broadcast and thread triggers.

Participants may join chat:<thread_id> (read broadcast and presence) and track
presence; only the database broadcasts messages. realtime.messages itself belongs
to Supabase: this revision adds and removes only its own policies.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-22 06:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. A changed declared file gets a new revision, not an edit here.
# Each constant is the file's exact text ([1:] drops the newline after the quotes).

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

# rpc/public.broadcast_chat_message.sql, verbatim.
RPC_PUBLIC_BROADCAST_CHAT_MESSAGE = r"""
-- Emits every new message on the private Realtime channel chat:<thread_id>.
-- SECURITY DEFINER because the realtime.messages policies let no API role write a broadcast
-- row, and realtime.send() turns that denial into a mere WARNING (nothing would be sent).
create or replace function public.broadcast_chat_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.broadcast_changes(
    'chat:' || new.thread_id,
    tg_op,
    tg_op,
    tg_table_name,
    tg_table_schema,
    new,
    old
  );
  return null;
end;
$$;

comment on function public.broadcast_chat_message() is
  'Trigger on public.chat_messages: broadcasts each new message to topic chat:<thread_id>.';

revoke execute on function public.broadcast_chat_message() from public, anon, authenticated;

create or replace trigger broadcast_chat_message
  after insert
  on public.chat_messages
  for each row
  execute function public.broadcast_chat_message();
"""[1:]

# rpc/public.touch_chat_thread_last_message_at.sql, verbatim.
RPC_PUBLIC_TOUCH_CHAT_THREAD_LAST_MESSAGE_AT = r"""
-- Keeps public.chat_threads.last_message_at at the newest message's created_at.
-- SECURITY DEFINER because API roles have no update policy on chat_threads.
create or replace function public.touch_chat_thread_last_message_at()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- greatest(): a message inserted with an older created_at never moves the thread back.
  update public.chat_threads t
  set last_message_at = greatest(coalesce(t.last_message_at, new.created_at), new.created_at)
  where t.thread_id = new.thread_id;
  return null;
end;
$$;

comment on function public.touch_chat_thread_last_message_at() is
  'Trigger on public.chat_messages: moves chat_threads.last_message_at forward.';

revoke execute on function public.touch_chat_thread_last_message_at()
  from public, anon, authenticated;

create or replace trigger touch_chat_thread_last_message_at
  after insert
  on public.chat_messages
  for each row
  execute function public.touch_chat_thread_last_message_at();
"""[1:]


# Declared files this revision applies, by path: `pgpolicy revision` and the drift
# check read the newest embedded text of each file from here.
DECLARED: dict[str, str] = {
    "policies/realtime.messages.sql": POLICIES_REALTIME_MESSAGES,
    "rpc/public.broadcast_chat_message.sql": RPC_PUBLIC_BROADCAST_CHAT_MESSAGE,
    "rpc/public.touch_chat_thread_last_message_at.sql": RPC_PUBLIC_TOUCH_CHAT_THREAD_LAST_MESSAGE_AT,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(POLICIES_REALTIME_MESSAGES)
    _execute(RPC_PUBLIC_BROADCAST_CHAT_MESSAGE)
    _execute(RPC_PUBLIC_TOUCH_CHAT_THREAD_LAST_MESSAGE_AT)


def downgrade() -> None:
    # Reverse order of upgrade(); Supabase's own objects are left as they were.
    op.execute("drop trigger touch_chat_thread_last_message_at on public.chat_messages")
    op.execute("drop function public.touch_chat_thread_last_message_at()")
    op.execute("drop trigger broadcast_chat_message on public.chat_messages")
    op.execute("drop function public.broadcast_chat_message()")
    op.execute(
        'drop policy "chat participants track presence on their thread topic" on realtime.messages'
    )
    op.execute('drop policy "chat participants read their thread topic" on realtime.messages')
