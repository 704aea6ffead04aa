"""chat_history asks chat_history_page_limit whether the caller sees the thread

The membership check of revision 0005 moves from chat_history's body (planned anew on every
PostgREST call, nested policy included: about a third of a page's server time) into a
PL/pgSQL function whose plan the session caches. A thread the caller may not see still gets
a page limit of 0, so the page reads no message.

Declared files applied by this revision:
- rpc/public.chat_history.sql
- rpc/public.chat_history_page_limit.sql

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 05:25:34
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

# rpc/public.chat_history.sql, verbatim.
RPC_PUBLIC_CHAT_HISTORY = r"""
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
"""[1:]

# rpc/public.chat_history.sql as revision 0005 applied it (restored on downgrade).
RPC_PUBLIC_CHAT_HISTORY_BEFORE = r"""
-- One page of a thread's messages, newest first, keyset-paginated on (created_at, id).
-- SECURITY INVOKER, language sql, stable, not strict, no set clause: the planner inlines it,
-- so RLS applies and a page is an index scan on chat_messages_thread_history_idx.
-- The row comparison has no OR so it stays an Index Cond at any depth, in generic plans too;
-- without a cursor it starts above every row ('infinity', the largest uuid).
-- Cost: one primary-key lookup of the thread, then the page's rows (DESIGN.md, performance).
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
    -- Evaluated once (an InitPlan): a caller who may not see the thread (chat_threads' policy)
    -- reads no message at all, instead of every message of the thread filtered out one by one.
    and exists (select from public.chat_threads t where t.thread_id = _thread_id)
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
  limit public.chat_history_page_size(_limit)
$$;

comment on function public.chat_history(text, timestamptz, uuid, integer) is
  'A thread''s messages, newest first; pass the last row''s created_at and id for the next page.';

revoke execute on function public.chat_history(text, timestamptz, uuid, integer)
  from public, anon;
grant execute on function public.chat_history(text, timestamptz, uuid, integer)
  to authenticated, service_role;
"""[1:]

# rpc/public.chat_history_page_limit.sql, verbatim.
RPC_PUBLIC_CHAT_HISTORY_PAGE_LIMIT = r"""
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
"""[1:]

# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {
    "rpc/public.chat_history.sql": RPC_PUBLIC_CHAT_HISTORY,
    "rpc/public.chat_history_page_limit.sql": RPC_PUBLIC_CHAT_HISTORY_PAGE_LIMIT,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(RPC_PUBLIC_CHAT_HISTORY_PAGE_LIMIT)
    _execute(RPC_PUBLIC_CHAT_HISTORY)


def downgrade() -> None:
    op.execute("drop function if exists public.chat_history_page_limit(text, integer)")
    _execute(RPC_PUBLIC_CHAT_HISTORY_BEFORE)
