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
