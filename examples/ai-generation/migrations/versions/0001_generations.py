"""Generations, their AI logs and proposals; owner-only RLS; the status and completion RPCs.

Revision ID: 0001
Revises:
Create Date: 2026-11-30 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies. policies/ and rpc/ hold the
# declared current state; tests/test_declared_state.py proves head equals it.

TABLES = r"""-- A generation request: its owner, input, status and how long the AI took.
create table public.generations (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  input text not null check (length(input) between 1 and 20000),
  status text not null default 'processing'
    check (status in ('processing', 'completed', 'failed')),
  response_ms integer check (response_ms >= 0),
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
-- The owner policy filters on owner_id.
create index generations_owner_id_idx on public.generations (owner_id);

-- What the AI call reported when it failed.
create table public.generation_ai_logs (
  id bigint generated always as identity primary key,
  generation_id uuid not null references public.generations (id) on delete cascade,
  error text not null,
  created_at timestamptz not null default now()
);
create index generation_ai_logs_generation_id_idx on public.generation_ai_logs (generation_id);

-- What a generation produced.
create table public.generation_proposals (
  id bigint generated always as identity primary key,
  generation_id uuid not null references public.generations (id) on delete cascade,
  content text not null,
  created_at timestamptz not null default now()
);
create index generation_proposals_generation_id_idx
  on public.generation_proposals (generation_id);
"""

# policies/public.generations.sql, verbatim.
POLICIES_PUBLIC_GENERATIONS = r"""
-- Row Level Security and privileges of public.generations (declared state).
-- Roles: authenticated (owner only): select, insert, update. Proven by tests/test_generations.py.

alter table public.generations enable row level security;

drop policy if exists "owners read their generations" on public.generations;
create policy "owners read their generations"
  on public.generations
  as permissive
  for select
  to authenticated
  using (owner_id = (select auth.uid()));

drop policy if exists "owners start generations" on public.generations;
create policy "owners start generations"
  on public.generations
  as permissive
  for insert
  to authenticated
  with check (owner_id = (select auth.uid()) and status = 'processing');

-- The app's own update policy: a request whose session is gone (auth.uid() is NULL) is not
-- refused by it, it is filtered to 0 rows, silently. tests/test_generations.py proves both.
drop policy if exists "owners update their generations" on public.generations;
create policy "owners update their generations"
  on public.generations
  as permissive
  for update
  to authenticated
  using (owner_id = (select auth.uid()))
  with check (owner_id = (select auth.uid()));

-- Nobody deletes through the API (no policy: filtered); TRUNCATE and friends bypass RLS.
revoke truncate, references, trigger on table public.generations from anon, authenticated;
"""[1:]

# policies/public.generation_ai_logs.sql, verbatim.
POLICIES_PUBLIC_GENERATION_AI_LOGS = r"""
-- Row Level Security and privileges of public.generation_ai_logs (declared state).
-- Roles: authenticated reads the rows of its own generations; only service_role writes.
-- Proven by tests/test_generations.py.

alter table public.generation_ai_logs enable row level security;

drop policy if exists "owners read the AI logs of their generations"
  on public.generation_ai_logs;
create policy "owners read the AI logs of their generations"
  on public.generation_ai_logs
  as permissive
  for select
  to authenticated
  -- Keyed on generations' primary key: its own RLS (owner only) decides.
  using (
    exists (
      select 1 from public.generations g where g.id = generation_ai_logs.generation_id
    )
  );

-- Written by the generation job (service_role) only.
revoke insert, update, delete, truncate, references, trigger
  on table public.generation_ai_logs
  from anon, authenticated;
"""[1:]

# policies/public.generation_proposals.sql, verbatim.
POLICIES_PUBLIC_GENERATION_PROPOSALS = r"""
-- Row Level Security and privileges of public.generation_proposals (declared state).
-- Roles: authenticated reads the rows of its own generations; only service_role writes.
-- Proven by tests/test_generations.py.

alter table public.generation_proposals enable row level security;

drop policy if exists "owners read the proposals of their generations"
  on public.generation_proposals;
create policy "owners read the proposals of their generations"
  on public.generation_proposals
  as permissive
  for select
  to authenticated
  -- Keyed on generations' primary key: its own RLS (owner only) decides.
  using (
    exists (
      select 1 from public.generations g where g.id = generation_proposals.generation_id
    )
  );

-- Written by the generation job (service_role) only.
revoke insert, update, delete, truncate, references, trigger
  on table public.generation_proposals
  from anon, authenticated;
"""[1:]

# rpc/public.generation_status.sql, verbatim.
RPC_PUBLIC_GENERATION_STATUS = r"""
-- The authenticated status endpoint the browser polls: loud (42501) without a user, or for a
-- generation that is not the caller's (same answer whether or not it exists).
-- Roles: authenticated. Proven by tests/test_rpc.py.
create or replace function public.generation_status(_generation_id uuid)
returns table (status text, response_ms integer, completed_at timestamptz)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if (select auth.uid()) is null then
    raise exception 'generation_status needs a signed-in user: the request has no session'
      using errcode = '42501',
            hint = 'Poll with the user''s access token, not with a client that has no session.';
  end if;
  -- SECURITY INVOKER: RLS keeps other users' generations out.
  return query
    select g.status, g.response_ms, g.completed_at
    from public.generations g
    where g.id = _generation_id;
  if not found then
    raise exception 'no generation % for this user', _generation_id using errcode = '42501';
  end if;
end
$$;

revoke execute on function public.generation_status(uuid) from public, anon;
grant execute on function public.generation_status(uuid) to authenticated;
"""[1:]

# rpc/public.complete_generation.sql, verbatim.
RPC_PUBLIC_COMPLETE_GENERATION = r"""
-- How a job records a generation's outcome: as service_role (the trusted background job) or
-- as the owner (the request itself). Without a user it fails loudly (42501) instead of
-- updating 0 rows; the AI error, if any, goes to generation_ai_logs in the same transaction.
-- Roles: authenticated, service_role. Proven by tests/test_rpc.py.
create or replace function public.complete_generation(
  _generation_id uuid,
  _status text,
  _response_ms integer,
  _error text default null
)
returns public.generations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  _caller uuid := (select auth.uid());
  _trusted boolean := (select auth.role()) = 'service_role';
  _row public.generations;
begin
  if _caller is null and not _trusted then
    raise exception 'complete_generation needs a signed-in user or the service_role key'
      using errcode = '42501',
            hint = 'A job that outlives its request has no session: run it as service_role.';
  end if;
  if _status is null or _status not in ('completed', 'failed') then
    raise exception 'status must be completed or failed, not %', _status using errcode = '22023';
  end if;
  update public.generations g
     set status = _status, response_ms = _response_ms, completed_at = pg_catalog.now()
   where g.id = _generation_id
     and g.status = 'processing'
     and (_trusted or g.owner_id = _caller)
  returning g.* into _row;
  if not found then
    raise exception 'no generation % in progress for this caller', _generation_id
      using errcode = '42501';
  end if;
  if _error is not null then
    insert into public.generation_ai_logs (generation_id, error) values (_generation_id, _error);
  end if;
  return _row;
end
$$;

revoke execute on function public.complete_generation(uuid, text, integer, text)
  from public, anon;
grant execute on function public.complete_generation(uuid, text, integer, text)
  to authenticated, service_role;
"""[1:]


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(POLICIES_PUBLIC_GENERATIONS)
    op.execute(POLICIES_PUBLIC_GENERATION_AI_LOGS)
    op.execute(POLICIES_PUBLIC_GENERATION_PROPOSALS)
    op.execute(RPC_PUBLIC_GENERATION_STATUS)
    op.execute(RPC_PUBLIC_COMPLETE_GENERATION)


def downgrade() -> None:
    op.execute("drop function public.complete_generation(uuid, text, integer, text)")
    op.execute("drop function public.generation_status(uuid)")
    op.execute("drop table public.generation_proposals")
    op.execute("drop table public.generation_ai_logs")
    op.execute("drop table public.generations")
