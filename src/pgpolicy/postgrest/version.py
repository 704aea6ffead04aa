"""Which PostgREST release requests are emulated as: v12.2.x, or the one the Supabase CLI pins.

The releases differ where a proof can see it: v13.0.1 and later answer 22023 "role ... does
not exist" with 401 (v12: 400), and v13 dropped ``Prefer: params=single-object``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

__all__ = [
    "POSTGREST_VERSION_ENV",
    "SUPABASE_CLI_POSTGREST",
    "SUPPORTED_POSTGREST_VERSIONS",
    "PostgrestVersion",
    "PostgrestVersionError",
    "resolve_postgrest_version",
]

POSTGREST_VERSION_ENV = "PGPOLICY_POSTGREST_VERSION"


class PostgrestVersionError(ValueError):
    """A PostgREST version that is not emulated."""


@dataclass(frozen=True, order=True)
class PostgrestVersion:
    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> PostgrestVersion:
        match = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
        if match is None:
            raise PostgrestVersionError(f"{text!r} is not a PostgREST version (e.g. 14.12)")
        major, minor, patch = (int(part) if part else 0 for part in match.groups())
        return cls(major, minor, patch)

    @property
    def missing_role_is_401(self) -> bool:
        """22023 "role ... does not exist" (a JWT naming no role) answers 401 from v13.0.1."""
        return self >= PostgrestVersion(13, 0, 1)

    @property
    def has_params_single_object(self) -> bool:
        """``Prefer: params=single-object`` exists until v12 (v13 removed it)."""
        return self.major < 13

    def __str__(self) -> str:
        if self.major >= 13 and self.patch == 0:
            return f"{self.major}.{self.minor}"  # v13+ releases are named major.minor
        return f"{self.major}.{self.minor}.{self.patch}"


# What `supabase start` runs: apps/cli-go/pkg/config/templates/Dockerfile of supabase/cli
# ("FROM postgrest/postgrest:v14.12").
SUPABASE_CLI_POSTGREST = PostgrestVersion(14, 12)
V12 = PostgrestVersion(12, 2, 12)
SUPPORTED_POSTGREST_VERSIONS = (V12, SUPABASE_CLI_POSTGREST)


def resolve_postgrest_version(choice: str | None = None) -> PostgrestVersion:
    """``choice``, else $PGPOLICY_POSTGREST_VERSION, else the Supabase CLI's pinned release.

    Accepted: any v12.2.x ("12" and "12.2" mean 12.2.12) and 14.12 ("14").
    """
    text = (choice or os.environ.get(POSTGREST_VERSION_ENV, "")).strip()
    if not text:
        return SUPABASE_CLI_POSTGREST
    version = PostgrestVersion.parse(text)
    parts = text.lstrip("v").count(".") + 1
    if version.major == 12 and (parts == 1 or (version.minor == 2 and parts == 2)):
        return V12
    if (version.major, version.minor) == (12, 2):
        return version
    if version.major == 14 and (parts == 1 or version == SUPABASE_CLI_POSTGREST):
        return SUPABASE_CLI_POSTGREST
    raise PostgrestVersionError(
        f"PostgREST {text} is not emulated (supported: 12.2.x, {SUPABASE_CLI_POSTGREST})"
    )
