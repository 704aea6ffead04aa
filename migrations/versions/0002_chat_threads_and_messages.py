"""Chat threads and messages: tables, constraints, indexes, Row Level Security.

Participants read their threads and those threads' messages; a direct insert of a
message is allowed only as the caller, in the caller's direction. No update or
delete policies: through the API nothing is edited or removed.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-22 06:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. A changed declared file gets a new revision, not an edit here.
# Each constant is the file's exact text ([1:] drops the newline after the quotes).

# Table DDL lives only in the migrations.
CHAT_THREADS_AND_MESSAGES_TABLES = r"""
create table public.chat_threads (
  thread_id text not null,
  user_a_mongo_id text not null,
  user_b_mongo_id text not null,
  user_a_supabase_id uuid not null,
  user_b_supabase_id uuid not null,
  created_at timestamptz not null default now(),
  last_message_at timestamptz,
  constraint chat_threads_pkey primary key (thread_id),
  -- Byte order, whatever the database collation: user_a holds the smaller Mongo id.
  constraint chat_threads_mongo_ids_ordered check (
    user_a_mongo_id collate "C" < user_b_mongo_id collate "C"
  ),
  -- The thread id is deterministic, so both participants name the same thread.
  constraint chat_threads_thread_id_shape check (
    thread_id = user_a_mongo_id || '__' || user_b_mongo_id
  ),
  constraint chat_threads_distinct_users check (user_a_supabase_id <> user_b_supabase_id),
  -- Each side must be a real (user, Mongo id) pair; deleting either identity deletes the
  -- thread, and changing a Mongo id that a thread uses is refused (no action: 23503).
  constraint chat_threads_user_a_fkey foreign key (user_a_supabase_id, user_a_mongo_id)
    references public.chat_identities (user_id, mongo_id) on delete cascade,
  constraint chat_threads_user_b_fkey foreign key (user_b_supabase_id, user_b_mongo_id)
    references public.chat_identities (user_id, mongo_id) on delete cascade
);

-- The select policies filter on either participant, and the foreign keys' cascades look up
-- threads by user: one index per side.
create index chat_threads_user_a_supabase_id_idx
  on public.chat_threads (user_a_supabase_id);

create index chat_threads_user_b_supabase_id_idx
  on public.chat_threads (user_b_supabase_id);

comment on table public.chat_threads is
  'One 1:1 chat thread per pair of chat identities; thread_id = smaller || ''__'' || larger.';

create table public.chat_messages (
  id uuid not null default gen_random_uuid(),
  thread_id text not null,
  sender_supabase_id uuid not null,
  sender_mongo_id text not null,
  recipient_mongo_id text not null,
  body text not null,
  -- clock_timestamp(): messages sent in one transaction still get distinct, ordered times.
  created_at timestamptz not null default clock_timestamp(),
  constraint chat_messages_pkey primary key (id),
  constraint chat_messages_thread_id_fkey foreign key (thread_id)
    references public.chat_threads (thread_id) on delete cascade,
  -- Not blank: at least one character outside whitespace, Unicode spaces included.
  constraint chat_messages_body_not_blank check (
    body ~ '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ),
  constraint chat_messages_body_length check (char_length(body) <= 4000),
  constraint chat_messages_distinct_parties check (sender_mongo_id <> recipient_mongo_id)
);

-- History pages: equality on thread_id, then the keyset (created_at, id) newest first. Also
-- serves the thread_id foreign key and the select policy's thread_id membership.
create index chat_messages_thread_history_idx
  on public.chat_messages (thread_id, created_at desc, id desc);

comment on table public.chat_messages is
  'Messages of a chat thread; sent through insert_chat_message() or a checked direct insert.';
"""[1:]

# policies/public.chat_threads.sql, verbatim.
POLICIES_PUBLIC_CHAT_THREADS = r"""
-- Row Level Security and privileges of public.chat_threads (declared state).

alter table public.chat_threads enable row level security;

-- No insert, update or delete policy: threads are created by public.ensure_chat_thread()
-- (SECURITY DEFINER), so a direct insert raises 42501 and an update/delete affects 0 rows.
drop policy if exists "chat participants read their threads" on public.chat_threads;
create policy "chat participants read their threads"
  on public.chat_threads
  as permissive
  for select
  to authenticated
  -- Both sides are indexed: a BitmapOr of two index scans, auth.uid() evaluated once (InitPlan).
  using ((select auth.uid()) in (user_a_supabase_id, user_b_supabase_id));

-- Supabase's default grants stay (RLS protects the rows), except the privileges RLS does
-- not govern: TRUNCATE, REFERENCES and TRIGGER.
revoke truncate, references, trigger
  on table public.chat_threads
  from anon, authenticated;
"""[1:]

# policies/public.chat_messages.sql, verbatim.
POLICIES_PUBLIC_CHAT_MESSAGES = r"""
-- Row Level Security and privileges of public.chat_messages (declared state).

alter table public.chat_messages enable row level security;

drop policy if exists "chat participants read messages of their threads"
  on public.chat_messages;
create policy "chat participants read messages of their threads"
  on public.chat_messages
  as permissive
  for select
  to authenticated
  -- A set membership (one hashed subplan per query), not a function call per row.
  using (
    thread_id in (
      select t.thread_id
      from public.chat_threads t
      where (select auth.uid()) in (t.user_a_supabase_id, t.user_b_supabase_id)
    )
  );

-- What supabase-js .from('chat_messages').insert() does: allowed only as yourself, in your
-- thread, from your Mongo id to the other participant's. It checks the new row: no index needed.
drop policy if exists "chat participants send messages as themselves" on public.chat_messages;
create policy "chat participants send messages as themselves"
  on public.chat_messages
  as permissive
  for insert
  to authenticated
  with check (
    sender_supabase_id = (select auth.uid())
    and exists (
      select 1
      from public.chat_threads t
      where t.thread_id = chat_messages.thread_id
        and (
          (
            t.user_a_supabase_id = (select auth.uid())
            and chat_messages.sender_mongo_id = t.user_a_mongo_id
            and chat_messages.recipient_mongo_id = t.user_b_mongo_id
          )
          or (
            t.user_b_supabase_id = (select auth.uid())
            and chat_messages.sender_mongo_id = t.user_b_mongo_id
            and chat_messages.recipient_mongo_id = t.user_a_mongo_id
          )
        )
    )
  );

-- No update or delete policy: nobody edits or removes messages through the API (0 rows).
-- Supabase's default grants stay, except the privileges RLS does not govern.
revoke truncate, references, trigger
  on table public.chat_messages
  from anon, authenticated;
"""[1:]


# Declared files this revision applies, by path: `pgpolicy revision` and the drift
# check read the newest embedded text of each file from here.
DECLARED: dict[str, str] = {
    "policies/public.chat_threads.sql": POLICIES_PUBLIC_CHAT_THREADS,
    "policies/public.chat_messages.sql": POLICIES_PUBLIC_CHAT_MESSAGES,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(CHAT_THREADS_AND_MESSAGES_TABLES)
    _execute(POLICIES_PUBLIC_CHAT_THREADS)
    _execute(POLICIES_PUBLIC_CHAT_MESSAGES)


def downgrade() -> None:
    # Reverse order of upgrade(); Supabase's own objects are left as they were.
    op.execute("drop table public.chat_messages")
    op.execute("drop table public.chat_threads")
