"""chat_history in PL/pgSQL with a generic plan: a session plans its page once

PostgREST calls chat_history with its arguments as sub-selects, so the language sql body was
never inlined and was planned anew, policy included, on every call: measured server-side
(pgbench, pipelined), planning cost more than reading the page, and it made the page 1.2x its
service_role baseline. In PL/pgSQL, with plan_cache_mode = force_generic_plan, a session plans
the page once (PL/pgSQL's own choice kept per-call custom plans on 10 million messages); the
generic plan is still an index scan with the row comparison in the Index Cond and auth.uid()
an InitPlan. Same arguments, same rows, same refusals.

Declared files applied by this revision:
- rpc/public.chat_history.sql

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 08:17:36
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. Written by `pgpolicy revision`.

# rpc/public.chat_history.sql, verbatim.
RPC_PUBLIC_CHAT_HISTORY = r"""
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
"""[1:]

# rpc/public.chat_history.sql as revision 0007 applied it (restored on downgrade).
RPC_PUBLIC_CHAT_HISTORY_BEFORE = r"""
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

# Declared files this revision applies, by path ('' marks a removed file).
DECLARED: dict[str, str] = {
    "rpc/public.chat_history.sql": RPC_PUBLIC_CHAT_HISTORY,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(RPC_PUBLIC_CHAT_HISTORY)


def downgrade() -> None:
    _execute(RPC_PUBLIC_CHAT_HISTORY_BEFORE)
