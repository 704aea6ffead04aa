-- Supabase Auth's schema: owned by the installing (bootstrap) role; postgres and the API
-- roles may only use it, so a migration cannot create functions or tables in it.
create schema if not exists auth;
comment on schema auth is 'pgpolicy compat: Supabase auth schema emulation';

grant usage on schema auth to anon, authenticated, service_role;
-- The Auth server owns what it creates here.
grant usage, create on schema auth to supabase_auth_admin;
do $$
begin
  if exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    grant usage on schema auth to postgres;
  end if;
end
$$;

-- GoTrue's auth.users, column for column. No defaults on the timestamps and metadata: the
-- Auth server writes them (and so must anything that signs users up here).
create table if not exists auth.users (
  instance_id uuid,
  id uuid not null,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  -- Server-controlled: only the Auth server (or service_role via the admin API) writes it.
  raw_app_meta_data jsonb,
  -- Editable by the user through the Auth API: never trust it for authorization.
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text default null,
  phone_confirmed_at timestamptz,
  phone_change text default '',
  phone_change_token varchar(255) default '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current varchar(255) default '',
  email_change_confirm_status smallint default 0,
  banned_until timestamptz,
  reauthentication_token varchar(255) default '',
  reauthentication_sent_at timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);

-- One account per email, except that SSO identities may share one.
create unique index if not exists users_email_partial_key
  on auth.users (email) where (is_sso_user = false);

-- RLS on with no policies, not forced: the API roles have no grants here anyway.
alter table auth.users enable row level security;

-- The owner first, then postgres's privileges: the supautils emulation (090) restores them
-- in this same order after lending the table to postgres for a DROP TRIGGER.
alter table auth.users owner to supabase_auth_admin;
do $$
begin
  if exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    grant all on table auth.users to postgres;
    grant select on table auth.users to postgres with grant option;
  end if;
end
$$;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role, supabase_auth_admin;
