-- Broadcast from the database. Runs as the caller (SECURITY INVOKER), so the insert is
-- subject to realtime.messages RLS; any failure becomes a WARNING and nothing is sent.
create or replace function realtime.send(
  payload jsonb,
  event text,
  topic text,
  private boolean default true
) returns void
language plpgsql
as $$
declare
  message_id uuid := gen_random_uuid();
  message_payload jsonb := payload;
begin
  begin
    -- An object gets the message id unless it has one; NULL stays NULL; anything else
    -- (an array, a scalar) cannot carry an id and is refused like Realtime refuses it.
    if payload is not null then
      if jsonb_typeof(payload) <> 'object' then
        raise exception 'cannot add an id to a % payload', jsonb_typeof(payload);
      end if;
      if not payload ? 'id' then
        message_payload := payload || jsonb_build_object('id', message_id);
      end if;
    end if;
    -- Policies see the topic being written through realtime.topic().
    perform pg_catalog.set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (message_id, message_payload, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

alter function realtime.send(jsonb, text, text, boolean) owner to supabase_realtime_admin;

grant execute on function realtime.send(jsonb, text, text, boolean)
  to anon, authenticated, service_role;
