"""The decision log table (migration 0200): batched appends, tail reads, pruning."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from appwarden.services.ports import LoggedDecision

_COLUMNS = (
    "decision_id, at, revision, protocol, identity, user, device, allow, result, code, policies"
)


_INSERT_ROWS = f"INSERT INTO decision_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608


class SqliteDecisionLog:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def append(self, rows: Sequence[LoggedDecision]) -> None:
        """executemany over the row tuples: about 2 us per row, less than encoding the batch
        as JSON and unpacking it with json_each (measured with the nginx_auth benchmark)."""
        self.conn.executemany(_INSERT_ROWS, rows)

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
        return _as_dicts(reversed(self.conn.execute(sql, args).fetchall()))

    def for_device(self, device: str, limit: int = 20) -> list[dict[str, Any]]:
        """The device's last `limit` decisions, newest first (index decision_log_device)."""
        if not device:
            return []
        return _as_dicts(
            self.conn.execute(
                f"SELECT seq, {_COLUMNS} FROM decision_log"  # noqa: S608
                " WHERE device = ? AND device <> '' ORDER BY seq DESC LIMIT ?",
                (device, limit),
            ).fetchall()
        )

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


_NAMES = ["seq", *(c.strip() for c in _COLUMNS.split(","))]


def _as_dicts(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    out = [dict(zip(_NAMES, row, strict=True)) for row in rows]
    for row in out:
        row["allow"] = bool(row["allow"])
        row["policies"] = [p for p in (row["policies"] or "").split(",") if p]
    return out
