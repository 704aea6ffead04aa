"""Account deletion keeps the other participant's conversation

Deleting a user (or unlinking its Mongo id) deleted its chat identity, and through the
threads' foreign keys every thread it was in and every message of those threads: the other
participant lost a conversation it had done nothing to. Now the departed side of each thread
becomes NULL instead (`on delete set null` of that participant column alone), the NULL is
carried onto the thread's messages (the participants foreign key, MATCH SIMPLE, `on update
cascade`) and the departed user's membership row goes. So the remaining participant still
reads the thread and both sides' messages, a token of the deleted account (its `sub` is
still in old JWTs) matches no row, the client sees the NULL side, and nobody can send into
the thread any more (23503), or reopen it for an account that later holds the same Mongo id.
A thread both of whose participants have left is deleted: nobody could read it.

Declared files applied by this revision:
- rpc/public.delete_abandoned_chat_thread.sql
- rpc/public.ensure_chat_thread.sql
- rpc/public.refuse_chat_message_to_departed.sql
- rpc/public.sync_chat_identity.sql
- rpc/public.sync_chat_thread_members.sql

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:54:09
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

# Table DDL lives only in the migrations.
DEPARTED_PARTICIPANTS = r"""
-- A participant whose identity goes (account deleted, Mongo id unlinked) leaves the thread:
-- its side becomes NULL, the thread and its messages stay with the other participant.
-- Clients reading a thread must expect that NULL: it is how they learn the other side is gone.
-- squawk-ignore ban-drop-not-null
alter table public.chat_threads alter column user_a_supabase_id drop not null;
-- squawk-ignore ban-drop-not-null
alter table public.chat_threads alter column user_b_supabase_id drop not null;

comment on column public.chat_threads.user_a_supabase_id is
  'user_a''s Supabase user; NULL once that account is deleted (user_a_mongo_id stays).';

comment on column public.chat_threads.user_b_supabase_id is
  'user_b''s Supabase user; NULL once that account is deleted (user_b_mongo_id stays).';

-- Only the departed user's id is set NULL: its Mongo id is part of the thread id and stays.
-- MATCH SIMPLE (the default), so a side holding NULL is no longer checked against identities.
-- Each key is replaced in this transaction by one with the same columns and target.
-- squawk-ignore ban-drop-constraint
alter table public.chat_threads drop constraint chat_threads_user_a_fkey;
-- squawk-ignore ban-drop-constraint
alter table public.chat_threads drop constraint chat_threads_user_b_fkey;

alter table public.chat_threads
  add constraint chat_threads_user_a_fkey foreign key (user_a_supabase_id, user_a_mongo_id)
    references public.chat_identities (user_id, mongo_id)
    on delete set null (user_a_supabase_id)
    not valid,
  add constraint chat_threads_user_b_fkey foreign key (user_b_supabase_id, user_b_mongo_id)
    references public.chat_identities (user_id, mongo_id)
    on delete set null (user_b_supabase_id)
    not valid;

-- Every row satisfied the cascading keys these replace; chat_threads holds one row per pair
-- of users, and the exclusive lock taken above lasts until commit anyway.
-- squawk-ignore constraint-missing-not-valid
alter table public.chat_threads validate constraint chat_threads_user_a_fkey;
-- squawk-ignore constraint-missing-not-valid
alter table public.chat_threads validate constraint chat_threads_user_b_fkey;

-- The messages carry their thread's participants: a departed side becomes NULL on them too
-- (on update cascade), so the row-local select policy stops matching the departed user.
-- MATCH FULL (revision 0005) would refuse exactly that mix of set and NULL participants; a
-- message's participants are still the server's (fill_chat_message_participants), and a
-- missing thread is still refused by chat_messages_thread_id_fkey.
-- squawk-ignore ban-drop-constraint
alter table public.chat_messages drop constraint chat_messages_participants_fkey;

alter table public.chat_messages
  add constraint chat_messages_participants_fkey
  foreign key (thread_id, user_a_supabase_id, user_b_supabase_id)
  references public.chat_threads (thread_id, user_a_supabase_id, user_b_supabase_id)
  on update cascade
  on delete cascade
  not valid;

-- Every row satisfied MATCH FULL, which implies this key; dropping the old key already took
-- chat_messages' exclusive lock until commit, so validating later would not shorten it.
-- squawk-ignore constraint-missing-not-valid
alter table public.chat_messages validate constraint chat_messages_participants_fkey;
"""[1:]

# The schema before this revision cannot hold a thread with a departed side: the downgrade
# stops, saying so, rather than deleting conversations on its own.
NO_DEPARTED_PARTICIPANTS = r"""
do $$
declare
  _closed bigint;
begin
  select count(*) into _closed
  from public.chat_threads t
  where t.user_a_supabase_id is null or t.user_b_supabase_id is null;
  if _closed > 0 then
    raise exception '% chat thread(s) of deleted accounts exist; revision 0010 cannot hold them',
      _closed
      using errcode = '55000',
            hint = 'Delete them first (delete from public.chat_threads where user_a_supabase_id'
                   ' is null or user_b_supabase_id is null), or stay at revision 0011.';
  end if;
end;
$$;
"""[1:]

# The keys as revisions 0002 and 0005 made them (restored on downgrade).
DEPARTED_PARTICIPANTS_BEFORE = r"""
alter table public.chat_messages drop constraint chat_messages_participants_fkey;

alter table public.chat_messages
  add constraint chat_messages_participants_fkey
  foreign key (thread_id, user_a_supabase_id, user_b_supabase_id)
  references public.chat_threads (thread_id, user_a_supabase_id, user_b_supabase_id)
  match full
  on delete cascade
  not valid;

-- squawk-ignore constraint-missing-not-valid
alter table public.chat_messages validate constraint chat_messages_participants_fkey;

alter table public.chat_threads
  drop constraint chat_threads_user_a_fkey,
  drop constraint chat_threads_user_b_fkey;

alter table public.chat_threads
  add constraint chat_threads_user_a_fkey foreign key (user_a_supabase_id, user_a_mongo_id)
    references public.chat_identities (user_id, mongo_id) on delete cascade not valid,
  add constraint chat_threads_user_b_fkey foreign key (user_b_supabase_id, user_b_mongo_id)
    references public.chat_identities (user_id, mongo_id) on delete cascade not valid;

-- squawk-ignore constraint-missing-not-valid
alter table public.chat_threads validate constraint chat_threads_user_a_fkey;
-- squawk-ignore constraint-missing-not-valid
alter table public.chat_threads validate constraint chat_threads_user_b_fkey;

comment on column public.chat_threads.user_a_supabase_id is null;

comment on column public.chat_threads.user_b_supabase_id is null;

-- squawk-ignore adding-not-nullable-field
alter table public.chat_threads
  alter column user_a_supabase_id set not null,
  alter column user_b_supabase_id set not null;
"""[1:]

# rpc/public.delete_abandoned_chat_thread.sql, verbatim.
RPC_PUBLIC_DELETE_ABANDONED_CHAT_THREAD = r"""
-- Deletes a thread once both of its participants have left (both sides NULL): nobody but the
-- backend could read it any more, so it keeps no one's messages for no reader. Its messages
-- and memberships go with it (their foreign keys cascade).
-- A thread's side becomes NULL only when that participant's chat identity is deleted
-- (chat_threads_user_a_fkey / _b_fkey, revision 0011), so this fires at the second departure.
-- SECURITY DEFINER: that departure may be the cascade of a write by Auth or the backend.
create or replace function public.delete_abandoned_chat_thread()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.chat_threads t
  where t.thread_id = new.thread_id;
  return null;
end;
$$;

comment on function public.delete_abandoned_chat_thread() is
  'Trigger on public.chat_threads: deletes a thread both of whose participants have left.';

revoke execute on function public.delete_abandoned_chat_thread()
  from public, anon, authenticated;

create or replace trigger delete_abandoned_chat_thread
  after update of user_a_supabase_id, user_b_supabase_id
  on public.chat_threads
  for each row
  when (new.user_a_supabase_id is null and new.user_b_supabase_id is null)
  execute function public.delete_abandoned_chat_thread();
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
  -- No conflict target: every unique index of chat_threads arbitrates. Naming one (the
  -- primary key) left the others checked as plain unique indexes, so the losing call of a
  -- race could meet chat_threads_participants_key first and fail with 23505.
  insert into public.chat_threads
    (thread_id, user_a_mongo_id, user_b_mongo_id, user_a_supabase_id, user_b_supabase_id)
  values
    (_a_mongo_id || '__' || _b_mongo_id, _a_mongo_id, _b_mongo_id, _a_user_id, _b_user_id)
  on conflict do nothing;

  -- A new statement, so its snapshot sees the row the winning call committed.
  select t.* into _thread
  from public.chat_threads t
  where t.thread_id = _a_mongo_id || '__' || _b_mongo_id;

  -- The pair's thread id is taken by a conversation a participant left by deleting their
  -- account (its side is NULL): it is the remaining participant's to read, and it is never
  -- handed to an account that now holds the departed Mongo id.
  if _thread.user_a_supabase_id is distinct from _a_user_id
    or _thread.user_b_supabase_id is distinct from _b_user_id
  then
    raise exception 'the conversation with this person was closed when an account was deleted'
      using errcode = '23503',
            hint = 'The closed conversation stays readable; a new one needs the backend to '
                   'remove it first.';
  end if;
  return _thread;
end;
$$;

comment on function public.ensure_chat_thread(text) is
  'Returns the caller''s chat thread with the given Mongo id, creating it once (race-safe).';

revoke execute on function public.ensure_chat_thread(text) from public, anon;
grant execute on function public.ensure_chat_thread(text) to authenticated, service_role;
"""[1:]

# rpc/public.ensure_chat_thread.sql as revision 0010 applied it (restored on downgrade).
RPC_PUBLIC_ENSURE_CHAT_THREAD_BEFORE = r"""
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
  -- No conflict target: every unique index of chat_threads arbitrates. Naming one (the
  -- primary key) left the others checked as plain unique indexes, so the losing call of a
  -- race could meet chat_threads_participants_key first and fail with 23505.
  insert into public.chat_threads
    (thread_id, user_a_mongo_id, user_b_mongo_id, user_a_supabase_id, user_b_supabase_id)
  values
    (_a_mongo_id || '__' || _b_mongo_id, _a_mongo_id, _b_mongo_id, _a_user_id, _b_user_id)
  on conflict do nothing;

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

# rpc/public.refuse_chat_message_to_departed.sql, verbatim.
RPC_PUBLIC_REFUSE_CHAT_MESSAGE_TO_DEPARTED = r"""
-- Refuses a new message in a thread one of whose participants deleted their account (that
-- side is NULL on the thread and, by the participants foreign key, on the message): the
-- remaining participant keeps reading the conversation, and nobody adds to it.
-- An AFTER trigger, so a direct insert meets the insert policy first: a caller who is not a
-- participant is told 42501, as for any thread, and learns nothing about this one. The
-- message already carries its thread's participants (fill_chat_message_participants), so
-- the check reads no other row.
create or replace function public.refuse_chat_message_to_departed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.user_a_supabase_id is null or new.user_b_supabase_id is null then
    raise exception 'the other participant has deleted their account'
      using errcode = '23503',
            hint = 'The conversation stays readable but takes no new messages.';
  end if;
  return null;
end;
$$;

comment on function public.refuse_chat_message_to_departed() is
  'Trigger on public.chat_messages: no new message in a thread a participant has left.';

revoke execute on function public.refuse_chat_message_to_departed()
  from public, anon, authenticated;

create or replace trigger refuse_chat_message_to_departed
  after insert
  on public.chat_messages
  for each row
  execute function public.refuse_chat_message_to_departed();
"""[1:]

# rpc/public.sync_chat_identity.sql, verbatim.
RPC_PUBLIC_SYNC_CHAT_IDENTITY = r"""
-- Keeps public.chat_identities in step with auth.users.raw_app_meta_data ->> 'mongoUserId'.
-- App metadata is server-controlled; raw_user_meta_data is user-editable and never read here.
create or replace function public.sync_chat_identity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  _mongo_id text := new.raw_app_meta_data ->> 'mongoUserId';
begin
  -- A removed or blank id unlinks the user: as when the account is deleted, the user leaves
  -- each thread (its side becomes NULL) and the other participant keeps the conversation.
  -- Blank: no character outside whitespace, Unicode spaces listed so no locale changes it.
  if _mongo_id is null or _mongo_id !~ (
    '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ) then
    delete from public.chat_identities i
    where i.user_id = new.id;
    return null;
  end if;

  -- A malformed id fails the check constraint (23514); changing an id that threads use
  -- fails their foreign keys (23503): both refuse the auth.users write rather than drift.
  insert into public.chat_identities as i (user_id, mongo_id)
  values (new.id, _mongo_id)
  on conflict (user_id) do update
    set mongo_id = excluded.mongo_id
    where i.mongo_id is distinct from excluded.mongo_id;
  return null;
end;
$$;

comment on function public.sync_chat_identity() is
  'Trigger on auth.users: links a user to the Mongo id in raw_app_meta_data.mongoUserId.';

-- Only the trigger calls it; Supabase's defaults would let every API role execute it.
revoke execute on function public.sync_chat_identity() from public, anon, authenticated;

create or replace trigger sync_chat_identity
  after insert or update of raw_app_meta_data
  on auth.users
  for each row
  execute function public.sync_chat_identity();
"""[1:]

# rpc/public.sync_chat_identity.sql as revision 0001 applied it (restored on downgrade).
RPC_PUBLIC_SYNC_CHAT_IDENTITY_BEFORE = r"""
-- Keeps public.chat_identities in step with auth.users.raw_app_meta_data ->> 'mongoUserId'.
-- App metadata is server-controlled; raw_user_meta_data is user-editable and never read here.
create or replace function public.sync_chat_identity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  _mongo_id text := new.raw_app_meta_data ->> 'mongoUserId';
begin
  -- A removed or blank id unlinks the user (and, by cascade, its threads and messages).
  -- Blank: no character outside whitespace, Unicode spaces listed so no locale changes it.
  if _mongo_id is null or _mongo_id !~ (
    '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ) then
    delete from public.chat_identities i
    where i.user_id = new.id;
    return null;
  end if;

  -- A malformed id fails the check constraint (23514); changing an id that threads use
  -- fails their foreign keys (23503): both refuse the auth.users write rather than drift.
  insert into public.chat_identities as i (user_id, mongo_id)
  values (new.id, _mongo_id)
  on conflict (user_id) do update
    set mongo_id = excluded.mongo_id
    where i.mongo_id is distinct from excluded.mongo_id;
  return null;
end;
$$;

comment on function public.sync_chat_identity() is
  'Trigger on auth.users: links a user to the Mongo id in raw_app_meta_data.mongoUserId.';

-- Only the trigger calls it; Supabase's defaults would let every API role execute it.
revoke execute on function public.sync_chat_identity() from public, anon, authenticated;

create or replace trigger sync_chat_identity
  after insert or update of raw_app_meta_data
  on auth.users
  for each row
  execute function public.sync_chat_identity();
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
    -- them already; deleted threads cascade too). A participant whose account was deleted
    -- is NULL on the thread (revision 0011): `is distinct from`, because `not in` a list
    -- holding NULL is never true and would keep the departed user's row.
    delete from public.chat_thread_members m
    where m.thread_id = new.thread_id
      and m.user_id is distinct from new.user_a_supabase_id
      and m.user_id is distinct from new.user_b_supabase_id;
  end if;
  -- One statement for both rows, by primary key: a new message's touch costs two index lookups.
  -- A departed participant (NULL) has no membership.
  insert into public.chat_thread_members (user_id, thread_id, last_message_at)
  select p.user_id, new.thread_id, new.last_message_at
  from (values (new.user_a_supabase_id), (new.user_b_supabase_id)) as p (user_id)
  where p.user_id is not null
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

# rpc/public.sync_chat_thread_members.sql as revision 0008 applied it (restored on downgrade).
RPC_PUBLIC_SYNC_CHAT_THREAD_MEMBERS_BEFORE = r"""
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

# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {
    "rpc/public.delete_abandoned_chat_thread.sql": RPC_PUBLIC_DELETE_ABANDONED_CHAT_THREAD,
    "rpc/public.ensure_chat_thread.sql": RPC_PUBLIC_ENSURE_CHAT_THREAD,
    "rpc/public.refuse_chat_message_to_departed.sql": RPC_PUBLIC_REFUSE_CHAT_MESSAGE_TO_DEPARTED,
    "rpc/public.sync_chat_identity.sql": RPC_PUBLIC_SYNC_CHAT_IDENTITY,
    "rpc/public.sync_chat_thread_members.sql": RPC_PUBLIC_SYNC_CHAT_THREAD_MEMBERS,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(DEPARTED_PARTICIPANTS)
    _execute(RPC_PUBLIC_DELETE_ABANDONED_CHAT_THREAD)
    _execute(RPC_PUBLIC_REFUSE_CHAT_MESSAGE_TO_DEPARTED)
    _execute(RPC_PUBLIC_ENSURE_CHAT_THREAD)
    _execute(RPC_PUBLIC_SYNC_CHAT_IDENTITY)
    _execute(RPC_PUBLIC_SYNC_CHAT_THREAD_MEMBERS)


def downgrade() -> None:
    _execute(NO_DEPARTED_PARTICIPANTS)
    _execute(RPC_PUBLIC_SYNC_CHAT_THREAD_MEMBERS_BEFORE)
    _execute(RPC_PUBLIC_SYNC_CHAT_IDENTITY_BEFORE)
    op.execute("drop trigger if exists refuse_chat_message_to_departed on public.chat_messages")
    op.execute("drop function if exists public.refuse_chat_message_to_departed()")
    op.execute("drop trigger if exists delete_abandoned_chat_thread on public.chat_threads")
    op.execute("drop function if exists public.delete_abandoned_chat_thread()")
    _execute(RPC_PUBLIC_ENSURE_CHAT_THREAD_BEFORE)
    _execute(DEPARTED_PARTICIPANTS_BEFORE)
