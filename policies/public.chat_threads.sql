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
  -- Row-local, as chat_messages' (revision 0013): a filter on each row reached by its key,
  -- never an index path of its own. An indexable `in (user_a, user_b)` offered the planner a
  -- BitmapOr of the caller's every thread, estimated at the average user's few rows, which
  -- it then preferred to read in full, once, over one primary-key lookup per listed row of
  -- the embedded thread list. coalesce(): opaque, estimated at half the rows, so no plan
  -- counts on this filter being selective; auth.uid() is one InitPlan (`= any`, not `in`,
  -- which copies the sub-select per side). A client listing threads from this table filters
  -- by its own id, which is indexed (`or=(user_a_supabase_id.eq.…,user_b_supabase_id.eq.…)`).
  using (
    coalesce((select auth.uid()) = any (array[user_a_supabase_id, user_b_supabase_id]), false)
  );

-- Supabase's default grants stay (RLS protects the rows), except the privileges RLS does
-- not govern: TRUNCATE, REFERENCES and TRIGGER.
revoke truncate, references, trigger
  on table public.chat_threads
  from anon, authenticated;
