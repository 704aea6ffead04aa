"""Chat hardening: content-only inserts, presence without event or payload, blank bodies

A participant's direct insert may name only the content columns (id, created_at and the
participant columns are the server's: column privileges); a presence row a client writes
carries no event and no payload; a body of invisible characters only is blank (23514 on a
direct insert, 22023 from the RPC); Row Level Security is forced on the chat tables.

Declared files applied by this revision:
- rpc/public.insert_chat_message_once.sql
- policies/public.chat_identities.sql
- policies/public.chat_messages.sql
- policies/public.chat_threads.sql
- policies/realtime.messages.sql

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 05:04:49
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

# Table DDL lives only in the migrations.
# A body of invisible characters only is blank: the same class as insert_chat_message_once().
BODY_NOT_BLANK = r"""
-- Replaced below, in the same transaction, by a stricter check of the same name.
-- squawk-ignore ban-drop-constraint
alter table public.chat_messages drop constraint chat_messages_body_not_blank;

-- Not blank: at least one visible character. Whitespace, controls, zero-width and joiner
-- characters, fillers that render as nothing, variation selectors and tags do not count.
alter table public.chat_messages
  add constraint chat_messages_body_not_blank check (
    body ~ (
      '[^[:space:]\u0001-\u001f\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680'
      '\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000'
      '\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb'
      '\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]'
    )
  )
  not valid;

-- Existing messages are checked too: the upgrade stops (23514) if one is invisible-only. The
-- drop above holds the table's exclusive lock until commit anyway.
-- squawk-ignore constraint-missing-not-valid
alter table public.chat_messages validate constraint chat_messages_body_not_blank;
"""[1:]

BODY_NOT_BLANK_BEFORE = r"""
-- squawk-ignore ban-drop-constraint
alter table public.chat_messages drop constraint chat_messages_body_not_blank;

alter table public.chat_messages
  add constraint chat_messages_body_not_blank check (
    body ~ '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  );
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

  -- Blank: no visible character. Whitespace, controls, zero-width and joiner characters,
  -- fillers that render as nothing (U+115F, U+1160, U+3164, U+FFA0, U+2800), variation
  -- selectors and tags do not count. The same test as chat_messages_body_not_blank.
  if _body is null or _body !~ (
    '[^[:space:]\u0001-\u001f\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680'
    '\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000'
    '\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb'
    '\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]'
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

# rpc/public.insert_chat_message_once.sql as revision 0004 applied it (restored on downgrade).
RPC_PUBLIC_INSERT_CHAT_MESSAGE_ONCE_BEFORE = r"""
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

# policies/public.chat_identities.sql, verbatim.
POLICIES_PUBLIC_CHAT_IDENTITIES = r"""
-- Row Level Security and privileges of public.chat_identities (declared state).

alter table public.chat_identities enable row level security;
-- Forced: the owner too is subject to the policies unless it bypasses RLS (postgres on
-- Supabase does, and so do the SECURITY DEFINER functions it owns): no silent owner exemption.
alter table public.chat_identities force row level security;

drop policy if exists "chat users read their own identity" on public.chat_identities;
create policy "chat users read their own identity"
  on public.chat_identities
  as permissive
  for select
  to authenticated
  -- The scalar subquery makes auth.uid() an InitPlan: evaluated once per query, not per row.
  using (user_id = (select auth.uid()));

-- The link to a Mongo id is server-controlled: only service_role and the sync trigger write it.
-- TRUNCATE, REFERENCES and TRIGGER are not subject to RLS, so API roles never hold them.
revoke insert, update, delete, truncate, references, trigger
  on table public.chat_identities
  from anon, authenticated;
"""[1:]

# policies/public.chat_identities.sql as revision 0001 applied it (restored on downgrade).
POLICIES_PUBLIC_CHAT_IDENTITIES_BEFORE = r"""
-- Row Level Security and privileges of public.chat_identities (declared state).

alter table public.chat_identities enable row level security;

drop policy if exists "chat users read their own identity" on public.chat_identities;
create policy "chat users read their own identity"
  on public.chat_identities
  as permissive
  for select
  to authenticated
  -- The scalar subquery makes auth.uid() an InitPlan: evaluated once per query, not per row.
  using (user_id = (select auth.uid()));

-- The link to a Mongo id is server-controlled: only service_role and the sync trigger write it.
-- TRUNCATE, REFERENCES and TRIGGER are not subject to RLS, so API roles never hold them.
revoke insert, update, delete, truncate, references, trigger
  on table public.chat_identities
  from anon, authenticated;
"""[1:]

# policies/public.chat_messages.sql, verbatim.
POLICIES_PUBLIC_CHAT_MESSAGES = r"""
-- Row Level Security and privileges of public.chat_messages (declared state).

alter table public.chat_messages enable row level security;
-- Forced: the owner too is subject to the policies unless it bypasses RLS (postgres on
-- Supabase does, and so do the SECURITY DEFINER functions it owns): no silent owner exemption.
alter table public.chat_messages force row level security;

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

-- A client chooses only a message's content: id, created_at and the participant columns are
-- the server's, so nobody backdates, pins ('infinity') or hides a message (42501 otherwise).
revoke insert
  on table public.chat_messages
  from anon, authenticated;
grant insert (thread_id, sender_supabase_id, sender_mongo_id, recipient_mongo_id, body)
  on table public.chat_messages
  to authenticated;
"""[1:]

# policies/public.chat_messages.sql as revision 0005 applied it (restored on downgrade).
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
  -- Both sides are indexed: a BitmapOr of two index scans, auth.uid() evaluated once (InitPlan).
  using ((select auth.uid()) in (user_a_supabase_id, user_b_supabase_id));

-- Supabase's default grants stay (RLS protects the rows), except the privileges RLS does
-- not govern: TRUNCATE, REFERENCES and TRIGGER.
revoke truncate, references, trigger
  on table public.chat_threads
  from anon, authenticated;
"""[1:]

# policies/public.chat_threads.sql as revision 0002 applied it (restored on downgrade).
POLICIES_PUBLIC_CHAT_THREADS_BEFORE = r"""
-- Row Level Security and privileges of public.chat_threads (declared state).

alter table public.chat_threads enable row level security;

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
    -- Like Realtime's own presence probes: no event and no payload, so the row is nothing
    -- Realtime would ever deliver as a message.
    and event is null
    and payload is null
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

# policies/realtime.messages.sql as revision 0005 applied it (restored on downgrade).
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

# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {
    "rpc/public.insert_chat_message_once.sql": RPC_PUBLIC_INSERT_CHAT_MESSAGE_ONCE,
    "policies/public.chat_identities.sql": POLICIES_PUBLIC_CHAT_IDENTITIES,
    "policies/public.chat_messages.sql": POLICIES_PUBLIC_CHAT_MESSAGES,
    "policies/public.chat_threads.sql": POLICIES_PUBLIC_CHAT_THREADS,
    "policies/realtime.messages.sql": POLICIES_REALTIME_MESSAGES,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(BODY_NOT_BLANK)
    _execute(RPC_PUBLIC_INSERT_CHAT_MESSAGE_ONCE)
    _execute(POLICIES_PUBLIC_CHAT_IDENTITIES)
    _execute(POLICIES_PUBLIC_CHAT_MESSAGES)
    _execute(POLICIES_PUBLIC_CHAT_THREADS)
    _execute(POLICIES_REALTIME_MESSAGES)


def downgrade() -> None:
    _execute(POLICIES_REALTIME_MESSAGES_BEFORE)
    op.execute("alter table public.chat_threads no force row level security")
    _execute(POLICIES_PUBLIC_CHAT_THREADS_BEFORE)
    op.execute(
        "revoke insert (thread_id, sender_supabase_id, sender_mongo_id, recipient_mongo_id, body) on table public.chat_messages from authenticated"
    )
    op.execute("grant insert on table public.chat_messages to anon, authenticated")
    op.execute("alter table public.chat_messages no force row level security")
    _execute(POLICIES_PUBLIC_CHAT_MESSAGES_BEFORE)
    op.execute("alter table public.chat_identities no force row level security")
    _execute(POLICIES_PUBLIC_CHAT_IDENTITIES_BEFORE)
    _execute(RPC_PUBLIC_INSERT_CHAT_MESSAGE_ONCE_BEFORE)
    _execute(BODY_NOT_BLANK_BEFORE)
