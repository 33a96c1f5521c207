"""Notices of campaigns: stored, queued on outbox messages, and marked as they leave."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_js, from_t, t
from appwarden.core.campaign import NoticeKind
from appwarden.core.notice import NewNotice, Notice, NoticeState

_N_COLS = (
    "id, campaign_id, kind, employee, locale, timezone, state, token, data, wave, outbox_id,"
    " sent_at"
)


def _notice(r: Any) -> Notice:
    return Notice(
        id=int(r[0]),
        campaign=r[1],
        kind=NoticeKind(r[2]),
        employee=r[3],
        locale=r[4],
        timezone=r[5],
        state=NoticeState(r[6]),
        token=r[7],
        data=from_js(r[8]) or {},
        wave=int(r[9]),
        outbox_id=r[10],
        sent_at=from_t(r[11]),
    )


class NoticeRows:
    """Mixed into SqliteCampaigns: the notices half of the `Campaigns` port."""

    conn: sqlite3.Connection

    # -- notices ---------------------------------------------------------------------------------
    def add_notices(self, notices: Iterable[NewNotice], at: datetime) -> None:
        stamp = t(at)
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.conn.executemany(
            "INSERT INTO notices (campaign_id, kind, employee, locale, timezone, wave, state,"
            " token, data, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    n.campaign,
                    n.kind.value,
                    n.employee,
                    n.locale,
                    n.timezone,
                    n.wave,
                    n.state.value,
                    n.token,
                    encode(n.data),
                    stamp,
                )
                for n in notices
            ),
        )

    def notices(
        self,
        campaign_id: str,
        states: Sequence[NoticeState] | None = None,
        wave: int | None = None,
        with_data: bool = True,
    ) -> list[Notice]:
        cols = _N_COLS if with_data else _N_COLS.replace(" data,", " '{}',")
        sql = f"SELECT {cols} FROM notices WHERE campaign_id = ?"  # noqa: S608
        args: list[Any] = [campaign_id]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args.extend(s.value for s in states)
        if wave is not None:
            sql += " AND wave = ?"
            args.append(wave)
        return [_notice(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def notices_of_message(self, outbox_id: int) -> list[Notice]:
        rows = self.conn.execute(
            f"SELECT {_N_COLS} FROM notices WHERE outbox_id = ? ORDER BY id",  # noqa: S608
            (outbox_id,),
        )
        return [_notice(r) for r in rows]

    def notice_by_token(self, token: str) -> Notice | None:
        row = self.conn.execute(
            f"SELECT {_N_COLS} FROM notices WHERE token = ?",  # noqa: S608
            (token,),
        ).fetchone()
        return _notice(row) if row else None

    def notice_counts(self, campaign_id: str, kind: NoticeKind | None = None) -> dict[str, int]:
        sql = "SELECT state, count(*) FROM notices WHERE campaign_id = ?"
        args: list[Any] = [campaign_id]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind.value)
        rows = self.conn.execute(sql + " GROUP BY state", args)
        return {r[0]: int(r[1]) for r in rows}

    def locales(self, campaign_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT locale FROM notices WHERE campaign_id = ? ORDER BY locale",
            (campaign_id,),
        )
        return [r[0] for r in rows]

    def replies(self, campaign_id: str) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM notices WHERE campaign_id = ? AND replied = 1", (campaign_id,)
        ).fetchone()
        return int(row[0])

    def set_notice_data(self, notice_id: int, data: dict[str, Any]) -> None:
        self.conn.execute(
            "UPDATE notices SET data = ? WHERE id = ?",
            (json.dumps(data, ensure_ascii=False, separators=(",", ":")), notice_id),
        )

    def set_notices(
        self,
        ids: Iterable[int],
        state: NoticeState,
        outbox_id: int | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        self.conn.executemany(
            "UPDATE notices SET state = ?, outbox_id = coalesce(?, outbox_id),"
            " sent_at = coalesce(?, sent_at) WHERE id = ?",
            ((state.value, outbox_id, t(sent_at), i) for i in ids),
        )

    def link_to_messages(self, links: Iterable[tuple[str, int]]) -> None:
        """Queue notices on the messages with these idempotency keys: (idem_key, notice id)."""
        self.conn.executemany(
            "UPDATE notices SET state = 'queued',"
            " outbox_id = (SELECT id FROM outbox WHERE idem_key = ?) WHERE id = ?",
            links,
        )

    def link_campaign_by_token(self, campaign_id: str, idem_prefix: str) -> None:
        """Queue a campaign's planned notices on the messages keyed `<prefix><token>`."""
        self.conn.execute(
            "UPDATE notices SET state = 'queued', outbox_id = (SELECT o.id FROM outbox o"
            " WHERE o.idem_key = ? || notices.token) WHERE campaign_id = ? AND state = 'planned'",
            (idem_prefix, campaign_id),
        )

    def cancel_unsent(self, campaign_id: str) -> list[int]:
        """Cancel every notice of the campaign that has not left; returns their outbox ids."""
        rows = self.conn.execute(
            "UPDATE notices SET state = 'cancelled' WHERE campaign_id = ?"
            " AND state IN ('planned', 'queued', 'held') RETURNING outbox_id",
            (campaign_id,),
        ).fetchall()
        return sorted({int(r[0]) for r in rows if r[0] is not None})

    def mark_replied(self, notice_id: int) -> None:
        self.conn.execute("UPDATE notices SET replied = 1 WHERE id = ?", (notice_id,))

    def received(self, campaign_id: str) -> list[Notice]:
        """Notices that reached (or may have reached) their recipient: sent, or in doubt.

        Only the recipient's name is read from the notice data (corrections need no more).
        """
        rows = self.conn.execute(
            "SELECT id, campaign_id, kind, employee, locale, timezone, state, token,"
            " json_extract(data, '$.name'), wave, outbox_id, sent_at FROM notices n"
            " WHERE campaign_id = ? AND (state = 'sent' OR (state IN ('queued', 'cancelled')"
            " AND EXISTS (SELECT 1 FROM outbox o WHERE o.id = n.outbox_id"
            " AND o.state = 'sending'))) ORDER BY id",
            (campaign_id,),
        )
        return [
            Notice(
                int(r[0]),
                r[1],
                NoticeKind(r[2]),
                r[3],
                r[4],
                r[5],
                NoticeState(r[6]),
                r[7],
                {"name": r[8] or ""},
                int(r[9]),
                r[10],
                from_t(r[11]),
            )
            for r in rows
        ]

    # -- reminders -------------------------------------------------------------------------------
    def reminders_done(self, campaign_id: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT offset_s FROM campaign_reminders WHERE campaign_id = ?", (campaign_id,)
        )
        return [int(r[0]) for r in rows]

    def add_reminder(self, campaign_id: str, offset_s: int, at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO campaign_reminders (campaign_id, offset_s, at) VALUES (?,?,?)",
            (campaign_id, offset_s, t(at)),
        )
