"""The outbox: messages waiting for, being handed to, or accepted by a relay."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_t, must_t, t
from appwarden.core.campaign import Mode
from appwarden.core.notice import Lane, OutboxMessage, OutboxState

_COLS = (
    "id, idem_key, message_id, to_addr, mode, lane, day, state, not_before, attempts,"
    " next_attempt_at, last_error, sent_at"
)


def _message(r: Any) -> OutboxMessage:
    return OutboxMessage(
        id=int(r[0]),
        idem_key=r[1],
        message_id=r[2],
        to_addr=r[3],
        mode=Mode(r[4]),
        lane=Lane(r[5]),
        day=r[6],
        state=OutboxState(r[7]),
        not_before=must_t(r[8]),
        attempts=int(r[9]),
        next_attempt_at=from_t(r[10]),
        last_error=r[11],
        sent_at=from_t(r[12]),
    )


class SqliteOutbox:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def daily_message(self, to_addr: str, day: str, mode: Mode) -> OutboxMessage | None:
        """The person's message of that local day (any state but cancelled), if any."""
        row = self.conn.execute(
            f"SELECT {_COLS} FROM outbox WHERE to_addr = ? AND day = ? AND mode = ?"  # noqa: S608
            " AND lane = 'daily' AND state <> 'cancelled'",
            (to_addr, day, mode.value),
        ).fetchone()
        return _message(row) if row else None

    def add(
        self,
        idem_key: str,
        message_id: str,
        to_addr: str,
        mode: Mode,
        lane: Lane,
        day: str,
        not_before: datetime,
        at: datetime,
    ) -> int:
        row = self.conn.execute(
            "INSERT INTO outbox (idem_key, message_id, to_addr, mode, lane, day, state,"
            " not_before, created_at) VALUES (?,?,?,?,?,?,'queued',?,?) RETURNING id",
            (idem_key, message_id, to_addr, mode.value, lane.value, day, t(not_before), t(at)),
        ).fetchone()
        return int(row[0])

    def add_many(
        self,
        rows: list[tuple[str, str, str, Mode, Lane, str]],
        not_before: datetime,
        at: datetime,
    ) -> None:
        """(idem_key, message_id, to_addr, mode, lane, day) rows, all due at `not_before`."""
        due, stamp = t(not_before), t(at)
        self.conn.executemany(
            "INSERT INTO outbox (idem_key, message_id, to_addr, mode, lane, day, state,"
            " not_before, created_at) VALUES (?,?,?,?,?,?,'queued',?,?)",
            (
                (i, m, to, mode.value, lane.value, day, due, stamp)
                for i, m, to, mode, lane, day in rows
            ),
        )

    def postpone(self, message_id: int, not_before: datetime) -> None:
        self.conn.execute(
            "UPDATE outbox SET not_before = max(not_before, ?) WHERE id = ?",
            (t(not_before), message_id),
        )

    def get(self, message_id: int) -> OutboxMessage | None:
        row = self.conn.execute(
            f"SELECT {_COLS} FROM outbox WHERE id = ?",  # noqa: S608
            (message_id,),
        ).fetchone()
        return _message(row) if row else None

    def by_message_id(self, message_id: str) -> OutboxMessage | None:
        row = self.conn.execute(
            f"SELECT {_COLS} FROM outbox WHERE message_id = ?",  # noqa: S608
            (message_id.strip("<>"),),
        ).fetchone()
        return _message(row) if row else None

    def claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Due queued messages become `sending` (one transaction: two senders never share one)."""
        stamp = t(now)
        rows = self.conn.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id IN"  # noqa: S608 (constant columns)
            " (SELECT id FROM outbox WHERE state = 'queued' AND not_before <= ?"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
            " ORDER BY lane = 'daily', not_before, id LIMIT ?)"
            f" RETURNING {_COLS}",
            (stamp, stamp, limit),
        ).fetchall()
        return sorted((_message(r) for r in rows), key=lambda m: (m.lane != Lane.URGENT, m.id))

    def in_doubt(self) -> list[OutboxMessage]:
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM outbox WHERE state = 'sending' ORDER BY id"  # noqa: S608
        )
        return [_message(r) for r in rows]

    def mark(
        self,
        message_id: int,
        state: OutboxState,
        at: datetime,
        *,
        error: str = "",
        retry_at: datetime | None = None,
        relay: str = "",
        reply: str = "",
    ) -> None:
        self.conn.execute(
            "UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ?,"
            " relay = CASE WHEN ? <> '' THEN ? ELSE relay END,"
            " relay_reply = CASE WHEN ? <> '' THEN ? ELSE relay_reply END,"
            " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
            (
                state.value,
                error[:500],
                t(retry_at),
                relay,
                relay,
                reply,
                reply[:500],
                state.value,
                t(at),
                message_id,
            ),
        )

    def cancel(self, ids: Iterable[int]) -> None:
        """Cancel queued messages that no longer carry any live notice."""
        self.conn.executemany(
            "UPDATE outbox SET state = 'cancelled' WHERE id = ? AND state = 'queued'"
            " AND NOT EXISTS (SELECT 1 FROM notices WHERE outbox_id = outbox.id"
            " AND state = 'queued')",
            ((i,) for i in ids),
        )

    def counts(self, ids_of_campaign: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT o.state, count(DISTINCT o.id) FROM outbox o JOIN notices n"
            " ON n.outbox_id = o.id WHERE n.campaign_id = ? GROUP BY o.state",
            (ids_of_campaign,),
        )
        return {r[0]: int(r[1]) for r in rows}

    def errors(self, campaign_id: str, limit: int = 20) -> list[tuple[str, str, int]]:
        rows = self.conn.execute(
            "SELECT DISTINCT o.to_addr, o.last_error, o.attempts FROM outbox o JOIN notices n"
            " ON n.outbox_id = o.id WHERE n.campaign_id = ? AND o.last_error <> ''"
            " AND o.state IN ('queued', 'failed') LIMIT ?",
            (campaign_id, limit),
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    # -- receipts: the crash-safe half of "sent" -------------------------------------------------
    def receipt(self, message_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT reply FROM outbox_receipts WHERE message_id = ?", (message_id,)
        ).fetchone()
        return row[0] if row else None

    def add_receipt(self, message_id: str, reply: str, at: datetime) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO outbox_receipts (message_id, reply, at) VALUES (?,?,?)",
            (message_id, reply[:500], t(at)),
        )
