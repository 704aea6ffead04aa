-- Row Level Security and privileges of public.chat_threads (declared state).

alter table public.chat_threads enable row level security;
-- Forced: the owner too is subject to the policies unless it bypasses RLS (postgres on
-- Supabase does, and so do the SECURITY DEFINER functions it owns): no silent owner exemption.
alter table public.chat_threads force row level security;

-- No insert, update or delete policy: threads are created by public.ensure_chat_thread()
-- (SECURITY DEFINER), so a direct insert raises 42501 and an update/delete affects 0 rows.
drop policy if exists "chat participants read their threads" on public.chat_threads;
create policy "chat participants read their threads"
  on public.chat_threads
  as permissive
  for select
  to authenticated
  -- Both sides are indexed: a BitmapOr of two index scans, auth.uid() evaluated once (InitPlan).
  using ((select auth.uid()) in (user_a_supabase_id, user_b_supabase_id));

-- Supabase's default grants stay (RLS protects the rows), except the privileges RLS does
-- not govern: TRUNCATE, REFERENCES and TRIGGER.
revoke truncate, references, trigger
  on table public.chat_threads
  from anon, authenticated;
