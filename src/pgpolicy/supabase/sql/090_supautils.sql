-- What Supabase's supautils extension lets the non-superuser postgres do to tables it does
-- not own, and nothing more: create, alter and drop policies on realtime.messages, and drop
-- triggers on auth.users (creating them needs only the TRIGGER privilege postgres holds).
-- PostgreSQL checks table ownership for those commands, so for the length of one such
-- command the table is lent to postgres and handed back when it ends; both happen in the
-- command's own transaction, so a failure rolls the loan back too.
-- Like supautils, every policy statement by postgres (on any table, its own included) first
-- takes ACCESS EXCLUSIVE on each table of Supabase's policy_grants list that exists here,
-- held until the transaction ends: a sign-up (an insert into auth.users) waits for it.
-- Event triggers need a superuser: where the installing role is not one, this file is
-- skipped (install.py).
create schema if not exists pgpolicy_compat;
comment on schema pgpolicy_compat is
  'pgpolicy compat: emulation of what Supabase''s supautils allows postgres';
revoke all on schema pgpolicy_compat from public;

-- supautils acts for its privileged role, postgres, and only where postgres is not a superuser
-- (a superuser needs neither loans nor gets the locks).
create or replace function pgpolicy_compat.acts_as_supautils_privileged_role()
returns boolean
language sql
stable
set search_path = ''
as $$
  select session_user = 'postgres'
     and not coalesce(
       (select r.rolsuper from pg_catalog.pg_roles r where r.rolname = 'postgres'), true)
$$;

revoke all on function pgpolicy_compat.acts_as_supautils_privileged_role() from public;

create or replace function pgpolicy_compat.lend_supabase_table()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  lent regclass;
  owner_role text;
begin
  -- Only the non-superuser postgres of a Supabase-shaped cluster needs (and gets) a loan.
  if not pgpolicy_compat.acts_as_supautils_privileged_role() then
    return;
  end if;
  if tg_tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY') then
    lent := 'realtime.messages'::regclass;
    owner_role := 'supabase_realtime_admin';
  else
    lent := 'auth.users'::regclass;
    owner_role := 'supabase_auth_admin';
  end if;
  if tg_event = 'ddl_command_start' then
    -- Changing owners rewrites the privileges too: keep them to put back exactly.
    perform pg_catalog.set_config('pgpolicy_compat.lent_acl',
      (select c.relacl::text from pg_catalog.pg_class c where c.oid = lent), true);
    execute format('alter table %s owner to postgres', lent);
  else
    execute format('alter table %s owner to %I', lent, owner_role);
    update pg_catalog.pg_class c
      set relacl = nullif(pg_catalog.current_setting('pgpolicy_compat.lent_acl'), '')::aclitem[]
      where c.oid = lent;
  end if;
end;
$$;

revoke all on function pgpolicy_compat.lend_supabase_table() from public;

-- Supabase's supautils.policy_grants for postgres, in one fixed order (so two transactions
-- taking them cannot deadlock on the order).
create or replace function pgpolicy_compat.take_policy_grant_locks()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  granted text;
begin
  if not pgpolicy_compat.acts_as_supautils_privileged_role() then
    return;
  end if;
  foreach granted in array array[
    'auth.audit_log_entries', 'auth.identities', 'auth.refresh_tokens', 'auth.sessions',
    'auth.users', 'realtime.messages', 'realtime.subscription', 'storage.buckets',
    'storage.migrations', 'storage.objects', 'storage.s3_multipart_uploads',
    'storage.s3_multipart_uploads_parts']
  loop
    if pg_catalog.to_regclass(granted) is not null then
      execute format('lock table %s in access exclusive mode', granted);
    end if;
  end loop;
  -- What took them, for the harness's message when a sign-up would wait on them.
  perform pg_catalog.set_config('pgpolicy_compat.policy_grant_locks_by', tg_tag, true);
end;
$$;

revoke all on function pgpolicy_compat.take_policy_grant_locks() from public;

do $$
begin
  if not exists (select from pg_catalog.pg_event_trigger where evtname = 'pgpolicy_supautils_start') then
    create event trigger pgpolicy_supautils_start on ddl_command_start
      when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY', 'DROP TRIGGER')
      execute function pgpolicy_compat.lend_supabase_table();
  end if;
  if not exists (select from pg_catalog.pg_event_trigger where evtname = 'pgpolicy_supautils_end') then
    create event trigger pgpolicy_supautils_end on ddl_command_end
      when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY', 'DROP TRIGGER')
      execute function pgpolicy_compat.lend_supabase_table();
  end if;
  -- Named to fire before pgpolicy_supautils_start (event triggers fire in name order).
  if not exists (select from pg_catalog.pg_event_trigger where evtname = 'pgpolicy_supautils_locks') then
    create event trigger pgpolicy_supautils_locks on ddl_command_start
      when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
      execute function pgpolicy_compat.take_policy_grant_locks();
  end if;
end
$$;
