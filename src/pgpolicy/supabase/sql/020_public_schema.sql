-- Supabase exposes schema public to every API role ...
grant usage on schema public to anon, authenticated, service_role;

-- ... and grants ALL on every new table, function and sequence there to those roles, so a
-- table is protected only by RLS and a new function is callable by anon until revoked.
-- Default privileges attach to the creating role: cover the installer and `postgres`.
do $$
declare
  creator text;
begin
  foreach creator in array array[current_user::text, 'postgres'] loop
    continue when not exists (select from pg_catalog.pg_roles where rolname = creator);
    execute format('alter default privileges for role %I in schema public '
                   'grant all on tables to anon, authenticated, service_role', creator);
    execute format('alter default privileges for role %I in schema public '
                   'grant all on functions to anon, authenticated, service_role', creator);
    execute format('alter default privileges for role %I in schema public '
                   'grant all on sequences to anon, authenticated, service_role', creator);
  end loop;
end
$$;
