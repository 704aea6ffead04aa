-- The authenticated status endpoint the browser polls: loud (42501) without a user, or for a
-- generation that is not the caller's (same answer whether or not it exists).
-- Roles: authenticated. Proven by tests/test_rpc.py.
create or replace function public.generation_status(_generation_id uuid)
returns table (status text, response_ms integer, completed_at timestamptz)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if (select auth.uid()) is null then
    raise exception 'generation_status needs a signed-in user: the request has no session'
      using errcode = '42501',
            hint = 'Poll with the user''s access token, not with a client that has no session.';
  end if;
  -- SECURITY INVOKER: RLS keeps other users' generations out.
  return query
    select g.status, g.response_ms, g.completed_at
    from public.generations g
    where g.id = _generation_id;
  if not found then
    raise exception 'no generation % for this user', _generation_id using errcode = '42501';
  end if;
end
$$;

revoke execute on function public.generation_status(uuid) from public, anon;
grant execute on function public.generation_status(uuid) to authenticated;
