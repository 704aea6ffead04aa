-- Supabase Auth calls this before issuing an access token (as supabase_auth_admin). The JWT's
-- role stays what Auth set ('authenticated': the portal role is not a database role); the
-- portal role goes into app_metadata.user_role and at the claims' top level as user_role.
-- Roles: supabase_auth_admin only. Proven by tests/test_access_token_hook.py.
create or replace function public.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  _claims jsonb := coalesce(event -> 'claims', '{}'::jsonb);
  _portal_role text;
begin
  -- From the server-controlled membership table, never from user_metadata (users edit it).
  select m.portal_role into _portal_role
  from public.portal_members m
  where m.user_id = (event ->> 'user_id')::uuid;
  _claims := pg_catalog.jsonb_set(
    _claims,
    '{app_metadata}',
    coalesce(_claims -> 'app_metadata', '{}'::jsonb)
      || pg_catalog.jsonb_build_object('user_role', _portal_role)
  );
  _claims := _claims || pg_catalog.jsonb_build_object('user_role', _portal_role);
  return pg_catalog.jsonb_build_object('claims', _claims);
end
$$;

grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb)
  from public, anon, authenticated, service_role;
