"""Opening SQLite the way we always want it, and applying versioned migrations."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from importlib import resources
from pathlib import Path

from appwarden.core.errors import StorageError

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 15000",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -65536",
)
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(
            f"cannot open database {path}: {exc}. Check the path and permissions."
        ) from exc
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with the package, in order."""
    found = []
    folder = resources.files("appwarden.adapters.db") / "migrations"
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"two migrations share a number: {versions}")
    return found


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every migration not applied yet, each in its own transaction. Returns versions run."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
    )
    applied = {
        row[0]: row[1] for row in conn.execute("SELECT version, checksum FROM schema_migrations")
    }
    ran = []
    for version, name, sql in migrations():
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        if version in applied:
            if applied[version] != checksum:
                raise StorageError(
                    f"migration {version:04d}_{name} changed after it was applied; "
                    "add a new migration instead of editing an applied one"
                )
            continue
        script = (
            "BEGIN IMMEDIATE;\n"
            + sql
            + "\nINSERT INTO schema_migrations (version, name, checksum) VALUES "
            + f"({version}, '{name}', '{checksum}');\nCOMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"migration {version:04d}_{name} failed: {exc}") from exc
        ran.append(version)
    return ran


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)
