"""What `pgpolicy upgrade` tells a project about stopping its development cluster."""

from __future__ import annotations

from pathlib import Path

from pgpolicy.cli import _stop_command


def test_a_project_with_a_db_stop_target_is_told_make_db_stop(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("upgrade:\n\tpgpolicy upgrade\n\ndb-stop:\n\tstop\n")
    assert _stop_command(tmp_path / "alembic.ini", Path(".pgdata")) == "make db-stop"


def test_a_project_without_one_is_told_the_pgpolicy_command(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("test:\n\tpytest\n")
    assert _stop_command(tmp_path / "alembic.ini", Path(".pgdata")) == "pgpolicy db stop"
    assert (
        _stop_command(tmp_path / "alembic.ini", Path("other-data"))
        == "pgpolicy db stop --datadir other-data"
    )
