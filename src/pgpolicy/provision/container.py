"""PostgreSQL in Docker via testcontainers, the fallback when no local binaries exist.

Asking a missing engine must be cheap and silent: it is probed before every fallback.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from pgpolicy.provision.server import ProvisionError, Server, server_from_url

__all__ = ["DEFAULT_IMAGE", "SUPABASE_IMAGE", "container_server", "docker_available"]

DEFAULT_IMAGE = "postgres:15"
# Supabase's own Postgres image: its bootstrap superuser is supabase_admin, and its init
# scripts give postgres (the working role) and Supabase's other roles the same password.
SUPABASE_IMAGE = "supabase/postgres"
_DEFAULT_SOCKET = Path("/var/run/docker.sock")
_PING_DEADLINE_SECONDS = 1.5


def docker_available() -> tuple[bool, str]:
    """(True, where) if a Docker engine answers a ping, else (False, why). Quick, never raises."""
    docker_host = os.environ.get("DOCKER_HOST", "")
    if not docker_host and not _DEFAULT_SOCKET.exists():
        return (
            False,
            f"no Docker engine: DOCKER_HOST is not set and {_DEFAULT_SOCKET} does not exist",
        )
    target = docker_host or f"unix://{_DEFAULT_SOCKET}"
    outcome: list[tuple[bool, str]] = []

    def ping() -> None:
        try:
            import docker

            client = docker.from_env(timeout=_PING_DEADLINE_SECONDS)
            try:
                client.ping()
            finally:
                client.close()
            outcome.append((True, f"Docker engine answers at {target}"))
        except Exception as exc:  # any failure just means "no usable engine"
            outcome.append((False, f"Docker engine at {target} does not answer: {exc}"))

    # A daemon thread bounds the wait even if a remote DOCKER_HOST hangs.
    worker = threading.Thread(target=ping, name="pgpolicy-docker-ping", daemon=True)
    worker.start()
    worker.join(_PING_DEADLINE_SECONDS + 0.3)
    if not outcome:
        return False, f"Docker engine at {target} did not answer within {_PING_DEADLINE_SECONDS}s"
    return outcome[0]


@contextmanager
def container_server(image: str = DEFAULT_IMAGE) -> Iterator[Server]:
    """Start ``image`` (any postgres-compatible image) and remove it on exit.

    A ``supabase/postgres`` image yields its ``postgres`` database as ``postgres``: the
    harness detects it as a real Supabase database and takes the real-Supabase path.
    """
    supabase = image.split(":", 1)[0].endswith(SUPABASE_IMAGE)
    password = secrets.token_hex(16)
    container: Any = None
    try:
        # The constructor already talks to the engine, so it belongs inside the try.
        container = _postgres_container_class()(
            image,
            username="supabase_admin" if supabase else "postgres",
            password=password,
            dbname="postgres",
            driver=None,
        )
        container.start()
    except Exception as exc:
        if container is not None:
            _stop_quietly(container)
        raise ProvisionError(f"Could not start Docker image {image!r}: {exc}") from exc
    try:
        url = container.get_connection_url(driver=None)
        server = replace(server_from_url(url), source="container")
        yield server.login("postgres", password) if supabase else server
    finally:
        _stop_quietly(container)


def _postgres_container_class() -> Any:
    """testcontainers moved the class to .community in later 4.x releases."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        from testcontainers.postgres import PostgresContainer
    return PostgresContainer


def _stop_quietly(container: Any) -> None:
    try:
        container.stop()
    except Exception:  # already gone, or the engine went away: nothing left to clean
        return
