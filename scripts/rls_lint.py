"""Run pgrls (an external RLS linter) against a throwaway database migrated to head.

Usage: python scripts/rls_lint.py PGRLS_EXECUTABLE; exits with pgrls's status: non-zero on an
error finding. Settings and the suppressions, each with its reason, are in pgrls.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pgpolicy.provision import drop_database, provide_server, unique_database_name
from pgpolicy.testing.template import build_template

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    pgrls = sys.argv[1]
    with provide_server() as server:
        name = unique_database_name("pgpolicy_rls_lint")
        build_template(server, name, ROOT / "alembic.ini")
        try:
            return subprocess.run(
                [
                    pgrls,
                    "lint",
                    "--fail-on",
                    "error",
                    "--database-url",
                    server.url(name),
                    "--config",
                    str(ROOT / "pgrls.toml"),
                ],
                check=False,
                timeout=300,
            ).returncode
        finally:
            drop_database(server, name)


if __name__ == "__main__":
    sys.exit(main())
