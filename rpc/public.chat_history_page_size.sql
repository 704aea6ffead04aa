-- The page size of public.chat_history(), and its guard: called from the history query's
-- limit, it makes a history read without a user fail loudly instead of returning nothing.
create or replace function public.chat_history_page_size(_limit integer)
returns integer
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- service_role (or any role that bypasses RLS) reads history without a user: a trusted job.
  if auth.uid() is null and not exists (
    select 1 from pg_catalog.pg_roles r where r.rolname = current_user and r.rolbypassrls
  ) then
    raise exception 'not signed in'
      using errcode = '42501',
            hint = 'Call this with a signed-in user''s access token; the session has no user.';
  end if;

  if _limit is null or _limit < 1 then
    raise exception 'the page size must be at least 1'
      using errcode = '22023',
            hint = 'Pass a limit between 1 and 100 (larger values are capped at 100).';
  end if;

  return least(_limit, 100);
end;
$$;

comment on function public.chat_history_page_size(integer) is
  'Page size of chat_history(): 1 to 100; refuses a caller without a user (42501).';

revoke execute on function public.chat_history_page_size(integer) from public, anon;
grant execute on function public.chat_history_page_size(integer) to authenticated, service_role;
