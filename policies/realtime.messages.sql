-- Our policies on realtime.messages, for private channels named chat:<thread_id>.
-- The table, its RLS switch and its grants belong to Supabase: only these policies are ours.
-- Realtime's join probes carry no event, payload or private flag, so none is looked at here.

drop policy if exists "chat participants read their thread topic" on realtime.messages;
create policy "chat participants read their thread topic"
  on realtime.messages
  as permissive
  for select
  to authenticated
  using (
    extension in ('broadcast', 'presence')
    -- Only rows of the topic being joined, so one thread's right never reads another's rows.
    and topic = (select realtime.topic())
    -- A malformed or missing topic matches no thread: a clean false, never an error.
    and exists (
      select 1
      from public.chat_threads t
      -- A scalar subquery (an InitPlan): the thread id is then a parameter, and chat_threads'
      -- own policy lets a leakproof parameter comparison, not substr(), be its index condition.
      where t.thread_id = (
          select substr(realtime.topic(), 6) where left(realtime.topic(), 5) = 'chat:'
        )
        and (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );

-- Participants may track presence. Nobody may send broadcast events: only the SECURITY
-- DEFINER trigger public.broadcast_chat_message() writes them, so no one can forge a message.
drop policy if exists "chat participants track presence on their thread topic"
  on realtime.messages;
create policy "chat participants track presence on their thread topic"
  on realtime.messages
  as permissive
  for insert
  to authenticated
  with check (
    extension = 'presence'
    -- Like Realtime's own presence probes: no event and no payload, so the row is nothing
    -- Realtime would ever deliver as a message.
    and event is null
    and payload is null
    and topic = (select realtime.topic())
    and exists (
      select 1
      from public.chat_threads t
      -- A scalar subquery (an InitPlan): the thread id is then a parameter, and chat_threads'
      -- own policy lets a leakproof parameter comparison, not substr(), be its index condition.
      where t.thread_id = (
          select substr(realtime.topic(), 6) where left(realtime.topic(), 5) = 'chat:'
        )
        and (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );
