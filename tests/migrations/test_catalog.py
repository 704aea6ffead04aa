"""The catalog the migration proofs compare: complete, and blind to OIDs, order and grantors."""

from __future__ import annotations

import psycopg

from pgpolicy.catalog import diff, snapshot
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import catalog

# One object of every kind the catalog records, on top of the compat layer.
_OBJECTS = [
    "create type public.mood as enum ('calm', 'busy')",
    "create domain public.short_text as text check (char_length(value) <= 10)",
    "create sequence public.ticket_seq start 100",
    """create table public.notes (
         id bigint generated always as identity primary key,
         body public.short_text not null default 'x',
         mood public.mood,
         title text collate "C",
         owner_id uuid references auth.users (id)
       )""",
    "create index notes_owner_idx on public.notes (owner_id)",
    "alter table public.notes enable row level security",
    "create policy notes_read on public.notes for select to authenticated using (true)",
    "create view public.note_titles with (security_invoker = true) as"
    " select title from public.notes",
    "create function public.touch() returns trigger language plpgsql security definer"
    " set search_path = '' as $$ begin return new; end $$",
    "create trigger notes_touch before update on public.notes"
    " for each row execute function public.touch()",
    "create trigger users_touch before update on auth.users"
    " for each row execute function public.touch()",
    "alter publication supabase_realtime add table public.notes",
    "revoke all on public.notes from anon",
    "grant select on public.notes to authenticated with grant option",
    "comment on table public.notes is 'Notes.'",
]


def _create(url: str, statements: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())


def test_catalog_records_every_kind_of_object_a_migration_creates(
    make_database: MakeDatabase,
) -> None:
    url = make_database()
    before = catalog(url)
    _create(url, _OBJECTS)
    added = [line for line in diff(before, catalog(url)) if line.startswith("+ ")]
    for expected in [
        "+ type public.mood",
        "+ type public.short_text",
        "+ sequence public.ticket_seq",
        "+ sequence public.notes_id_seq",
        "+ table public.notes",
        "+ table public.note_titles",
        "+ column public.notes.title",
        "+ constraint notes_owner_id_fkey on public.notes",
        "+ index notes_owner_idx on public.notes",
        '+ policy "notes_read" on public.notes',
        "+ function public.touch()",
        "+ trigger notes_touch on public.notes",
        "+ trigger users_touch on auth.users",
        "+ table public.notes in publication supabase_realtime",
    ]:
        assert expected in added, (expected, added)
    schema_change = [line for line in diff(before, catalog(url)) if line.startswith("~ ")]
    assert schema_change == [], "creating objects changed nothing that existed before"


def test_catalog_ignores_creation_order_oids_and_grantors(make_database: MakeDatabase) -> None:
    first, second = make_database(), make_database()
    _create(first, _OBJECTS)
    # Other OIDs (objects created and dropped first), another order where dependencies allow,
    # a privilege granted again by a different grantor.
    _create(
        second,
        [
            "create table public.scratch (x int)",
            "drop table public.scratch",
            *_OBJECTS[1:3],
            _OBJECTS[0],
            *_OBJECTS[3:],
            # service_role holds SELECT already; now also from authenticated as grantor.
            "set role authenticated",
            "grant select on public.notes to service_role",
            "reset role",
        ],
    )
    with psycopg.connect(second, autocommit=True) as conn:
        conn.execute("set search_path = auth, public")
        second_catalog = snapshot(conn)
        assert conn.execute("show search_path").fetchone() == ("auth, public",)
    assert diff(catalog(first), second_catalog) == []


def test_diff_says_what_was_added_removed_and_changed(make_database: MakeDatabase) -> None:
    url = make_database()
    _create(url, _OBJECTS)
    before = catalog(url)
    _create(
        url,
        [
            "drop policy notes_read on public.notes",
            "alter table public.notes force row level security",
            "create or replace function public.touch() returns trigger language plpgsql"
            " security definer set search_path = '' as $$ begin return old; end $$",
            "create index notes_mood_idx on public.notes (mood)",
            "revoke truncate on public.notes from authenticated",
            "grant update on public.notes to authenticated with grant option",
        ],
    )
    assert diff(before, catalog(url)) == [
        "~ function public.touch(): definition differs",
        "+ index notes_mood_idx on public.notes",
        '- policy "notes_read" on public.notes',
        "~ table public.notes: acl[authenticated] -TRUNCATE -UPDATE +UPDATE*",
        "~ table public.notes: rls_forced 'false' -> 'true'",
    ]
