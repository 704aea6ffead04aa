"""policies/ and rpc/ are the declared state: head applies exactly them, drift is caught,
and a changed file becomes a new revision (old revisions are never edited)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from pgpolicy.declared import load_declared, parse_objects
from pgpolicy.declared.drift import check_drift
from pgpolicy.declared.revision import pending_changes, write_revision
from pgpolicy.harness import Database
from pgpolicy.migrate.runner import downgrade, upgrade
from pgpolicy.provision import Server, create_database, drop_database, unique_database_name
from pgpolicy.supabase import install_compat

ROOT = Path(__file__).resolve().parents[2]


def _scripts(root: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(Config(str(root / "alembic.ini")))


def test_every_declared_file_is_what_upgrade_head_applies() -> None:
    assert pending_changes(ROOT, _scripts(ROOT)) == []


def test_each_declared_file_holds_one_kind_of_object() -> None:
    for file in load_declared(ROOT):
        objects = parse_objects(file.sql)
        if file.folder == "rpc":
            assert len(objects.functions) == 1, file.path
            assert objects.functions[0].startswith(file.qualified_name + "("), file.path
            assert objects.policies == []
        else:
            assert objects.functions == [], file.path
            assert {table for _, table in objects.policies} <= {file.qualified_name}, file.path


def test_head_has_no_drift(db: Database) -> None:
    report = check_drift(db.conn, load_declared(ROOT))
    assert report.clean, report.lines()


def test_a_dropped_policy_is_drift(db: Database) -> None:
    db.execute('drop policy "chat participants read their threads" on public.chat_threads')
    lines = check_drift(db.conn, load_declared(ROOT)).lines()
    assert len(lines) == 1
    assert lines[0].startswith("+ policy")
    assert "chat participants read their threads" in lines[0]


def test_an_extra_policy_is_drift(db: Database) -> None:
    db.execute("create policy sneaky on public.chat_messages for select to anon using (true)")
    lines = check_drift(db.conn, load_declared(ROOT)).lines()
    assert len(lines) == 1
    assert lines[0].startswith("- policy")
    assert "sneaky" in lines[0]


def test_a_changed_function_grant_is_drift(db: Database) -> None:
    db.execute("grant execute on function public.ensure_chat_thread(text) to anon")
    lines = check_drift(db.conn, load_declared(ROOT)).lines()
    assert lines
    assert all("ensure_chat_thread" in line for line in lines), lines


def test_an_undeclared_function_is_drift(db: Database) -> None:
    db.execute("create function public.backdoor() returns int language sql as $$ select 1 $$")
    lines = check_drift(db.conn, load_declared(ROOT)).lines()
    assert lines == ["? function public.backdoor() exists but no rpc/ file declares it"]


def test_drift_check_changes_nothing(db: Database) -> None:
    db.execute('drop policy "chat participants read their threads" on public.chat_threads')
    before = db.scalar("select count(*) from pg_policies where tablename = 'chat_threads'")
    check_drift(db.conn, load_declared(ROOT))
    assert db.scalar("select count(*) from pg_policies where tablename = 'chat_threads'") == before


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the project's migrations and declared files, free to edit."""
    for name in ("migrations", "policies", "rpc"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "alembic.ini", tmp_path / "alembic.ini")
    return tmp_path


@pytest.fixture
def compat_database(pg_server: Server) -> Iterator[str]:
    name = unique_database_name("pgpolicy_declared")
    create_database(pg_server, name)
    install_compat(pg_server.url(name))
    yield pg_server.url(name)
    drop_database(pg_server, name)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.py")}


def test_a_changed_policy_file_becomes_a_new_revision(
    project_copy: Path, compat_database: str
) -> None:
    versions = project_copy / "migrations" / "versions"
    old_revisions = _digests(versions)
    policy_file = project_copy / "policies" / "public.chat_threads.sql"
    original = policy_file.read_text()
    edited = original.replace(
        '"chat participants read their threads"', '"chat participants see their threads"'
    )
    assert edited != original
    policy_file.write_text(edited)

    written = write_revision(project_copy, _scripts(project_copy), "rename thread read policy")

    assert written is not None
    assert written.name == "0005_rename_thread_read_policy.py"
    assert {k: v for k, v in _digests(versions).items() if k != written.name} == old_revisions
    assert pending_changes(project_copy, _scripts(project_copy)) == []

    ini = project_copy / "alembic.ini"
    upgrade(ini, compat_database, "head")
    with psycopg.connect(compat_database, autocommit=True) as conn:
        assert check_drift(conn, load_declared(project_copy)).clean
        policies = [
            row[0]
            for row in conn.execute(
                "select policyname from pg_policies where tablename = 'chat_threads'"
            )
        ]
        assert policies == ["chat participants see their threads"]

    downgrade(ini, compat_database, "0004")
    policy_file.write_text(original)
    with psycopg.connect(compat_database, autocommit=True) as conn:
        assert check_drift(conn, load_declared(project_copy)).clean


def test_an_unchanged_project_writes_no_revision(project_copy: Path) -> None:
    assert write_revision(project_copy, _scripts(project_copy), "nothing") is None
