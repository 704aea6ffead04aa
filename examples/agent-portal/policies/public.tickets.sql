-- Row Level Security and privileges of public.tickets (declared state).
-- Roles (the portal role is the JWT's user_role claim, set by the access token hook):
-- client: reads and opens own tickets; agent: reads and updates assigned tickets;
-- admin: reads, updates, deletes all. Proven by tests/test_tickets.py and, for Realtime,
-- tests/test_postgres_changes.py.

alter table public.tickets enable row level security;

drop policy if exists "portal members read their tickets" on public.tickets;
create policy "portal members read their tickets"
  on public.tickets
  as permissive
  for select
  to authenticated
  using (
    (select auth.jwt() ->> 'user_role') = 'admin'
    or ((select auth.jwt() ->> 'user_role') = 'client' and client_id = (select auth.uid()))
    or (
      (select auth.jwt() ->> 'user_role') = 'agent'
      and assigned_agent_id = (select auth.uid())
    )
  );

drop policy if exists "clients open their own tickets" on public.tickets;
create policy "clients open their own tickets"
  on public.tickets
  as permissive
  for insert
  to authenticated
  with check (
    (select auth.jwt() ->> 'user_role') = 'client'
    and client_id = (select auth.uid())
    and assigned_agent_id is null
    and status = 'open'
  );

-- An agent works on the tickets assigned to them and cannot hand them to someone else.
drop policy if exists "agents and admins update tickets" on public.tickets;
create policy "agents and admins update tickets"
  on public.tickets
  as permissive
  for update
  to authenticated
  using (
    (select auth.jwt() ->> 'user_role') = 'admin'
    or (
      (select auth.jwt() ->> 'user_role') = 'agent'
      and assigned_agent_id = (select auth.uid())
    )
  )
  with check (
    (select auth.jwt() ->> 'user_role') = 'admin'
    or (
      (select auth.jwt() ->> 'user_role') = 'agent'
      and assigned_agent_id = (select auth.uid())
    )
  );

drop policy if exists "admins delete tickets" on public.tickets;
create policy "admins delete tickets"
  on public.tickets
  as permissive
  for delete
  to authenticated
  using ((select auth.jwt() ->> 'user_role') = 'admin');

-- Who opened a ticket and when are the server's: only these columns change through the API.
revoke update, truncate, references, trigger on table public.tickets from anon, authenticated;
grant update (assigned_agent_id, subject, status, updated_at)
  on table public.tickets
  to authenticated;
