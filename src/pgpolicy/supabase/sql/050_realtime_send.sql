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
    if not coalesce(payload ? 'id', false) then
      message_payload := coalesce(payload, '{}'::jsonb) || jsonb_build_object('id', message_id);
    end if;
    -- Policies see the topic being written through realtime.topic().
    perform pg_catalog.set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (message_id, message_payload, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

grant execute on function realtime.send(jsonb, text, text, boolean)
  to anon, authenticated, service_role;
