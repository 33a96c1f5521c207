"""SQLite storage (WAL, foreign keys, versioned migrations) behind the `Store` port."""

from appwarden.adapters.db.store import SqliteStore

__all__ = ["SqliteStore"]
