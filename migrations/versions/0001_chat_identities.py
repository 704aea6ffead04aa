"""Chat identities: the server-controlled link from a Supabase user to a Mongo id.

Creates public.chat_identities (RLS: a user reads only its own row; API roles
cannot write it) and the trigger on auth.users that keeps it in step with
raw_app_meta_data ->> 'mongoUserId'.

Revision ID: 0001
Revises:
Create Date: 2025-11-22 06:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is immutable: this revision embeds the SQL it applies and never reads
# policies/ or rpc/. A changed declared file gets a new revision, not an edit here.
# Each constant is the file's exact text ([1:] drops the newline after the quotes).

# Table DDL lives only in the migrations.
CHAT_IDENTITIES_TABLE = r"""
create table public.chat_identities (
  user_id uuid not null,
  mongo_id text not null,
  created_at timestamptz not null default now(),
  constraint chat_identities_pkey primary key (user_id),
  -- Deleting a user deletes its identity, and through it its threads and their messages.
  constraint chat_identities_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
  constraint chat_identities_mongo_id_key unique (mongo_id),
  -- Target of chat_threads' composite foreign keys: a thread names a (user, Mongo id) pair.
  constraint chat_identities_user_id_mongo_id_key unique (user_id, mongo_id),
  constraint chat_identities_mongo_id_length check (char_length(mongo_id) between 1 and 128),
  -- Whitespace, Unicode spaces included, listed explicitly so no locale changes the rule.
  constraint chat_identities_mongo_id_no_whitespace check (mongo_id !~
    '[[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ),
  -- '__' separates the two ids of a thread id; an id with '__' or a leading or trailing '_'
  -- would let two different pairs spell the same thread id (e.g. 'a_' + 'b' and 'a' + '_b').
  constraint chat_identities_mongo_id_separator_free check (
    strpos(mongo_id, '__') = 0 and left(mongo_id, 1) <> '_' and right(mongo_id, 1) <> '_'
  )
);

comment on table public.chat_identities is
  'Server-controlled link from a Supabase user to its legacy Mongo id (never user-editable).';
"""[1:]

# policies/public.chat_identities.sql, verbatim.
POLICIES_PUBLIC_CHAT_IDENTITIES = r"""
-- Row Level Security and privileges of public.chat_identities (declared state).

alter table public.chat_identities enable row level security;

drop policy if exists "chat users read their own identity" on public.chat_identities;
create policy "chat users read their own identity"
  on public.chat_identities
  as permissive
  for select
  to authenticated
  -- The scalar subquery makes auth.uid() an InitPlan: evaluated once per query, not per row.
  using (user_id = (select auth.uid()));

-- The link to a Mongo id is server-controlled: only service_role and the sync trigger write it.
-- TRUNCATE, REFERENCES and TRIGGER are not subject to RLS, so API roles never hold them.
revoke insert, update, delete, truncate, references, trigger
  on table public.chat_identities
  from anon, authenticated;
"""[1:]

# rpc/public.sync_chat_identity.sql, verbatim.
RPC_PUBLIC_SYNC_CHAT_IDENTITY = r"""
-- Keeps public.chat_identities in step with auth.users.raw_app_meta_data ->> 'mongoUserId'.
-- App metadata is server-controlled; raw_user_meta_data is user-editable and never read here.
create or replace function public.sync_chat_identity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  _mongo_id text := new.raw_app_meta_data ->> 'mongoUserId';
begin
  -- A removed or blank id unlinks the user (and, by cascade, its threads and messages).
  -- Blank: no character outside whitespace, Unicode spaces listed so no locale changes it.
  if _mongo_id is null or _mongo_id !~ (
    '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ) then
    delete from public.chat_identities i
    where i.user_id = new.id;
    return null;
  end if;

  -- A malformed id fails the check constraint (23514); changing an id that threads use
  -- fails their foreign keys (23503): both refuse the auth.users write rather than drift.
  insert into public.chat_identities as i (user_id, mongo_id)
  values (new.id, _mongo_id)
  on conflict (user_id) do update
    set mongo_id = excluded.mongo_id
    where i.mongo_id is distinct from excluded.mongo_id;
  return null;
end;
$$;

comment on function public.sync_chat_identity() is
  'Trigger on auth.users: links a user to the Mongo id in raw_app_meta_data.mongoUserId.';

-- Only the trigger calls it; Supabase's defaults would let every API role execute it.
revoke execute on function public.sync_chat_identity() from public, anon, authenticated;

create or replace trigger sync_chat_identity
  after insert or update of raw_app_meta_data
  on auth.users
  for each row
  execute function public.sync_chat_identity();
"""[1:]


# Declared files this revision applies, by path: `pgpolicy revision` and the drift
# check read the newest embedded text of each file from here.
DECLARED: dict[str, str] = {
    "policies/public.chat_identities.sql": POLICIES_PUBLIC_CHAT_IDENTITIES,
    "rpc/public.sync_chat_identity.sql": RPC_PUBLIC_SYNC_CHAT_IDENTITY,
}


def _execute(sql: str) -> None:
    """Run one block of SQL; offline mode adds its own terminator after the last statement."""
    op.execute(sql.rstrip().removesuffix(";"))


def upgrade() -> None:
    _execute(CHAT_IDENTITIES_TABLE)
    _execute(POLICIES_PUBLIC_CHAT_IDENTITIES)
    _execute(RPC_PUBLIC_SYNC_CHAT_IDENTITY)


def downgrade() -> None:
    # Reverse order of upgrade(); Supabase's own objects are left as they were.
    op.execute("drop trigger sync_chat_identity on auth.users")
    op.execute("drop function public.sync_chat_identity()")
    op.execute("drop table public.chat_identities")
