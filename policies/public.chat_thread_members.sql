-- Row Level Security and privileges of public.chat_thread_members (declared state).

alter table public.chat_thread_members enable row level security;
-- Forced: the owner too is subject to the policy unless it bypasses RLS.
alter table public.chat_thread_members force row level security;

-- Row-local: a user's rows are one range of the primary key and of the recency index, so the
-- thread list is an index scan that stops after its page, however many threads the user has.
drop policy if exists "chat users read their thread memberships" on public.chat_thread_members;
create policy "chat users read their thread memberships"
  on public.chat_thread_members
  as permissive
  for select
  to authenticated
  using (user_id = (select auth.uid()));

-- Rows are written only by the SECURITY DEFINER trigger public.sync_chat_thread_members():
-- API clients read their own rows and write nothing (42501); anon reads nothing (42501).
revoke all on table public.chat_thread_members from anon, authenticated;
grant select on table public.chat_thread_members to authenticated;
