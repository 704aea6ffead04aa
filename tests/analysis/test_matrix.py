"""`pgpolicy matrix` on small schemas: each verdict, each kind of actor, the file's rows,
arguments and seed, and the comparison with an expected file."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from pgpolicy.analysis.matrix import (
    Cell,
    MatrixSpecError,
    Verdict,
    compare,
    load_spec,
    probe_matrix,
    render_json,
)
from pgpolicy.auth import HookError
from pgpolicy.testing.harness import Database

# The schemas below are made by each test, and their policy statements lock auth.users as on
# Supabase (supautils), where the matrix's sign-ups would wait: each test commits them first.
pytestmark = pytest.mark.commit

NOTES_SCHEMA = """
create schema notes_api;
grant usage on schema notes_api to anon, authenticated, service_role;
create table notes_api.notes (
  id bigint generated always as identity primary key,
  owner uuid not null,
  team text,
  body text not null
);
alter table notes_api.notes enable row level security;
grant select, insert, update, delete on notes_api.notes to anon, authenticated, service_role;
create policy own on notes_api.notes for all to authenticated
  using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
-- what a custom access token hook adds: a team claim, read by a second policy
create policy team_reads on notes_api.notes for select to authenticated
  using (team = (select auth.jwt() ->> 'team'));
create function notes_api.note_count() returns bigint language sql stable
  as $$ select count(*) from notes_api.notes $$;
revoke execute on function notes_api.note_count() from public, anon;
grant execute on function notes_api.note_count() to authenticated;
create function notes_api.fail(_code text) returns void language plpgsql
  as $$ begin raise exception 'no' using errcode = _code; end $$;
"""

MATRIX = """
schemas = ["notes_api"]
seed = \"\"\"
insert into notes_api.notes (owner, team, body) values
  ('a0000000-0000-4000-8000-000000000001', null, 'mine'),
  ('b0000000-0000-4000-8000-000000000002', 'red', 'team red');
\"\"\"

[actors.owner]
id = "a0000000-0000-4000-8000-000000000001"

[actors.red_member]
kind = "user"
claims = { team = "red" }

[actors.anon]
kind = "anon"

[actors.lost]
kind = "no_sub"

[actors.backend]
kind = "service_role"

[actors.reporter]
kind = "role"
role = "authenticated"
claims = { role = "authenticated", team = "red" }

[rows."notes_api.notes"]
insert = { owner = "{sub}", body = "probe" }

[functions."notes_api.fail"]
args = { _code = "{var:code}" }
"""


@pytest.fixture
def spec(db: Database, tmp_path: Path) -> Path:
    db.execute(NOTES_SCHEMA)
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX)
    return path


def verdicts(db: Database, path: Path) -> dict[tuple[str, str, str], str]:
    matrix = probe_matrix(db.conn, load_spec(path))
    return {(c.object, c.action, c.actor): str(v) for c, v in matrix.verdicts.items()}


def test_select_verdicts_per_actor(db: Database, spec: Path) -> None:
    got = verdicts(db, spec)
    select = {
        actor: got[("notes_api.notes", "select", actor)]
        for actor in ("owner", "red_member", "anon", "lost", "backend", "reporter")
    }
    assert select == {
        "owner": "allowed 1",
        "red_member": "allowed 1",  # through the hook-style team claim
        "anon": "filtered",
        "lost": "filtered",
        "backend": "allowed 2",
        "reporter": "allowed 1",
    }


def test_write_verdicts_tell_denied_from_filtered(db: Database, spec: Path) -> None:
    got = verdicts(db, spec)
    assert got[("notes_api.notes", "insert", "owner")] == "allowed 1"
    assert got[("notes_api.notes", "insert", "anon")] == "denied"
    # service_role bypasses RLS, but its row has no owner (no sub): the NOT NULL answers.
    assert got[("notes_api.notes", "insert", "backend")] == "error 23502"
    assert got[("notes_api.notes", "update", "owner")] == "allowed 1"
    assert got[("notes_api.notes", "update", "red_member")] == "filtered"
    assert got[("notes_api.notes", "delete", "anon")] == "filtered"
    assert got[("notes_api.notes", "delete", "backend")] == "allowed 2"


def test_function_cells_are_execute_privilege_and_the_call_outcome(
    db: Database, spec: Path
) -> None:
    got = verdicts(db, spec)
    assert got[("notes_api.note_count()", "execute", "anon")] == "denied"
    assert got[("notes_api.note_count()", "call", "anon")] == "denied"
    assert got[("notes_api.note_count()", "execute", "owner")] == "allowed"
    assert got[("notes_api.note_count()", "call", "owner")] == "allowed 1"
    # No `code` var: the argument is NULL, and raise with a NULL errcode is its own error.
    assert got[("notes_api.fail()", "call", "owner")].startswith("error ")


def test_nothing_is_left_behind(db: Database, spec: Path) -> None:
    probe_matrix(db.conn, load_spec(spec))
    assert db.scalar("select count(*) from notes_api.notes") == 0
    assert db.scalar("select count(*) from auth.users where email like '%%@example.test'") == 0


def test_a_seed_file_replaces_the_files_seed(db: Database, spec: Path, tmp_path: Path) -> None:
    seed = tmp_path / "seed.sql"
    seed.write_text(
        "insert into notes_api.notes (owner, body) values"
        " ('a0000000-0000-4000-8000-000000000001', 'one'),"
        " ('a0000000-0000-4000-8000-000000000001', 'two');"
    )
    matrix = probe_matrix(db.conn, load_spec(spec, seed_file=seed))
    assert str(matrix.verdicts[Cell("notes_api.notes", "select", "owner")]) == "allowed 2"


def test_compare_lists_every_differing_cell(db: Database, spec: Path) -> None:
    matrix = probe_matrix(db.conn, load_spec(spec))
    expect = dict(matrix.verdicts)
    expect[Cell("notes_api.notes", "select", "anon")] = Verdict.parse("allowed")
    expect[Cell("notes_api.gone", "select", "anon")] = Verdict.parse("denied")
    del expect[Cell("notes_api.notes", "delete", "owner")]
    differences = {str(d) for d in compare(matrix, expect)}
    assert differences == {
        "anon: notes_api.notes select: expected allowed, got filtered",
        "anon: notes_api.gone select: expected denied, got not probed (no such object)",
        "owner: notes_api.notes delete: expected not in the file, got allowed 1",
    }


def test_json_output_carries_sqlstate_and_message(db: Database, spec: Path) -> None:
    payload = json.loads(render_json(probe_matrix(db.conn, load_spec(spec))))
    denied = next(
        c
        for c in payload["cells"]
        if (c["object"], c["action"], c["actor"]) == ("notes_api.notes", "insert", "anon")
    )
    assert denied["verdict"] == "denied"
    assert denied["sqlstate"] == "42501"
    assert "row-level security" in denied["message"]


def test_a_verdict_that_is_not_one_of_the_four_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[actors.a]\nkind = "anon"\n[expect."x"]\nselect = { a = "maybe" }\n')
    with pytest.raises(MatrixSpecError, match="unknown verdict"):
        load_spec(path)


HOOK = """
create function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable as $$
begin
  -- what a project's hook does: a claim from server-side data (here: everyone is team red)
  return jsonb_build_object('claims', (event -> 'claims') || '{"team": "red"}'::jsonb);
end $$;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
"""


# Auth calls the hook on its own connection, which sees only committed work.
@pytest.mark.commit
def test_user_claims_come_through_the_access_token_hook(db: Database, tmp_path: Path) -> None:
    db.execute(NOTES_SCHEMA)
    db.execute(HOOK)
    path = tmp_path / "m.toml"
    path.write_text(MATRIX.split("[actors.owner]")[0] + '[actors.hooked]\nkind = "user"\n')
    matrix = probe_matrix(db.conn, load_spec(path))
    # Only the hook's team claim lets this user read team red's note.
    assert str(matrix.verdicts[Cell("notes_api.notes", "select", "hooked")]) == "allowed 1"


MODERATOR_HOOK = """
create table notes_api.moderators (user_id uuid primary key);
grant usage on schema notes_api to supabase_auth_admin;
grant select on notes_api.moderators to supabase_auth_admin;
create function public.custom_access_token_hook(event jsonb) returns jsonb
language sql stable as $$
  select jsonb_build_object('claims', (event -> 'claims') || jsonb_build_object('team',
    case when exists (select from notes_api.moderators m
                      where m.user_id = (event ->> 'user_id')::uuid) then 'red' end))
$$;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
"""


# The hook reads a row only the matrix's own (uncommitted) seed writes: Auth could not see it.
@pytest.mark.commit
def test_a_hook_reading_the_matrix_seed_raises_instead_of_minting_wrong_claims(
    db: Database, tmp_path: Path
) -> None:
    db.execute(NOTES_SCHEMA)
    db.execute(MODERATOR_HOOK)
    path = tmp_path / "m.toml"
    moderator = "c0000000-0000-4000-8000-000000000003"
    seeded = MATRIX.split("[actors.owner]")[0].replace(
        "  ('b0000000", f"  ('{moderator}', null, 'x'),\n  ('b0000000"
    )
    seeded = seeded.replace(
        '"""\n\n', f'insert into notes_api.moderators values (\'{moderator}\');\n"""\n\n', 1
    )
    path.write_text(seeded + f'[actors.moderator]\nkind = "user"\nid = "{moderator}"\n')
    with pytest.raises(HookError, match="claims team differ"):
        probe_matrix(db.conn, load_spec(path))
    assert db.scalar("select count(*) from auth.users where id = %s", (moderator,)) == 0


def test_a_write_of_no_row_that_changes_data_is_not_filtered(db: Database, spec: Path) -> None:
    db.execute(
        "create table notes_api.audit (at timestamptz default now());"
        " create function notes_api.audit() returns trigger language plpgsql security definer"
        " set search_path = '' as $$ begin insert into notes_api.audit default values;"
        " return null; end $$;"
        " create trigger audit after update on notes_api.notes"
        " for each statement execute function notes_api.audit()"
    )
    got = verdicts(db, spec)
    # anon's update touches no note, yet the statement trigger wrote a row: not "filtered".
    assert got[("notes_api.notes", "update", "anon")] == "allowed 0"
    assert got[("notes_api.notes", "delete", "anon")] == "filtered"


def test_a_broken_seed_stops_with_its_sqlstate_and_leaves_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        'seed = "insert into public.nowhere values (1)"\n'
        '[actors.someone]\nkind = "user"\nid = "50000000-0000-4000-8000-000000000005"\n'
    )
    with pytest.raises(psycopg.errors.UndefinedTable):
        probe_matrix(db.conn, load_spec(path))
    assert (
        db.scalar(
            "select count(*) from auth.users where id = %s",
            ("50000000-0000-4000-8000-000000000005",),
        )
        == 0
    )
