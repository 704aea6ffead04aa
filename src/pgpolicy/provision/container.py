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

__all__ = ["DEFAULT_IMAGE", "container_server", "docker_available"]

DEFAULT_IMAGE = "postgres:15"
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
    """Start ``image`` (any postgres-compatible image) and remove it on exit."""
    container: Any = None
    try:
        # The constructor already talks to the engine, so it belongs inside the try.
        container = _postgres_container_class()(
            image,
            username="postgres",
            password=secrets.token_hex(16),
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
        yield replace(server_from_url(url), source="container")
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
