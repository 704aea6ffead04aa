"""Supabase compatibility layer for plain PostgreSQL: roles, auth, realtime."""

from pgpolicy.supabase.detect import SupabaseDetected, missing_prerequisites, supabase_markers
from pgpolicy.supabase.install import install_compat
from pgpolicy.supabase.partitions import ensure_message_partitions

__all__ = [
    "SupabaseDetected",
    "ensure_message_partitions",
    "install_compat",
    "missing_prerequisites",
    "supabase_markers",
]
