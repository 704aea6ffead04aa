-- Row Level Security and privileges of public.chat_identities (declared state).

alter table public.chat_identities enable row level security;
-- Forced: the owner too is subject to the policies unless it bypasses RLS (postgres on
-- Supabase does, and so do the SECURITY DEFINER functions it owns): no silent owner exemption.
alter table public.chat_identities force row level security;

drop policy if exists "chat users read their own identity" on public.chat_identities;
create policy "chat users read their own identity"
  on public.chat_identities
  as permissive
  for select
  to authenticated
  -- The scalar subquery makes auth.uid() an InitPlan: evaluated once per query, not per row.
  using (user_id = (select auth.uid()));

-- The link to a Mongo id is server-controlled: only service_role and the sync trigger write it.
-- TRUNCATE, REFERENCES and TRIGGER are not subject to RLS, so API roles never hold them.
revoke insert, update, delete, truncate, references, trigger
  on table public.chat_identities
  from anon, authenticated;
