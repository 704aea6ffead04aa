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
