"""Supabase CLI projects as they are: ``supabase/migrations``, the seed, ``config.toml``.

``project`` reads what the CLI would apply, ``apply`` applies it as ``supabase db reset``
does, ``baseline`` writes an Alembic baseline from it for a team moving to revisions.
"""
