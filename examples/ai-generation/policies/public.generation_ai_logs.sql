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
