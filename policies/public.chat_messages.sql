-- Row Level Security and privileges of public.chat_messages (declared state).

alter table public.chat_messages enable row level security;
-- Forced: the owner too is subject to the policies unless it bypasses RLS (postgres on
-- Supabase does, and so do the SECURITY DEFINER functions it owns): no silent owner exemption.
alter table public.chat_messages force row level security;

drop policy if exists "chat participants read messages of their threads"
  on public.chat_messages;
create policy "chat participants read messages of their threads"
  on public.chat_messages
  as permissive
  for select
  to authenticated
  -- Row-local: each message carries its thread's participants (filled by a trigger, held equal
  -- to the thread's by a foreign key), so a page costs its rows whatever the caller's thread
  -- count or the table size; auth.uid() is one InitPlan (= any: `in` would copy it per side).
  -- coalesce(): an opaque expression, so the planner estimates half the rows pass instead of
  -- deriving "rows this caller may see" from one user's share of the table, which would make
  -- a Bitmap Heap Scan and a Sort look cheaper than walking the history index.
  using (
    coalesce((select auth.uid()) = any (array[user_a_supabase_id, user_b_supabase_id]), false)
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

-- A client chooses only a message's content: id, created_at and the participant columns are
-- the server's, so nobody backdates, pins ('infinity') or hides a message (42501 otherwise).
revoke insert
  on table public.chat_messages
  from anon, authenticated;
grant insert (thread_id, sender_supabase_id, sender_mongo_id, recipient_mongo_id, body)
  on table public.chat_messages
  to authenticated;
