"""Where the template's schema comes from: Alembic revisions or Supabase CLI migrations.

``pgpolicy_schema_source`` (pytest ini) chooses: ``auto`` (default) takes the alembic.ini
when it exists (a team that imported its CLI history into revisions keeps both folders, and
the revisions are then the truth), else ``supabase/migrations/*.sql``; ``alembic`` and
``supabase-cli`` force one. With neither, the template has only the Supabase compat layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from pgpolicy.provision import Server, temporary_database
from pgpolicy.supabase import install_compat
from pgpolicy.supabase_cli.apply import CliMigrationError, apply_cli_project
from pgpolicy.supabase_cli.project import CliProject, find_cli_project
from pgpolicy.testing.template import migrated_in_place, migrated_template

__all__ = ["SCHEMA_SOURCES", "TemplateSource", "resolve_template_source"]

SCHEMA_SOURCES = ("auto", "alembic", "supabase-cli")


@dataclass(frozen=True)
class TemplateSource:
    """The one builder the session's template is made with."""

    alembic_ini: Path | None
    cli_project: CliProject | None

    @contextmanager
    def migrated(self, server: Server, *, base: str | None) -> Iterator[str]:
        """A template database built from this source for the length of the block."""
        if self.cli_project is None:
            with migrated_template(server, self.alembic_ini, base=base) as name:
                yield name
            return
        with temporary_database(server, "pgpolicy_tmpl", template=base) as name:
            if base is None:
                install_compat(server.admin().url(name))
            try:
                apply_cli_project(server.url(name), self.cli_project)
            except CliMigrationError as error:
                # The message names file, line and SQLSTATE; a traceback adds nothing.
                pytest.fail(f"the Supabase CLI migrations failed: {error}", pytrace=False)
            yield name

    @contextmanager
    def in_place(self, server: Server) -> Iterator[str]:
        """The server's own database. CLI migrations cannot be undone, so in place they are
        taken as already applied (``supabase db push``) and not run."""
        if self.cli_project is not None:
            yield server.maintenance_db
            return
        with migrated_in_place(server, self.alembic_ini) as name:
            yield name


def resolve_template_source(rootdir: Path, alembic_ini: Path | None, choice: str) -> TemplateSource:
    """The source ``choice`` names for the project at ``rootdir`` (see the module's rules)."""
    if choice not in SCHEMA_SOURCES:
        raise ValueError(
            f"pgpolicy_schema_source = {choice!r}: expected one of {', '.join(SCHEMA_SOURCES)}"
        )
    if choice == "alembic" or (choice == "auto" and alembic_ini is not None):
        return TemplateSource(alembic_ini=alembic_ini, cli_project=None)
    project = find_cli_project(rootdir)
    if choice == "supabase-cli" and project is None:
        raise ValueError(
            f"pgpolicy_schema_source = supabase-cli, but {rootdir / 'supabase' / 'migrations'}"
            " holds no .sql file"
        )
    return TemplateSource(alembic_ini=None if project else alembic_ini, cli_project=project)
