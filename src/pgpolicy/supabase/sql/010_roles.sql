-- Supabase's roles, with the attributes, memberships and settings a Supabase project has.
-- Roles are cluster-wide: a role is created (and later kept in shape) only when this layer
-- made it, which its comment records; a role that already existed is never altered.
do $$
declare
  marker constant text := 'pgpolicy compat: managed role';
  spec record;
  setting text;
  membership text;
begin
  for spec in
    select *
    from (values
      ('anon', 'nologin inherit', array['statement_timeout=3s'], array[]::text[]),
      ('authenticated', 'nologin inherit', array['statement_timeout=8s'], array[]::text[]),
      -- Trusted backends act as service_role: it bypasses Row Level Security.
      ('service_role', 'nologin inherit bypassrls', array[]::text[], array[]::text[]),
      -- PostgREST and Realtime log in as authenticator and switch role per request.
      ('authenticator', 'login noinherit',
        array['statement_timeout=8s', 'lock_timeout=8s'],
        array['anon', 'authenticated', 'service_role']),
      -- The Auth server's role; access token hooks run as it. It does not bypass RLS.
      ('supabase_auth_admin', 'login noinherit nocreaterole nobypassrls',
        array['search_path=auth', 'idle_in_transaction_session_timeout=60000'],
        array[]::text[]),
      ('supabase_realtime_admin', 'login inherit createrole replication',
        array['search_path=public, extensions, realtime'],
        array['anon', 'authenticated', 'service_role']),
      ('dashboard_user', 'nologin createdb createrole replication', array[]::text[],
        array[]::text[])
    ) as roles (name, attributes, settings, member_of)
  loop
    if not exists (select from pg_catalog.pg_roles where rolname = spec.name) then
      execute format('create role %I', spec.name);
      execute format('comment on role %I is %L', spec.name, marker);
    end if;
    continue when pg_catalog.shobj_description(
      (select oid from pg_catalog.pg_roles where rolname = spec.name), 'pg_authid'
    ) is distinct from marker;
    execute format('alter role %I %s', spec.name, spec.attributes);
    execute format('alter role %I reset all', spec.name);
    foreach setting in array spec.settings loop
      execute format('alter role %I set %s to %s', spec.name, split_part(setting, '=', 1),
        (select string_agg(format('%L', trim(v)), ', ')
         from unnest(string_to_array(substr(setting, strpos(setting, '=') + 1), ',')) v));
    end loop;
    foreach membership in array spec.member_of loop
      execute format('grant %I to %I', membership, spec.name);
    end loop;
  end loop;
end
$$;

-- PostgREST's switch needs this even where authenticator predates the layer.
grant anon, authenticated, service_role to authenticator;

-- 16+ records an INHERIT option on each grant; Supabase's 17 has the grants of the API roles
-- to authenticator and supabase_realtime_admin WITH INHERIT FALSE (on 15 the members'
-- NOINHERIT has that effect). Only grants that exist are changed. EXECUTE: 15's parser has
-- no such option.
do $$
declare
  grant_row record;
begin
  if current_setting('server_version_num')::int < 160000 then
    return;
  end if;
  for grant_row in
    select g.rolname as granted, m.rolname as member
    from pg_catalog.pg_auth_members a
    join pg_catalog.pg_roles g on g.oid = a.roleid
    join pg_catalog.pg_roles m on m.oid = a.member
    where g.rolname in ('anon', 'authenticated', 'service_role')
      and m.rolname in ('authenticator', 'supabase_realtime_admin')
      and a.inherit_option
  loop
    execute format('grant %I to %I with inherit false', grant_row.granted, grant_row.member);
  end loop;
end
$$;
