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
