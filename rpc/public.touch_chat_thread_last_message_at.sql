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
