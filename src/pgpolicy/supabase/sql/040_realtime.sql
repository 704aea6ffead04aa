-- Supabase Realtime's schema: owned by the installing (bootstrap) role; postgres and the API
-- roles may only use it.
create schema if not exists realtime;
comment on schema realtime is 'pgpolicy compat: Supabase Realtime schema emulation';

grant usage on schema realtime to anon, authenticated, service_role;
-- The Realtime server owns what it creates here (tables, daily partitions).
grant usage, create on schema realtime to supabase_realtime_admin;
do $$
begin
  if exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    grant usage on schema realtime to postgres;
  end if;
end
$$;

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
  binary_payload bytea,
  constraint messages_pkey primary key (id, inserted_at),
  -- A message carries JSON or bytes, never both.
  constraint messages_payload_exclusive check (payload is null or binary_payload is null)
) partition by range (inserted_at);

-- What Realtime reads when it replays recent private broadcasts of a topic.
create index if not exists messages_inserted_at_topic_index
  on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;

-- RLS on and no policies: nobody but a bypassing role sees or writes a row until the
-- project adds policies.
alter table realtime.messages enable row level security;

alter table realtime.messages owner to supabase_realtime_admin;

grant select, insert, update on table realtime.messages to anon, authenticated, service_role;

create or replace function realtime.topic() returns text
language sql stable
as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;

alter function realtime.topic() owner to supabase_realtime_admin;

grant execute on function realtime.topic() to anon, authenticated, service_role;
