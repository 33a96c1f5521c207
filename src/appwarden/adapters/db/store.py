"""The SQLite unit of work: one transaction across every repository."""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from appwarden.adapters.db.access_repo import SqliteAccounts, SqliteExemptions, SqliteTokens
from appwarden.adapters.db.app_dictionary import AppIds
from appwarden.adapters.db.audit_repo import SqliteAudit
from appwarden.adapters.db.campaign_pages_repo import SqliteCampaignPages
from appwarden.adapters.db.campaign_repo import SqliteCampaigns
from appwarden.adapters.db.connection import connect, migrate
from appwarden.adapters.db.console_reads import SqliteConsoleReads
from appwarden.adapters.db.console_repo import (
    SqliteCredentials,
    SqliteExemptionRequests,
    SqliteProposals,
    SqliteSessions,
)
from appwarden.adapters.db.decision_log_repo import SqliteDecisionLog
from appwarden.adapters.db.enrollment_repo import SqliteAttestations, SqliteEnrollments
from appwarden.adapters.db.inventory_repo import SqliteInventory
from appwarden.adapters.db.outbox_repo import SqliteOutbox
from appwarden.adapters.db.policy_repo import SqlitePolicies
from appwarden.adapters.db.sources_repo import SqliteSources
from appwarden.adapters.db.verdict_repo import SqliteVerdicts
from appwarden.core.errors import AppWardenError, StorageError


class SqliteChanges:
    """The change log: one row per thing a transaction changed (see migration 0003)."""

    def __init__(self, conn: sqlite3.Connection, writer: str) -> None:
        self.conn = conn
        self.writer = writer

    def record(self, kind: str, keys: Iterable[str]) -> None:
        self.conn.executemany(
            "INSERT INTO change_log (kind, key, writer) VALUES (?, ?, ?)",
            ((kind, k, self.writer) for k in keys),
        )

    def head(self) -> int:
        return int(self.conn.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0])

    def since(self, seq: int, limit: int = 100_000) -> list[tuple[int, str, str]]:
        """Changes after `seq` written by other stores (other processes), oldest first."""
        return [
            (int(r[0]), str(r[1]), str(r[2]))
            for r in self.conn.execute(
                "SELECT seq, kind, key FROM change_log WHERE seq > ? AND writer != ?"
                " ORDER BY seq LIMIT ?",
                (seq, self.writer, limit),
            )
        ]


class SqliteUnitOfWork:
    def __init__(self, conn: sqlite3.Connection, app_ids: AppIds, writer: str = "") -> None:
        self.conn = conn
        self.changes = SqliteChanges(conn, writer)
        self.inventory = SqliteInventory(conn, app_ids, self.changes)
        self.policies = SqlitePolicies(conn, self.changes)
        self.verdicts = SqliteVerdicts(conn, self.changes)
        self.exemptions = SqliteExemptions(conn, self.changes)
        self.audit = SqliteAudit(conn)
        self.tokens = SqliteTokens(conn)
        self.accounts = SqliteAccounts(conn)
        self.credentials = SqliteCredentials(conn)
        self.sessions = SqliteSessions(conn)
        self.proposals = SqliteProposals(conn)
        self.exemption_requests = SqliteExemptionRequests(conn)
        self.console = SqliteConsoleReads(conn)
        self.campaigns = SqliteCampaigns(conn, self.changes)
        self.outbox = SqliteOutbox(conn)
        self.decision_log = SqliteDecisionLog(conn)
        self.campaign_pages = SqliteCampaignPages(conn)
        self.sources = SqliteSources(conn, self.changes)
        self.enrollments = SqliteEnrollments(conn)
        self.attestations = SqliteAttestations(conn, self.changes)
        self._savepoints = 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested step: an error inside rolls back only this step, then propagates."""
        self._savepoints += 1
        name = f"step{self._savepoints}"
        self.conn.execute(f"SAVEPOINT {name}")
        known_ids = set(self.inventory.dictionary.pending)
        try:
            yield
        except BaseException:
            self.inventory.dictionary.forget_since(known_ids)  # app rows rolled back
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        self.conn.execute(f"RELEASE {name}")

    def __enter__(self) -> SqliteUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class SqliteStore:
    """Thread-safe: each thread gets its own connection; writers serialise on BEGIN IMMEDIATE."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._app_ids = AppIds()
        self.writer = secrets.token_hex(8)  # tags this store's rows in the change log
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        migrate(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def unit_of_work(self) -> Iterator[SqliteUnitOfWork]:
        """A write transaction: commits on success, rolls back on any error."""
        conn = self._conn()
        uow = SqliteUnitOfWork(conn, self._app_ids, self.writer)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"database {self.path} is not writable: {exc}") from exc
        try:
            yield uow
        except BaseException as exc:
            conn.execute("ROLLBACK")
            uow.inventory.dictionary.forget_since(set())
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"database error: {exc}") from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"could not commit to {self.path}: {exc}") from exc
        uow.inventory.dictionary.commit()

    @contextmanager
    def read(self) -> Iterator[SqliteUnitOfWork]:
        """A consistent read snapshot (no writes)."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield SqliteUnitOfWork(conn, self._app_ids, self.writer)
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {exc}") from exc
        except AppWardenError:
            raise
        finally:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
