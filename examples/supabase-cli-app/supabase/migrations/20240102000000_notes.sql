-- Notes belong to their author; a category list every note may point at (seeded).
create table public.categories (
  id int primary key,
  name text not null unique
);

alter table public.categories enable row level security;

create policy "categories are readable" on public.categories
  for select to authenticated using (true);

create table public.notes (
  id bigint generated always as identity primary key,
  author_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  category_id int references public.categories (id),
  body text not null
);

alter table public.notes enable row level security;

create policy "authors read their notes" on public.notes
  for select to authenticated using ((select auth.uid()) = author_id);

create policy "authors write their notes" on public.notes
  for insert to authenticated with check ((select auth.uid()) = author_id);

-- How many notes the caller can see; SECURITY INVOKER, so RLS decides.
create function public.my_note_count() returns bigint
language sql stable
set search_path = ''
as $$
  select count(*) from public.notes;
$$;

revoke execute on function public.my_note_count() from public, anon;
grant execute on function public.my_note_count() to authenticated;
