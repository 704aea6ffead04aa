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
