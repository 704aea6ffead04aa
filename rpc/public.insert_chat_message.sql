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
