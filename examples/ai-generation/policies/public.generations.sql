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
