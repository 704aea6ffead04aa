-- One page of a thread's messages, newest first, keyset-paginated on (created_at, id).
-- SECURITY INVOKER: RLS applies, and a page is an index scan on
-- chat_messages_thread_history_idx. PL/pgSQL with a generic plan, so a session plans the
-- page once: PostgREST passes the arguments as sub-selects, which keeps a language sql body
-- from being inlined, and then the body (its policy included) was planned anew on every
-- call, which cost more than reading the page. force_generic_plan, because PL/pgSQL's own
-- choice keeps custom plans, planned per call, whenever the generic plan's estimate looks
-- costlier (it did on 10 million messages: the page size is a parameter there). The row
-- comparison has no OR and no leaky function, so it stays an Index Cond in the generic plan
-- at any depth. Without a cursor the page starts above every row ('infinity', the largest
-- uuid).
-- Cost: one primary-key lookup of the thread (in chat_history_page_limit), then the page's rows.
create or replace function public.chat_history(
  _thread_id text,
  _before_created_at timestamptz default null,
  _before_id uuid default null,
  _limit integer default 50
)
returns setof public.chat_messages
language plpgsql
stable
security invoker
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  -- First: no user (42501) and a bad limit (22023); 0 for a thread the caller may not see.
  _page_size integer := public.chat_history_page_limit(_thread_id, _limit);
begin
  if _page_size = 0 then
    return;
  end if;

  return query
  select m.*
  from public.chat_messages m
  where m.thread_id = _thread_id
    -- case, not coalesce(): the planner counts coalesce() as possibly leaky, and under RLS a
    -- leaky qual over parameters (a generic plan's) is no Index Cond.
    and (m.created_at, m.id) < (
      case
        when _before_created_at is null then 'infinity'::timestamptz
        else _before_created_at
      end,
      case
        when _before_id is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
        else _before_id
      end
    )
  order by m.created_at desc, m.id desc
  limit _page_size;
end;
$$;

comment on function public.chat_history(text, timestamptz, uuid, integer) is
  'A thread''s messages, newest first; pass the last row''s created_at and id for the next page.';

revoke execute on function public.chat_history(text, timestamptz, uuid, integer)
  from public, anon;
grant execute on function public.chat_history(text, timestamptz, uuid, integer)
  to authenticated, service_role;
