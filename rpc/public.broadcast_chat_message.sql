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
