-- How a job records a generation's outcome: as service_role (the trusted background job) or
-- as the owner (the request itself). Without a user it fails loudly (42501) instead of
-- updating 0 rows; the AI error, if any, goes to generation_ai_logs in the same transaction.
-- Roles: authenticated, service_role. Proven by tests/test_rpc.py.
create or replace function public.complete_generation(
  _generation_id uuid,
  _status text,
  _response_ms integer,
  _error text default null
)
returns public.generations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  _caller uuid := (select auth.uid());
  _trusted boolean := (select auth.role()) = 'service_role';
  _row public.generations;
begin
  if _caller is null and not _trusted then
    raise exception 'complete_generation needs a signed-in user or the service_role key'
      using errcode = '42501',
            hint = 'A job that outlives its request has no session: run it as service_role.';
  end if;
  if _status is null or _status not in ('completed', 'failed') then
    raise exception 'status must be completed or failed, not %', _status using errcode = '22023';
  end if;
  update public.generations g
     set status = _status, response_ms = _response_ms, completed_at = pg_catalog.now()
   where g.id = _generation_id
     and g.status = 'processing'
     and (_trusted or g.owner_id = _caller)
  returning g.* into _row;
  if not found then
    raise exception 'no generation % in progress for this caller', _generation_id
      using errcode = '42501';
  end if;
  if _error is not null then
    insert into public.generation_ai_logs (generation_id, error) values (_generation_id, _error);
  end if;
  return _row;
end
$$;

revoke execute on function public.complete_generation(uuid, text, integer, text)
  from public, anon;
grant execute on function public.complete_generation(uuid, text, integer, text)
  to authenticated, service_role;
