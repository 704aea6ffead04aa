-- How many rows a page of public.chat_history() may return: the page size (with its guards),
-- or 0 when the caller may not see the thread, so the page reads no message at all instead of
-- filtering a whole thread out row by row.
-- PL/pgSQL and SECURITY INVOKER: chat_threads' policy decides what the caller sees, and the
-- lookup's plan is cached for the session (the history body itself is planned per call).
create or replace function public.chat_history_page_limit(_thread_id text, _limit integer)
returns integer
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  -- First: no user (42501) and a bad limit (22023), whatever the thread.
  _size integer := public.chat_history_page_size(_limit);
begin
  if exists (select from public.chat_threads t where t.thread_id = _thread_id) then
    return _size;
  end if;
  return 0;
end;
$$;

comment on function public.chat_history_page_limit(text, integer) is
  'Rows a chat_history() page may return: its page size, 0 for a thread the caller cannot see.';

revoke execute on function public.chat_history_page_limit(text, integer) from public, anon;
grant execute on function public.chat_history_page_limit(text, integer)
  to authenticated, service_role;
