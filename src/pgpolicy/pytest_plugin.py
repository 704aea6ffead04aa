"""Old import path of the pytest plugin, kept working: it now lives at ``pgpolicy.testing.plugin``.

The ``pytest11`` entry point names the new module; importing this one does not register the
fixtures a second time.
"""

from pgpolicy.testing.plugin import db, make_user, pg_alembic_ini, pg_server, pg_template

__all__ = ["db", "make_user", "pg_alembic_ini", "pg_server", "pg_template"]
