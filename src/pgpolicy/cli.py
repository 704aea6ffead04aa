"""`pgpolicy` command line: the development database, the compat layer, migrations."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory

from pgpolicy.declared import load_declared
from pgpolicy.declared.adoption import AdoptionRefused
from pgpolicy.declared.drift import DeclaredStateError, check_drift, excluded_functions
from pgpolicy.declared.revision import pending_changes, write_revision
from pgpolicy.migrate.runner import current_revisions, upgrade
from pgpolicy.provision import (
    ProvisionError,
    dev_cluster_major,
    dev_cluster_status,
    ensure_database,
    resolve_pg_version,
    server_bindir,
    server_from_url,
    start_dev_cluster,
    stop_dev_cluster,
    with_shaped_cluster_admin,
)
from pgpolicy.provision.binaries import missing_binaries_error, server_program_version
from pgpolicy.provision.versions import PG_VERSION_ENV, SUPPORTED_PG_VERSIONS
from pgpolicy.supabase import (
    SupabaseDetected,
    ensure_message_partitions,
    install_compat,
    missing_prerequisites,
    supabase_markers,
)
from pgpolicy.supabase.standin import give_postgres_database_to_postgres, install_sealed_stand_in
from pgpolicy.supabase.standin_services import (
    SERVICES_LOGIN,
    hold_services_session,
    release_services_session,
)

DEV_DATABASE = "pgpolicy_dev"
DEFAULT_DATADIR = Path(".pgdata")


class CommandFailed(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def cmd_upgrade(args: argparse.Namespace) -> None:
    """The main job: database (dev cluster unless --url), compat layer, `upgrade head`."""
    ini = Path(args.alembic_ini)
    scripts = _scripts(args.alembic_ini)
    if args.url:
        server = with_shaped_cluster_admin(server_from_url(args.url))
        dbname = server.maintenance_db
        where = f"the database at {server.host}:{server.port}/{dbname}"
        chosen = "the URL's server"
    else:
        version = resolve_pg_version(args.pg_version)
        server = start_dev_cluster(Path(args.datadir).resolve(), pg_version=version.major)
        dbname = DEV_DATABASE
        ensure_database(server, dbname)
        where = f"the embedded development cluster in {Path(args.datadir).resolve()}"
        chosen = version.source
    url = server.url(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        supabase = bool(supabase_markers(conn))
        server_version = _server_version(conn)
    if supabase:
        compat = "Supabase database (compat layer not needed, nothing installed)"
    else:
        # As the cluster's bootstrap superuser (supabase_admin), with Supabase's ownership.
        install_compat(server.admin().url(dbname))
        compat = "installed (roles, auth, realtime, today's realtime.messages partitions)"
    upgrade(ini, url, args.revision)
    heads = scripts.get_heads()
    current = current_revisions(url)
    state = "head" if sorted(current) == sorted(heads) else f"head is {', '.join(heads)}"
    print(f"database:   {where}")
    print(f"postgres:   PostgreSQL {server_version} ({chosen})")
    print(f"compat:     {compat}")
    print(f"revision:   {', '.join(current) or 'base'} ({state})")
    print(f"role:       migrations ran as {server.user}")
    print(f"url:        {url}")
    print(f"connect:    {server.psql_command(dbname)}")
    if not args.url:
        print(f"stop it:    {_stop_command(ini, Path(args.datadir))}")


def _stop_command(ini: Path, datadir: Path) -> str:
    """How this project stops its development cluster: its Makefile's target when it has one."""
    makefile = ini.resolve().parent / "Makefile"
    if makefile.is_file() and "\ndb-stop:" in "\n" + makefile.read_text(errors="replace"):
        return "make db-stop"
    same = datadir == Path(DEFAULT_DATADIR)
    return "pgpolicy db stop" + ("" if same else f" --datadir {datadir}")


def _server_version(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    row = conn.execute("select pg_catalog.current_setting('server_version')").fetchone()
    return str(row[0]) if row else "unknown"


def cmd_db_start(args: argparse.Namespace) -> None:
    version = resolve_pg_version(args.pg_version)
    server = start_dev_cluster(Path(args.datadir).resolve(), pg_version=version.major)
    ensure_database(server, DEV_DATABASE)
    print(f"postgres:   {version.describe()}")
    print(f"running:    {server.url(DEV_DATABASE)}")
    print(f"connect:    {server.psql_command(DEV_DATABASE)}")


def cmd_db_stop(args: argparse.Namespace) -> None:
    was_running = stop_dev_cluster(Path(args.datadir).resolve())
    print("stopped" if was_running else "not running")


def cmd_db_status(args: argparse.Namespace) -> None:
    server = dev_cluster_status(Path(args.datadir).resolve())
    if server is None:
        print("not running")
        raise SystemExit(3)
    print(f"postgres:   PostgreSQL {dev_cluster_major(Path(args.datadir))}")
    print(f"running:    {server.url(DEV_DATABASE)}")
    print(f"connect:    {server.psql_command(DEV_DATABASE)}")


def cmd_compat_install(args: argparse.Namespace) -> None:
    try:
        differences = install_compat(args.url)
    except SupabaseDetected as error:
        raise CommandFailed(f"refused: {error}") from error
    print("compat layer installed (idempotent: running it again changes nothing)")
    for difference in differences:
        print(f"left as it is (differs from Supabase): {difference}")


def cmd_compat_partitions(args: argparse.Namespace) -> None:
    with psycopg.connect(args.url, autocommit=True) as conn:
        names = ensure_message_partitions(conn, days_ahead=args.days_ahead)
    print("realtime.messages partitions: " + ", ".join(names))


def cmd_compat_check(args: argparse.Namespace) -> None:
    with psycopg.connect(args.url, autocommit=True) as conn:
        markers = supabase_markers(conn)
        missing = missing_prerequisites(conn)
    print("supabase:   " + ("yes (" + "; ".join(markers) + ")" if markers else "no"))
    print("missing:    " + (", ".join(missing) if missing else "nothing"))
    if missing:
        raise SystemExit(1)


def cmd_supabase_like_start(args: argparse.Namespace) -> None:
    """A Supabase-shaped cluster whose postgres database is detected as real Supabase."""
    # A stand-in for tests: the throwaway cluster's fast, crash-unsafe settings.
    version = resolve_pg_version(args.pg_version)
    server = start_dev_cluster(
        Path(args.datadir).resolve(), durable=False, pg_version=version.major
    )
    # As on Supabase, the postgres database is owned by postgres but cannot be cloned while
    # the services are connected to it (a session held for them), so the harness runs its
    # tests in place there; a database of postgres's own nobody holds (--dbname) is cloned.
    datadir = Path(args.datadir).resolve()
    if args.dbname != server.maintenance_db:
        ensure_database(server, args.dbname)
    install_sealed_stand_in(server.admin().url(args.dbname))
    if args.dbname == server.maintenance_db:
        give_postgres_database_to_postgres(server.admin().url(args.dbname))
        hold_services_session(server.login(SERVICES_LOGIN).url(args.dbname), datadir)
    print(server.url(args.dbname))


def cmd_supabase_like_stop(args: argparse.Namespace) -> None:
    release_services_session(Path(args.datadir).resolve())
    was_running = stop_dev_cluster(Path(args.datadir).resolve())
    print("stopped" if was_running else "not running")


def cmd_binaries(args: argparse.Namespace) -> None:
    """Where the embedded cluster's server binaries are (fetched into the cache if needed)."""
    version = resolve_pg_version(args.pg_version)
    bindir = server_bindir(version.major)
    if bindir is None:
        raise missing_binaries_error(version.major)
    print(f"PostgreSQL server binaries: {bindir} ({server_program_version(bindir)})")


def _scripts(alembic_ini: str) -> ScriptDirectory:
    ini = Path(alembic_ini)
    if not ini.is_file():
        raise CommandFailed(f"{ini} not found: run this from the project folder")
    return ScriptDirectory.from_config(Config(str(ini)))


def cmd_init(args: argparse.Namespace) -> None:
    """Write what a pgpolicy project needs into --root; files that exist are kept."""
    from pgpolicy.scaffold import init_project

    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    for line in init_project(root).lines():
        print(line)
    print("next:     pytest   (the first proof runs on an embedded Supabase-shaped cluster)")


def cmd_drift(args: argparse.Namespace) -> None:
    """Compare a live database with policies/ and rpc/; exit 1 on drift."""
    files = load_declared(Path(args.root))
    with psycopg.connect(args.url, autocommit=True) as conn:
        try:
            exclude = (*excluded_functions(Path(args.root)), *args.exclude)
            report = check_drift(conn, files, exclude=exclude, lock_timeout=args.lock_timeout)
        except DeclaredStateError as error:
            raise CommandFailed(str(error)) from error
    if report.clean:
        print(f"no drift: the database matches the {len(files)} declared files")
        return
    lines = report.lines()
    print(f"drift: {len(lines)} difference(s) from the database to policies/ and rpc/")
    print("  ('+' declared but missing, '-' in the database but not declared, '~' differs)")
    for line in lines:
        print(f"  {line}")
    raise SystemExit(1)


def cmd_import(args: argparse.Namespace) -> None:
    """Write an Alembic baseline (alembic.ini, env.py, one revision) from supabase/migrations."""
    from pgpolicy.supabase_cli.baseline import BaselineError, write_baseline
    from pgpolicy.supabase_cli.project import find_cli_project

    root = Path(args.root)
    project = find_cli_project(root)
    if project is None:
        raise CommandFailed(f"{root / 'supabase' / 'migrations'} holds no .sql file to import")
    try:
        written = write_baseline(project, folder=args.folder)
    except BaselineError as error:
        raise CommandFailed(str(error)) from error
    for path in written:
        print(f"wrote {path}")


def cmd_revision(args: argparse.Namespace) -> None:
    """Write a revision embedding the declared files that changed (or check there are none)."""
    scripts = _scripts(args.alembic_ini)
    root = Path(args.root)
    if args.check:
        changes = pending_changes(root, scripts)
        for change in changes:
            print(f"pending: {change.path} (last applied by {change.before_revision or 'none'})")
        if changes:
            raise SystemExit(1)
        print("no pending changes: every declared file is what `upgrade head` applies")
        return
    if not args.message:
        raise CommandFailed("give the revision a message: pgpolicy revision -m 'what changed'")
    try:
        path = write_revision(root, scripts, args.message)
    except AdoptionRefused as error:
        raise CommandFailed(str(error)) from error
    if path is None:
        print("no declared file changed since the migrations last applied it: nothing written")
        return
    print(f"wrote {path}")


def _cli_exposed_schemas(default: tuple[str, ...]) -> tuple[str, ...]:
    """``[api] schemas`` of the Supabase CLI project in the current folder, else ``default``."""
    from pgpolicy.supabase_cli.project import CliConfigError, find_cli_project

    try:
        project = find_cli_project(Path.cwd())
    except CliConfigError as error:
        raise CommandFailed(str(error)) from error
    return default if project is None else project.exposed_schemas


def cmd_lint(args: argparse.Namespace) -> None:
    """Lint a database; exit 0 clean, 1 warnings, 2 errors (unsuppressed, at --fail-on)."""
    from pgpolicy.analysis import lint

    config_path = Path(args.config) if args.config else lint.find_config(Path.cwd())
    try:
        config = lint.load_config(config_path)
    except (lint.LintConfigError, OSError) as error:
        raise CommandFailed(str(error)) from error
    if args.schemas:
        config = replace(config, schemas=tuple(args.schemas.split(",")))
    elif config_path is None:
        config = replace(config, schemas=_cli_exposed_schemas(config.schemas))
    with psycopg.connect(args.url, autocommit=True) as conn:
        report = lint.run_lint(conn, config, disable=args.disable)
    render = {"text": lint.render_text, "json": lint.render_json, "sarif": lint.render_sarif}
    print(render[args.format](report, lint.project_sources(Path(args.root))))
    raise SystemExit(report.exit_status(args.fail_on))


def cmd_matrix(args: argparse.Namespace) -> None:
    """Probe every cell (rolled back); with --expect, exit 1 listing the differing cells."""
    from pgpolicy.analysis import matrix
    from pgpolicy.analysis.matrix.expect_file import write_expect
    from pgpolicy.analysis.matrix.spec import DEFAULT_ACTORS_TOML, default_spec

    seed = Path(args.seed) if args.seed else None
    try:
        if args.actors:
            spec = matrix.load_spec(Path(args.actors), seed_file=seed)
        else:
            spec = default_spec(seed_file=seed)
            print(
                "no --actors file: probing anon, a fresh signed-in user, a user without sub and"
                " service_role. Add your own (roles, claims, seed rows) in a matrix file: see"
                " docs/analysis.md; --write-expect FILE records this run's verdicts in it.",
                file=sys.stderr,
            )
        expect = matrix.load_spec(Path(args.expect)).expect if args.expect else None
    except (matrix.MatrixSpecError, OSError) as error:
        raise CommandFailed(str(error)) from error
    if args.schemas:
        spec = replace(spec, schemas=tuple(args.schemas.split(",")))
    with psycopg.connect(args.url, autocommit=True) as conn:
        try:
            probed = matrix.probe_matrix(conn, spec)
        except psycopg.Error as error:
            # Only the seed or a broken catalog gets here: every probe keeps its own error.
            raise CommandFailed(f"matrix aborted ({error.sqlstate}): {error}") from error
    render = {
        "text": matrix.render_text,
        "markdown": matrix.render_markdown,
        "json": matrix.render_json,
    }
    print(render[args.format](probed))
    if args.write_expect:
        target = Path(args.write_expect)
        if not target.exists():
            # A new file starts from the actors probed, so that it can be run again as it is.
            actors = Path(args.actors).read_text(encoding="utf-8") if args.actors else None
            target.write_text(actors or DEFAULT_ACTORS_TOML, encoding="utf-8")
        write_expect(target, probed)
        print(f"\nwrote the [expect] of {len(probed.verdicts)} cells to {target}", file=sys.stderr)
    if expect is None:
        return
    differences = matrix.compare(probed, expect)
    if differences:
        print(f"\n{len(differences)} cell(s) differ from {args.expect}:", file=sys.stderr)
        for difference in differences:
            print(f"  {difference}", file=sys.stderr)
        raise SystemExit(1)
    print(f"\nall {len(probed.verdicts)} cells as expected in {args.expect}", file=sys.stderr)


def cmd_matrix_readme(args: argparse.Namespace) -> None:
    """Write (or --check) the README section generated from the expected matrix."""
    from pgpolicy.analysis.matrix.readme import ReadmeSectionError, update_readme

    try:
        changed = update_readme(Path(args.expect), Path(args.readme), check=args.check)
    except ReadmeSectionError as error:
        raise CommandFailed(str(error)) from error
    if args.check and changed:
        print(f"{args.readme}: the access table differs from {args.expect}: run make readme-matrix")
        raise SystemExit(1)
    print(f"{args.readme}: access table {'updated' if changed else 'up to date'}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgpolicy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("upgrade", help="migrate a database to head (default: dev cluster)")
    up.add_argument("--url", help="database URL (default: the embedded development cluster)")
    up.add_argument("--revision", default="head")
    up.add_argument("--alembic-ini", default="alembic.ini")
    up.add_argument("--datadir", default=str(DEFAULT_DATADIR))
    _add_pg_version(up)
    up.set_defaults(handler=cmd_upgrade)

    binaries = commands.add_parser(
        "binaries", help="the embedded cluster's server binaries (fetched once if needed)"
    )
    _add_pg_version(binaries)
    binaries.set_defaults(handler=cmd_binaries)

    db = commands.add_parser("db", help="the embedded development cluster").add_subparsers(
        dest="action", required=True
    )
    for action, handler in (
        ("start", cmd_db_start),
        ("stop", cmd_db_stop),
        ("status", cmd_db_status),
    ):
        sub = db.add_parser(action)
        sub.add_argument("--datadir", default=str(DEFAULT_DATADIR))
        if action == "start":
            _add_pg_version(sub)
        sub.set_defaults(handler=handler)

    init = commands.add_parser("init", help="write a new project's files (never overwrites)")
    init.add_argument("--root", default=".", help="the project folder (default: here)")
    init.set_defaults(handler=cmd_init)

    drift = commands.add_parser("drift", help="compare a database with policies/ and rpc/")
    drift.add_argument("--url", required=True)
    drift.add_argument("--root", default=".", help="project folder holding policies/ and rpc/")
    drift.add_argument("--lock-timeout", default="2s")
    drift.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="a function no file declares yet, not reported (glob on schema.name, repeatable;"
        " also [tool.pgpolicy.drift] exclude in pyproject.toml)",
    )
    drift.set_defaults(handler=cmd_drift)

    revision = commands.add_parser(
        "revision", help="write a revision for changed declared files (autogenerate)"
    )
    revision.add_argument("-m", "--message")
    revision.add_argument("--check", action="store_true", help="exit 1 if a revision is due")
    revision.add_argument("--root", default=".")
    revision.add_argument("--alembic-ini", default="alembic.ini")
    revision.set_defaults(handler=cmd_revision)

    imports = commands.add_parser(
        "import", help="write an Alembic baseline from supabase/migrations/*.sql"
    )
    imports.add_argument("--root", default=".", help="project folder holding supabase/")
    imports.add_argument("--folder", default="migrations", help="Alembic script folder")
    imports.set_defaults(handler=cmd_import)

    matrix_parser = commands.add_parser("matrix", help="probe who may do what, cell by cell")
    matrix_parser.add_argument("--url", required=True)
    matrix_parser.add_argument(
        "--actors", help="the matrix file (TOML); without it: anon, a user, no sub, service_role"
    )
    matrix_parser.add_argument("--seed", help="SQL file run before probing (replaces the file's)")
    matrix_parser.add_argument("--schemas", help="exposed schemas, comma-separated")
    matrix_parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    matrix_parser.add_argument(
        "--expect", help="compare with this file's [expect]; exit 1 on a difference"
    )
    matrix_parser.add_argument(
        "--write-expect",
        metavar="FILE",
        help="write this run's verdicts as FILE's [expect] (the rest of FILE is kept)",
    )
    matrix_parser.set_defaults(handler=cmd_matrix)

    readme = commands.add_parser("matrix-readme", help="README access table from [expect]")
    readme.add_argument("--expect", required=True)
    readme.add_argument("--readme", default="README.md")
    readme.add_argument("--check", action="store_true", help="exit 1 if the README differs")
    readme.set_defaults(handler=cmd_matrix_readme)

    lint_parser = commands.add_parser("lint", help="security, performance and Realtime rules")
    lint_parser.add_argument("--url", required=True)
    lint_parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    lint_parser.add_argument("--schemas", help="exposed schemas, comma-separated (default public)")
    lint_parser.add_argument("--disable", action="append", default=[], metavar="RULE_ID")
    lint_parser.add_argument(
        "--config", help="pgpolicy-lint.toml or pyproject.toml (default: found in .)"
    )
    lint_parser.add_argument("--fail-on", choices=("error", "warn", "info"), default="warn")
    lint_parser.add_argument(
        "--root", default=".", help="project folder whose SQL files findings point into"
    )
    lint_parser.set_defaults(handler=cmd_lint)

    compat = commands.add_parser("compat", help="Supabase compatibility layer").add_subparsers(
        dest="action", required=True
    )
    install = compat.add_parser("install", help="create roles, auth and realtime objects")
    install.add_argument("--url", required=True)
    install.set_defaults(handler=cmd_compat_install)
    partitions = compat.add_parser("partitions", help="create daily realtime.messages partitions")
    partitions.add_argument("--url", required=True)
    partitions.add_argument("--days-ahead", type=int, default=3)
    partitions.set_defaults(handler=cmd_compat_partitions)
    like = commands.add_parser(
        "supabase-like",
        help="a local database detected as real Supabase (prints its URL), for the "
        "real-Supabase test path",
    ).add_subparsers(dest="action", required=True)
    for action, handler in (("start", cmd_supabase_like_start), ("stop", cmd_supabase_like_stop)):
        sub = like.add_parser(action)
        sub.add_argument("--datadir", default=".pgdata-supabase-like")
        if action == "start":
            sub.add_argument(
                "--dbname",
                default="postgres",
                help="database to make Supabase-like (default postgres: tests run in place; "
                "another name is created owned by postgres, so the harness can clone it)",
            )
            _add_pg_version(sub)
        sub.set_defaults(handler=handler)

    check = compat.add_parser("check", help="is this Supabase; what is missing")
    check.add_argument("--url", required=True)
    check.set_defaults(handler=cmd_compat_check)
    return parser


def _add_pg_version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pg-version",
        help="PostgreSQL major version of a cluster this starts: "
        f"{' or '.join(SUPPORTED_PG_VERSIONS)} (default: ${PG_VERSION_ENV}, else "
        "supabase/config.toml's [db] major_version, else 17)",
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (CommandFailed, ProvisionError) as error:
        print(f"pgpolicy: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    except psycopg.OperationalError as error:
        print(f"pgpolicy: cannot connect: {error}", file=sys.stderr)
        raise SystemExit(1) from error


if __name__ == "__main__":
    main()
