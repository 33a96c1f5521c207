"""The decision log table (migration 0200): batched appends, tail reads, pruning."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from appwarden.services.ports import LoggedDecision

_COLUMNS = (
    "decision_id, at, revision, protocol, identity, user, device, allow, result, code, policies"
)


_encode = msgspec.json.Encoder().encode
_INSERT = (
    f"INSERT INTO decision_log ({_COLUMNS}) SELECT "  # noqa: S608 (constant column list)
    + ", ".join(f"json_extract(value, '$[{i}]')" for i in range(11))
    + " FROM json_each(?)"
)


class SqliteDecisionLog:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def append(self, rows: Sequence[LoggedDecision]) -> None:
        """One statement for the whole batch: the rows travel as one JSON text, so the
        insert runs in SQLite without going back to Python (and without the GIL) per row."""
        self.append_encoded([_encode(rows)])

    def append_encoded(self, chunks: Sequence[bytes]) -> None:
        """Rows already encoded as JSON arrays of LoggedDecision tuples (the server encodes
        them on its event loop, so this thread hardly needs the GIL)."""
        for chunk in chunks:
            self.conn.execute(_INSERT, (chunk,))

    def tail(
        self,
        after_seq: int = 0,
        limit: int = 50,
        result: str | None = None,
        policy: str | None = None,
    ) -> list[dict[str, Any]]:
        """The last `limit` rows after `after_seq`, oldest first."""
        where = ["seq > ?"]
        args: list[Any] = [after_seq]
        if result:
            where.append("result = ?")
            args.append(result)
        if policy:
            where.append("(',' || policies || ',') LIKE ?")
            args.append(f"%,{policy},%")
        sql = (
            f"SELECT seq, {_COLUMNS} FROM decision_log WHERE {' AND '.join(where)}"  # noqa: S608
            " ORDER BY seq DESC LIMIT ?"
        )
        args.append(limit)
        rows = self.conn.execute(sql, args).fetchall()
        names = ["seq", *(c.strip() for c in _COLUMNS.split(","))]
        out = [dict(zip(names, row, strict=True)) for row in reversed(rows)]
        for row in out:
            row["allow"] = bool(row["allow"])
            row["policies"] = [p for p in (row["policies"] or "").split(",") if p]
        return out

    def prune(self, before: str) -> int:
        """Delete rows older than `before` (formatted like the rows' `at`). Rows are appended
        in time order, so the first row to keep is found by walking seq, without an index."""
        first_kept = self.conn.execute(
            "SELECT seq FROM decision_log WHERE at >= ? ORDER BY seq LIMIT 1", (before,)
        ).fetchone()
        if first_kept is None:
            return self.conn.execute("DELETE FROM decision_log").rowcount
        return self.conn.execute(
            "DELETE FROM decision_log WHERE seq < ?", (first_kept[0],)
        ).rowcount
