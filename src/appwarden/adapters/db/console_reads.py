"""Indexed, keyset-paginated reads for the console. Each query walks an index over at most one
page of rows (or one policy's verdicts); none of them reads the whole fleet."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from appwarden.adapters.db.codec import from_js
from appwarden.core.events import StoredEvent
from appwarden.services.ports import Page

_DEVICE_COLS = "d.id, d.key, d.owner_email, d.platform, d.ownership, d.visibility, d.name"
_HIGH = "\U0010ffff"  # sorts after every character: the end of a prefix range


def _device_row(row: Any) -> dict[str, Any]:
    return {
        "key": row[1],
        "owner": row[2] or "",
        "platform": row[3],
        "ownership": row[4],
        "visibility": row[5],
        "name": row[6],
    }


def _page(rows: list[Any], limit: int, shape: Any, cursor: Any) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([shape(r) for r in rows], cursor(rows[-1]) if more and rows else None)


class SqliteConsoleReads:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def search_devices(self, query: str, after: str, limit: int) -> Page:
        query = query.strip()
        if "@" in query:
            # owner e-mail prefix, walking devices_owner (owner_email, rowid)
            owner, _, rowid = after.partition("\t")
            sql = (
                f"SELECT {_DEVICE_COLS} FROM devices d"  # noqa: S608
                " WHERE d.owner_email >= ? AND d.owner_email < ?"
                " AND (d.owner_email, d.id) > (?, ?) ORDER BY d.owner_email, d.id LIMIT ?"
            )
            low = query.lower()
            rows = self.conn.execute(
                sql, (low, low + _HIGH, owner, int(rowid or 0), limit + 1)
            ).fetchall()
            return _page(rows, limit, _device_row, lambda r: f"{r[2]}\t{r[0]}")
        rows = self.conn.execute(
            f"SELECT {_DEVICE_COLS} FROM devices d"  # noqa: S608
            " WHERE d.key >= ? AND d.key < ? AND d.key > ? ORDER BY d.key LIMIT ?",
            (query, query + _HIGH, after, limit + 1),
        ).fetchall()
        return _page(rows, limit, _device_row, lambda r: r[1])

    def devices_with_status(self, policy: str, status: str, after: str, limit: int) -> Page:
        rows = self.conn.execute(
            f"SELECT {_DEVICE_COLS} FROM verdicts v JOIN devices d ON d.key = v.device"  # noqa: S608
            " WHERE v.policy = ? AND v.status = ? AND v.device > ? ORDER BY v.device LIMIT ?",
            (policy, status, after, limit + 1),
        ).fetchall()
        return _page(rows, limit, _device_row, lambda r: r[1])

    def search_employees(self, query: str, after: str, limit: int) -> Page:
        query = query.strip()
        cols = "id, email, name, department, country, timezone, locale"

        def shape(r: Any) -> dict[str, Any]:
            return {
                "email": r[1],
                "name": r[2],
                "department": r[3],
                "country": r[4],
                "timezone": r[5],
                "locale": r[6],
            }

        if not query or "@" in query:
            low = query.lower()
            rows = self.conn.execute(
                f"SELECT {cols} FROM employees WHERE email >= ? AND email < ? AND email > ?"  # noqa: S608
                " ORDER BY email LIMIT ?",
                (low, low + _HIGH, after, limit + 1),
            ).fetchall()
            return _page(rows, limit, shape, lambda r: r[1])
        name, _, rowid = after.partition("\t")
        rows = self.conn.execute(
            f"SELECT {cols} FROM employees INDEXED BY employees_name"  # noqa: S608
            " WHERE name >= ? COLLATE NOCASE AND name < ? COLLATE NOCASE"
            " AND (name COLLATE NOCASE, id) > (?, ?)"
            " ORDER BY name COLLATE NOCASE, id LIMIT ?",
            (query, query + _HIGH, name, int(rowid or 0), limit + 1),
        ).fetchall()
        return _page(rows, limit, shape, lambda r: f"{r[2]}\t{r[0]}")

    def status_counts(self, policy: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT status, count(*) FROM verdicts WHERE policy = ? GROUP BY status", (policy,)
        )
        return {str(s): int(n) for s, n in rows}

    def device_transitions(self, key: str, limit: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, policy, kind, old_status, new_status, at, detail FROM transitions"
            " WHERE device = ? ORDER BY id DESC LIMIT ?",
            (key, limit),
        ).fetchall()
        keys = ("id", "policy", "kind", "old", "new", "at", "detail")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["detail"] = from_js(item["detail"])
            out.append(item)
        return out

    def policy_transitions(self, policy: str, after_id: int, limit: int) -> list[Any]:
        return self.conn.execute(
            "SELECT id, old_status, new_status, at FROM transitions"
            " WHERE policy = ? AND id > ? ORDER BY id LIMIT ?",
            (policy, after_id, limit),
        ).fetchall()

    def audit_page(
        self, type_: str, actor: str, subject: str, before_seq: int, limit: int
    ) -> list[StoredEvent]:
        clauses: list[str] = ["seq < ?"]
        args: list[object] = [before_seq or 2**62]
        for column, value in (("type", type_), ("actor", actor), ("subject", subject)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        rows = self.conn.execute(
            "SELECT seq, body, prev_hash, hash FROM audit_events WHERE "  # noqa: S608
            + " AND ".join(clauses)
            + " ORDER BY seq DESC LIMIT ?",
            (*args, limit),
        )
        return [StoredEvent(r[0], json.loads(r[1]), r[2], r[3]) for r in rows]
