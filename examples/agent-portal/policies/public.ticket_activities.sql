-- Row Level Security and privileges of public.ticket_activities (declared state).
-- Roles: whoever reads a ticket (see public.tickets) reads and adds its activities;
-- nobody changes or deletes them through the API. Proven by tests/test_tickets.py.

alter table public.ticket_activities enable row level security;

drop policy if exists "ticket readers read its activities" on public.ticket_activities;
create policy "ticket readers read its activities"
  on public.ticket_activities
  as permissive
  for select
  to authenticated
  -- Keyed on the ticket's primary key: public.tickets' own RLS decides.
  using (exists (select 1 from public.tickets t where t.id = ticket_activities.ticket_id));

drop policy if exists "ticket readers add activities" on public.ticket_activities;
create policy "ticket readers add activities"
  on public.ticket_activities
  as permissive
  for insert
  to authenticated
  with check (
    actor_id = (select auth.uid())
    and exists (select 1 from public.tickets t where t.id = ticket_activities.ticket_id)
  );

revoke update, delete, truncate, references, trigger
  on table public.ticket_activities
  from anon, authenticated;
