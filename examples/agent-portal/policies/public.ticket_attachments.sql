-- Row Level Security and privileges of public.ticket_attachments (declared state).
-- Roles: whoever reads a ticket (see public.tickets) reads and adds its attachments; nobody changes
-- or deletes them through the API. Proven by tests/test_tickets.py.

alter table public.ticket_attachments enable row level security;

drop policy if exists "ticket readers read its attachments" on public.ticket_attachments;
create policy "ticket readers read its attachments"
  on public.ticket_attachments
  as permissive
  for select
  to authenticated
  -- Keyed on the ticket's primary key: public.tickets' own RLS decides.
  using (exists (select 1 from public.tickets t where t.id = ticket_attachments.ticket_id));

drop policy if exists "ticket readers add attachments" on public.ticket_attachments;
create policy "ticket readers add attachments"
  on public.ticket_attachments
  as permissive
  for insert
  to authenticated
  with check (
    exists (select 1 from public.tickets t where t.id = ticket_attachments.ticket_id)
  );

revoke update, delete, truncate, references, trigger
  on table public.ticket_attachments
  from anon, authenticated;
