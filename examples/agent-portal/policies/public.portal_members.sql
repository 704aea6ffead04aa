-- Row Level Security and privileges of public.portal_members (declared state).
-- Roles: supabase_auth_admin reads every row (the access token hook); authenticated reads its
-- own; only service_role writes. Proven by tests/test_access_token_hook.py.

alter table public.portal_members enable row level security;

drop policy if exists "the access token hook reads portal roles" on public.portal_members;
create policy "the access token hook reads portal roles"
  on public.portal_members
  as permissive
  for select
  to supabase_auth_admin
  using (true);

drop policy if exists "members read their own portal role" on public.portal_members;
create policy "members read their own portal role"
  on public.portal_members
  as permissive
  for select
  to authenticated
  using (user_id = (select auth.uid()));

-- A portal role is granted by the backend (service_role), never by its holder.
revoke insert, update, delete, truncate, references, trigger
  on table public.portal_members
  from anon, authenticated;
grant select on table public.portal_members to supabase_auth_admin;
