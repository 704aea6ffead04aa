create schema if not exists realtime;
comment on schema realtime is 'pgpolicy compat: Supabase Realtime schema emulation';

grant usage on schema realtime to anon, authenticated, service_role, supabase_realtime_admin;

-- Broadcast and presence authorization rows. Realtime creates daily partitions and no
-- default one, so an insert outside the existing partitions fails with 23514.
create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  id uuid not null default gen_random_uuid(),
  primary key (id, inserted_at)
) partition by range (inserted_at);

-- RLS on and no policies: nobody but a bypassing role sees or writes a row until the
-- project adds policies.
alter table realtime.messages enable row level security;

grant select, insert, update on table realtime.messages to anon, authenticated, service_role;
grant all on table realtime.messages to supabase_realtime_admin;

create or replace function realtime.topic() returns text
language sql stable
as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;

grant execute on function realtime.topic() to anon, authenticated, service_role;
