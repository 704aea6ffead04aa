-- Later: an author may share a note with every signed-in user.
alter table public.notes add column shared boolean not null default false;

drop policy "authors read their notes" on public.notes;

create policy "authors and readers of shared notes" on public.notes
  for select to authenticated
  using ((select auth.uid()) = author_id or shared);
