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
