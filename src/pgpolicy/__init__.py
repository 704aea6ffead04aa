"""pgpolicy: versioned Postgres migrations and proofs of Row Level Security policies."""

__version__ = "0.1.0"
