"""Portal members, tickets, attachments, activities; portal-role RLS; the access token hook.

Revision ID: 0001
Revises:
Create Date: 2026-11-30 05:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies. policies/ and rpc/ hold the
# declared current state; tests/test_declared_state.py proves head equals it.

TABLES = r"""-- Who is what in the portal: the access token hook reads it into the JWT.
create table public.portal_members (
  user_id uuid primary key references auth.users (id) on delete cascade,
  portal_role text not null check (portal_role in ('client', 'agent', 'admin'))
);

create table public.tickets (
  id bigint generated always as identity primary key,
  client_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  assigned_agent_id uuid references auth.users (id) on delete set null,
  subject text not null check (length(subject) between 1 and 200),
  status text not null default 'open' check (status in ('open', 'pending', 'closed')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- The policies filter on the client and on the assigned agent.
create index tickets_client_id_idx on public.tickets (client_id);
create index tickets_assigned_agent_id_idx on public.tickets (assigned_agent_id);

create table public.ticket_attachments (
  id bigint generated always as identity primary key,
  ticket_id bigint not null references public.tickets (id) on delete cascade,
  file_name text not null,
  storage_path text not null,
  created_at timestamptz not null default now()
);
create index ticket_attachments_ticket_id_idx on public.ticket_attachments (ticket_id);

create table public.ticket_activities (
  id bigint generated always as identity primary key,
  ticket_id bigint not null references public.tickets (id) on delete cascade,
  actor_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  kind text not null check (kind in ('comment', 'status', 'assignment')),
  body text,
  created_at timestamptz not null default now()
);
create index ticket_activities_ticket_id_idx on public.ticket_activities (ticket_id);

-- Postgres Changes: Realtime streams these tables, with the full old row of an UPDATE/DELETE.
alter table public.tickets replica identity full;
alter table public.ticket_attachments replica identity full;
alter table public.ticket_activities replica identity full;
alter publication supabase_realtime
  add table public.tickets, public.ticket_attachments, public.ticket_activities;
"""

# rpc/public.custom_access_token_hook.sql, verbatim.
RPC_PUBLIC_CUSTOM_ACCESS_TOKEN_HOOK = r"""
-- Supabase Auth calls this before issuing an access token (as supabase_auth_admin). The JWT's
-- role stays what Auth set ('authenticated': the portal role is not a database role); the
-- portal role goes into app_metadata.user_role and at the claims' top level as user_role.
-- Roles: supabase_auth_admin only. Proven by tests/test_access_token_hook.py.
create or replace function public.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  _claims jsonb := coalesce(event -> 'claims', '{}'::jsonb);
  _portal_role text;
begin
  -- From the server-controlled membership table, never from user_metadata (users edit it).
  select m.portal_role into _portal_role
  from public.portal_members m
  where m.user_id = (event ->> 'user_id')::uuid;
  _claims := pg_catalog.jsonb_set(
    _claims,
    '{app_metadata}',
    coalesce(_claims -> 'app_metadata', '{}'::jsonb)
      || pg_catalog.jsonb_build_object('user_role', _portal_role)
  );
  _claims := _claims || pg_catalog.jsonb_build_object('user_role', _portal_role);
  return pg_catalog.jsonb_build_object('claims', _claims);
end
$$;

grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb)
  from public, anon, authenticated, service_role;
"""[1:]

# policies/public.portal_members.sql, verbatim.
POLICIES_PUBLIC_PORTAL_MEMBERS = r"""
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
"""[1:]

# policies/public.tickets.sql, verbatim.
POLICIES_PUBLIC_TICKETS = r"""
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
"""[1:]

# policies/public.ticket_attachments.sql, verbatim.
POLICIES_PUBLIC_TICKET_ATTACHMENTS = r"""
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
"""[1:]

# policies/public.ticket_activities.sql, verbatim.
POLICIES_PUBLIC_TICKET_ACTIVITIES = r"""
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
"""[1:]


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(RPC_PUBLIC_CUSTOM_ACCESS_TOKEN_HOOK)
    op.execute(POLICIES_PUBLIC_PORTAL_MEMBERS)
    op.execute(POLICIES_PUBLIC_TICKETS)
    op.execute(POLICIES_PUBLIC_TICKET_ATTACHMENTS)
    op.execute(POLICIES_PUBLIC_TICKET_ACTIVITIES)


def downgrade() -> None:
    op.execute("drop function public.custom_access_token_hook(jsonb)")
    op.execute(
        "alter publication supabase_realtime drop table"
        " public.tickets, public.ticket_attachments, public.ticket_activities"
    )
    op.execute("drop table public.ticket_activities")
    op.execute("drop table public.ticket_attachments")
    op.execute("drop table public.tickets")
    op.execute("drop table public.portal_members")
