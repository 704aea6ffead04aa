-- Realtime's logical replication publication; empty until a project adds tables. Projects
-- add their tables as postgres (`alter publication supabase_realtime add table ...`), which
-- needs postgres to own it.
do $$
begin
  if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  if exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    alter publication supabase_realtime owner to postgres;
  end if;
end
$$;
