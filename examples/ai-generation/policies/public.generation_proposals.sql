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
