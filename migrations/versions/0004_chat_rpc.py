"""Chat RPCs: thread creation, sending messages, history pages.

ensure_chat_thread, insert_chat_message(_once) are SECURITY DEFINER and derive the
caller from auth.uid(); chat_history is an inlinable SECURITY INVOKER SQL function
(RLS applies) whose page size guard refuses a caller without a user.

Revision ID: 0004
Revises: 0003
Create Date: 2025-11-22 06:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. A changed declared file gets a new revision, not an edit here.
# Each constant is the file's exact text ([1:] drops the newline after the quotes).

# rpc/public.chat_history_page_size.sql, verbatim.
RPC_PUBLIC_CHAT_HISTORY_PAGE_SIZE = r"""
-- The page size of public.chat_history(), and its guard: called from the history query's
-- limit, it makes a history read without a user fail loudly instead of returning nothing.
create or replace function public.chat_history_page_size(_limit integer)
returns integer
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- service_role (or any role that bypasses RLS) reads history without a user: a trusted job.
  if auth.uid() is null and not exists (
    select 1 from pg_catalog.pg_roles r where r.rolname = current_user and r.rolbypassrls
  ) then
    raise exception 'not signed in'
      using errcode = '42501',
            hint = 'Call this with a signed-in user''s access token; the session has no user.';
  end if;

  if _limit is null or _limit < 1 then
    raise exception 'the page size must be at least 1'
      using errcode = '22023',
            hint = 'Pass a limit between 1 and 100 (larger values are capped at 100).';
  end if;

  return least(_limit, 100);
end;
$$;

comment on function public.chat_history_page_size(integer) is
  'Page size of chat_history(): 1 to 100; refuses a caller without a user (42501).';

revoke execute on function public.chat_history_page_size(integer) from public, anon;
grant execute on function public.chat_history_page_size(integer) to authenticated, service_role;
"""[1:]

# rpc/public.chat_history.sql, verbatim.
RPC_PUBLIC_CHAT_HISTORY = r"""
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

# rpc/public.insert_chat_message_once.sql, verbatim.
RPC_PUBLIC_INSERT_CHAT_MESSAGE_ONCE = r"""
-- Sends a message with a client-generated id: a retry of the same message returns the
-- stored row instead of inserting (and broadcasting) it twice.
-- SECURITY DEFINER: the sender is derived from auth.uid(), never taken from the arguments.
create or replace function public.insert_chat_message_once(
  _message_id uuid,
  _thread_id text,
  _sender_mongo_id text,
  _recipient_mongo_id text,
  _body text
)
returns public.chat_messages
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  _uid uuid := auth.uid();
  _thread public.chat_threads;
  _my_mongo_id text;
  _other_mongo_id text;
  _message public.chat_messages;
begin
  if _uid is null then
    raise exception 'not signed in'
      using errcode = '42501',
            hint = 'Call this with a signed-in user''s access token; the session has no user.';
  end if;

  select t.* into _thread
  from public.chat_threads t
  where t.thread_id = _thread_id
    and _uid in (t.user_a_supabase_id, t.user_b_supabase_id);
  -- One answer for "no such thread" and "not yours", so nobody can probe for thread ids.
  if not found then
    raise exception 'chat thread not found, or you are not one of its participants'
      using errcode = '42501',
            hint = 'Open the thread with ensure_chat_thread() and send to its thread_id.';
  end if;

  if _thread.user_a_supabase_id = _uid then
    _my_mongo_id := _thread.user_a_mongo_id;
    _other_mongo_id := _thread.user_b_mongo_id;
  else
    _my_mongo_id := _thread.user_b_mongo_id;
    _other_mongo_id := _thread.user_a_mongo_id;
  end if;

  if _sender_mongo_id is distinct from _my_mongo_id
    or _recipient_mongo_id is distinct from _other_mongo_id
  then
    raise exception 'sender and recipient must be you and the other participant'
      using errcode = '42501',
            hint = 'Send from your own Mongo id to the other participant''s Mongo id.';
  end if;

  if _message_id is null then
    raise exception 'the message id is missing'
      using errcode = '22023',
            hint = 'Generate a UUID for the message and reuse it when retrying.';
  end if;

  -- Blank: no character outside whitespace (the same test as chat_messages_body_not_blank).
  if _body is null or _body !~ (
    '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ) then
    raise exception 'the message is empty'
      using errcode = '22023',
            hint = 'Send at least one visible character.';
  end if;

  if char_length(_body) > 4000 then
    raise exception 'the message is longer than 4000 characters'
      using errcode = '22023',
            hint = 'Shorten the message or split it into several.';
  end if;

  insert into public.chat_messages as m
    (id, thread_id, sender_supabase_id, sender_mongo_id, recipient_mongo_id, body)
  values
    (_message_id, _thread.thread_id, _uid, _my_mongo_id, _other_mongo_id, _body)
  on conflict (id) do nothing
  returning m.* into _message;
  if found then
    return _message;
  end if;

  -- The id exists (an earlier attempt, or a concurrent one that has now committed).
  select m.* into _message
  from public.chat_messages m
  where m.id = _message_id;
  if not found then
    raise exception 'the message with this id was removed while it was being sent'
      using errcode = '40001',
            hint = 'Retry the call.';
  end if;

  if _message.sender_supabase_id is distinct from _uid then
    raise exception 'this message id belongs to another user''s message'
      using errcode = '42501',
            hint = 'Generate a new UUID for a new message.';
  end if;

  if _message.thread_id is distinct from _thread.thread_id
    or _message.body is distinct from _body
  then
    raise exception 'this message id was already used for a different message'
      using errcode = '22023',
            hint = 'Reuse an id only to retry the very same message; use a new UUID otherwise.';
  end if;

  -- A retry of a message already stored: return it, insert and broadcast nothing.
  return _message;
end;
$$;

comment on function public.insert_chat_message_once(uuid, text, text, text, text) is
  'Sends a chat message with a client-generated id; retrying the same message is a no-op.';

revoke execute on function public.insert_chat_message_once(uuid, text, text, text, text)
  from public, anon;
grant execute on function public.insert_chat_message_once(uuid, text, text, text, text)
  to authenticated, service_role;
"""[1:]

# rpc/public.insert_chat_message.sql, verbatim.
RPC_PUBLIC_INSERT_CHAT_MESSAGE = r"""
-- Sends a message: the call the existing frontend makes. It is insert_chat_message_once()
-- with a fresh id, so both RPCs make exactly the same checks in the same order.
-- SECURITY DEFINER: the sender is derived from auth.uid(), never taken from the arguments.
create or replace function public.insert_chat_message(
  _thread_id text,
  _sender_mongo_id text,
  _recipient_mongo_id text,
  _body text
)
returns public.chat_messages
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return public.insert_chat_message_once(
    gen_random_uuid(),
    _thread_id,
    _sender_mongo_id,
    _recipient_mongo_id,
    _body
  );
end;
$$;

comment on function public.insert_chat_message(text, text, text, text) is
  'Sends a chat message from the signed-in user to the other participant of the thread.';

revoke execute on function public.insert_chat_message(text, text, text, text)
  from public, anon;
grant execute on function public.insert_chat_message(text, text, text, text)
  to authenticated, service_role;
"""[1:]

# rpc/public.ensure_chat_thread.sql, verbatim.
RPC_PUBLIC_ENSURE_CHAT_THREAD = r"""
-- Returns the caller's thread with another chat user, creating it on first use.
-- SECURITY DEFINER: API roles cannot insert into chat_threads; every check is made here.
create or replace function public.ensure_chat_thread(_other_mongo_id text)
returns public.chat_threads
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  _uid uuid := auth.uid();
  _my_mongo_id text;
  _other_user_id uuid;
  _a_mongo_id text;
  _b_mongo_id text;
  _a_user_id uuid;
  _b_user_id uuid;
  _thread public.chat_threads;
begin
  if _uid is null then
    raise exception 'not signed in'
      using errcode = '42501',
            hint = 'Call this with a signed-in user''s access token; the session has no user.';
  end if;

  select i.mongo_id into _my_mongo_id
  from public.chat_identities i
  where i.user_id = _uid;
  if not found then
    raise exception 'your account is not linked to a chat identity'
      using errcode = '42501',
            hint = 'The backend links accounts through app_metadata.mongoUserId.';
  end if;

  if _other_mongo_id is null or _other_mongo_id !~ (
    '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ) then
    raise exception 'the other chat user''s id is missing'
      using errcode = '22023',
            hint = 'Pass the Mongo id of the person to chat with.';
  end if;

  if _other_mongo_id = _my_mongo_id then
    raise exception 'you cannot start a chat thread with yourself'
      using errcode = '22023',
            hint = 'Pass the Mongo id of another person.';
  end if;

  select i.user_id into _other_user_id
  from public.chat_identities i
  where i.mongo_id = _other_mongo_id;
  if not found then
    raise exception 'no chat user has this id'
      using errcode = '22023',
            hint = 'Check the Mongo id of the person to chat with.';
  end if;

  -- The smaller Mongo id (byte order) is user_a, so both callers name the same thread.
  if _my_mongo_id collate "C" < _other_mongo_id collate "C" then
    _a_mongo_id := _my_mongo_id;
    _a_user_id := _uid;
    _b_mongo_id := _other_mongo_id;
    _b_user_id := _other_user_id;
  else
    _a_mongo_id := _other_mongo_id;
    _a_user_id := _other_user_id;
    _b_mongo_id := _my_mongo_id;
    _b_user_id := _uid;
  end if;

  -- Two concurrent first calls: one inserts, the other waits for it and does nothing.
  insert into public.chat_threads
    (thread_id, user_a_mongo_id, user_b_mongo_id, user_a_supabase_id, user_b_supabase_id)
  values
    (_a_mongo_id || '__' || _b_mongo_id, _a_mongo_id, _b_mongo_id, _a_user_id, _b_user_id)
  on conflict (thread_id) do nothing;

  -- A new statement, so its snapshot sees the row the winning call committed.
  select t.* into _thread
  from public.chat_threads t
  where t.thread_id = _a_mongo_id || '__' || _b_mongo_id;
  return _thread;
end;
$$;

comment on function public.ensure_chat_thread(text) is
  'Returns the caller''s chat thread with the given Mongo id, creating it once (race-safe).';

revoke execute on function public.ensure_chat_thread(text) from public, anon;
grant execute on function public.ensure_chat_thread(text) to authenticated, service_role;
"""[1:]


# Declared files this revision applies, by path: `pgpolicy revision` and the drift
# check read the newest embedded text of each file from here.
DECLARED: dict[str, str] = {
    "rpc/public.chat_history_page_size.sql": RPC_PUBLIC_CHAT_HISTORY_PAGE_SIZE,
    "rpc/public.chat_history.sql": RPC_PUBLIC_CHAT_HISTORY,
    "rpc/public.insert_chat_message_once.sql": RPC_PUBLIC_INSERT_CHAT_MESSAGE_ONCE,
    "rpc/public.insert_chat_message.sql": RPC_PUBLIC_INSERT_CHAT_MESSAGE,
    "rpc/public.ensure_chat_thread.sql": RPC_PUBLIC_ENSURE_CHAT_THREAD,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(RPC_PUBLIC_CHAT_HISTORY_PAGE_SIZE)
    _execute(RPC_PUBLIC_CHAT_HISTORY)
    _execute(RPC_PUBLIC_INSERT_CHAT_MESSAGE_ONCE)
    _execute(RPC_PUBLIC_INSERT_CHAT_MESSAGE)
    _execute(RPC_PUBLIC_ENSURE_CHAT_THREAD)


def downgrade() -> None:
    # Reverse order of upgrade(); Supabase's own objects are left as they were.
    op.execute("drop function public.ensure_chat_thread(text)")
    op.execute("drop function public.insert_chat_message(text, text, text, text)")
    op.execute("drop function public.insert_chat_message_once(uuid, text, text, text, text)")
    op.execute("drop function public.chat_history(text, timestamptz, uuid, integer)")
    op.execute("drop function public.chat_history_page_size(integer)")
