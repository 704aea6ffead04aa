-- Row Level Security and privileges of public.chat_messages (declared state).

alter table public.chat_messages enable row level security;

drop policy if exists "chat participants read messages of their threads"
  on public.chat_messages;
create policy "chat participants read messages of their threads"
  on public.chat_messages
  as permissive
  for select
  to authenticated
  -- A set membership (one hashed subplan per query), not a function call per row.
  using (
    thread_id in (
      select t.thread_id
      from public.chat_threads t
      where (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
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
