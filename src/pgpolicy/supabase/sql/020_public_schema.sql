-- Supabase exposes schema public to every API role ...
grant usage on schema public to anon, authenticated, service_role;

-- ... and grants ALL on every new table, function and sequence there to those roles (and
-- postgres), so a table is protected only by RLS and a new function is callable by anon
-- until revoked. Default privileges attach to the creating role: Supabase sets them for
-- objects created by postgres and by supabase_admin (here: the installing role).
do $$
declare
  creator text;
  grantees text;
begin
  foreach creator in array array['postgres', 'supabase_admin', current_user::text] loop
    continue when not exists (select from pg_catalog.pg_roles where rolname = creator);
    grantees := 'anon, authenticated, service_role'
      || case when exists (select from pg_catalog.pg_roles where rolname = 'postgres')
              then ', postgres' else '' end;
    execute format('alter default privileges for role %I in schema public '
                   'grant all on tables to %s', creator, grantees);
    execute format('alter default privileges for role %I in schema public '
                   'grant all on functions to %s', creator, grantees);
    execute format('alter default privileges for role %I in schema public '
                   'grant all on sequences to %s', creator, grantees);
  end loop;
end
$$;
