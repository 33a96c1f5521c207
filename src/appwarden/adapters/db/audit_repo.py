"""The hash-chained audit log, appended inside the same transaction as the change it records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from appwarden.core.events import GENESIS, AuditEvent, StoredEvent, canonical, chain_hash


class SqliteAudit:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def head(self) -> StoredEvent | None:
        row = self.conn.execute(
            "SELECT seq, body, prev_hash, hash FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return StoredEvent(row[0], json.loads(row[1]), row[2], row[3]) if row else None

    def append(self, event: AuditEvent) -> StoredEvent:
        head = self.head()
        seq = head.seq + 1 if head else 1
        prev = head.hash if head else GENESIS
        body = event.body(seq)
        digest = chain_hash(prev, body)
        self.conn.execute(
            "INSERT INTO audit_events (seq, at, type, actor, subject, body, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (
                seq,
                body["at"],
                body["type"],
                event.actor,
                event.subject,
                canonical(body),
                prev,
                digest,
            ),
        )
        return StoredEvent(seq, body, prev, digest)

    def events(
        self, after_seq: int = 0, limit: int | None = None, type_: str | None = None
    ) -> Iterator[StoredEvent]:
        sql = "SELECT seq, body, prev_hash, hash FROM audit_events WHERE seq > ?"
        args: list[object] = [after_seq]
        if type_:
            sql += " AND type = ?"
            args.append(type_)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for row in self.conn.execute(sql, args):
            yield StoredEvent(row[0], json.loads(row[1]), row[2], row[3])
