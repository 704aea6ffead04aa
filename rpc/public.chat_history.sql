-- One page of a thread's messages, newest first, keyset-paginated on (created_at, id).
-- SECURITY INVOKER, language sql, stable, not strict, no set clause: the planner inlines it,
-- so RLS applies and a page is an index scan on chat_messages_thread_history_idx.
-- The row comparison has no OR so it stays an Index Cond at any depth, in generic plans too;
-- without a cursor it starts above every row ('infinity', the largest uuid).
-- Cost: one primary-key lookup of the thread (in chat_history_page_limit), then the page's rows.
create or replace function public.chat_history(
  _thread_id text,
  _before_created_at timestamptz default null,
  _before_id uuid default null,
  _limit integer default 50
)
returns setof public.chat_messages
language sql
stable
security invoker
as $$
  select m.*
  from public.chat_messages m
  where m.thread_id = _thread_id
    -- case, not coalesce(): the planner counts coalesce() as possibly leaky, and under RLS a
    -- leaky qual over parameters (generic plans, PostgREST's arguments) is no Index Cond.
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
  -- 0 for a thread the caller may not see: then the scan never starts.
  limit public.chat_history_page_limit(_thread_id, _limit)
$$;

comment on function public.chat_history(text, timestamptz, uuid, integer) is
  'A thread''s messages, newest first; pass the last row''s created_at and id for the next page.';

revoke execute on function public.chat_history(text, timestamptz, uuid, integer)
  from public, anon;
grant execute on function public.chat_history(text, timestamptz, uuid, integer)
  to authenticated, service_role;
