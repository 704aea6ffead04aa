"""Supabase Auth as the harness plays it: sign-ups, the access token hook, the claims it mints.

``AuthServer`` is the one way in: the pytest harness and the access matrix both sign users
up and ask for their claims through it, so both behave alike where Auth's connection cannot
see the caller's uncommitted rows.
"""

from pgpolicy.auth.admin import (
    AUTH_ADMIN,
    AUTH_ADMIN_ENV,
    AuthAdmin,
    AuthAdminUnavailable,
    auth_admin_beside,
    resolve_auth_admin,
)
from pgpolicy.auth.config import (
    ACCESS_TOKEN_HOOK_ENV,
    HookConfig,
    HookConfigError,
    resolve_hook_config,
)
from pgpolicy.auth.hook import HookError
from pgpolicy.auth.server import AuthServer
from pgpolicy.auth.signup import SignUpBlocked

__all__ = [
    "ACCESS_TOKEN_HOOK_ENV",
    "AUTH_ADMIN",
    "AUTH_ADMIN_ENV",
    "AuthAdmin",
    "AuthAdminUnavailable",
    "AuthServer",
    "HookConfig",
    "HookConfigError",
    "HookError",
    "SignUpBlocked",
    "auth_admin_beside",
    "resolve_auth_admin",
    "resolve_hook_config",
]
