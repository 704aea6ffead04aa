-- Supabase keeps extensions out of public, in a schema the API roles may use: the API's
-- search path is "public, extensions", so uuid_generate_v4() resolves in requests.
do $$
declare
  owner_role text := case
    when exists (select from pg_catalog.pg_roles where rolname = 'postgres') then 'postgres'
    else current_user::text
  end;
begin
  if to_regnamespace('extensions') is null then
    execute format('create schema extensions authorization %I', owner_role);
  end if;
end
$$;

grant usage on schema extensions to anon, authenticated, service_role;

create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
