"""Which access token hook Auth calls: from its configuration, as Supabase Auth reads it.

Auth calls a Postgres hook only when it is enabled, naming it by a URI
``pg-functions://postgres/<schema>/<function>``. The Supabase CLI keeps that in
``supabase/config.toml`` (``[auth.hook.custom_access_token] enabled = true, uri = …``).
Without any configuration the harness calls ``public.custom_access_token_hook`` when the
database has it (the conventional name; a project that has the function but leaves the hook
disabled says so with ``enabled = false`` or ``PGPOLICY_ACCESS_TOKEN_HOOK=off``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

__all__ = [
    "ACCESS_TOKEN_HOOK_ENV",
    "CONVENTIONAL_HOOK",
    "HOOK_TIMEOUT_MS",
    "HookConfig",
    "HookConfigError",
    "hook_from_uri",
    "resolve_hook_config",
]

ACCESS_TOKEN_HOOK_ENV = "PGPOLICY_ACCESS_TOKEN_HOOK"
# Auth bounds a Postgres hook with a statement timeout of two seconds.
HOOK_TIMEOUT_MS = 2000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class HookConfigError(ValueError):
    """The hook's configuration cannot name a function; the message says which part."""


@dataclass(frozen=True)
class HookConfig:
    """The hook Auth calls (``schema.function``), or none when ``enabled`` is false."""

    schema: str = "public"
    function: str = "custom_access_token_hook"
    enabled: bool = True
    # Where this came from, for messages ("supabase/config.toml", the environment, …).
    source: str = "the conventional name"
    timeout_ms: int = HOOK_TIMEOUT_MS

    @property
    def signature(self) -> str:
        """The regprocedure text of the hook: it takes one jsonb."""
        return f'"{self.schema}"."{self.function}"(jsonb)'

    @property
    def call(self) -> str:
        """The function as Auth names it in its call (both parts quoted)."""
        return f'"{self.schema}"."{self.function}"'


CONVENTIONAL_HOOK = HookConfig()


def hook_from_uri(uri: str, *, source: str) -> HookConfig:
    """A ``pg-functions://<database>/<schema>/<function>`` URI (or ``schema.function``)."""
    parsed = urlparse(uri)
    if parsed.scheme:
        if parsed.scheme.lower() != "pg-functions":
            raise HookConfigError(
                f"{source}: the access token hook {uri!r} is not a Postgres function "
                "(pg-functions://postgres/<schema>/<function>); HTTP hooks are not emulated"
            )
        parts = parsed.path.split("/")
        if len(parts) < 3:
            raise HookConfigError(f"{source}: {uri!r}: URI path does not contain enough parts")
        schema, function = parts[1], parts[2]
    else:
        schema, _, function = uri.rpartition(".")
        schema = schema or "public"
    for kind, name in (("schema", schema), ("function", function)):
        if not _NAME.match(name):
            raise HookConfigError(f"{source}: {uri!r}: invalid {kind} name {name!r}")
    return HookConfig(schema=schema, function=function, source=source)


def resolve_hook_config(
    project_root: Path | None = None, env: Mapping[str, str] | None = None
) -> HookConfig:
    """``PGPOLICY_ACCESS_TOKEN_HOOK`` (a URI, ``schema.function``, or ``off``), else the
    project's ``supabase/config.toml``, else the conventional name."""
    environ = os.environ if env is None else env
    configured = environ.get(ACCESS_TOKEN_HOOK_ENV, "").strip()
    if configured:
        if configured.lower() in {"off", "none", "disabled", "false"}:
            return HookConfig(enabled=False, source=ACCESS_TOKEN_HOOK_ENV)
        return hook_from_uri(configured, source=ACCESS_TOKEN_HOOK_ENV)
    if project_root is not None:
        config_file = project_root / "supabase" / "config.toml"
        if config_file.is_file():
            return _from_supabase_config(config_file)
    return CONVENTIONAL_HOOK


def _from_supabase_config(config_file: Path) -> HookConfig:
    source = str(config_file)
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise HookConfigError(f"{source}: cannot read it: {error}") from error
    section = data.get("auth", {}).get("hook", {}).get("custom_access_token")
    if not isinstance(section, dict) or not section.get("enabled", False):
        return HookConfig(enabled=False, source=source)
    uri = str(section.get("uri", "")).strip()
    if not uri:
        raise HookConfigError(
            f"{source}: [auth.hook.custom_access_token] is enabled but has no uri"
        )
    return hook_from_uri(uri, source=source)
