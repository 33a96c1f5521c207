"""Campaigns, their notices and the enforcement they announced."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_t, must_t, t
from appwarden.adapters.db.enforcement_repo import EnforcementRows
from appwarden.adapters.db.notice_repo import NoticeRows
from appwarden.core.campaign import Campaign, CampaignKind, CampaignStatus, Mode
from appwarden.services.ports import ChangeRecorder

_C_COLS = (
    "id, kind, mode, policy, version, status, author, created_at, deadline, parent, reason,"
    " blocks, previewed_digest, approved_digest, approved_by, approved_at, undo_until,"
    " recipients, waves, released_wave, wave_released_at, halt_reason, text_digest"
)


def _campaign(r: Any) -> Campaign:
    return Campaign(
        id=r[0],
        kind=CampaignKind(r[1]),
        mode=Mode(r[2]),
        policy=r[3],
        version=int(r[4]),
        status=CampaignStatus(r[5]),
        author=r[6],
        created_at=must_t(r[7]),
        deadline=from_t(r[8]),
        parent=r[9],
        reason=r[10],
        blocks=bool(r[11]),
        previewed_digest=r[12],
        approved_digest=r[13],
        approved_by=r[14],
        approved_at=from_t(r[15]),
        undo_until=from_t(r[16]),
        recipients=int(r[17]),
        waves=int(r[18]),
        released_wave=int(r[19]),
        wave_released_at=from_t(r[20]),
        halt_reason=r[21],
        text_digest=r[22],
    )


def _campaign_row(c: Campaign) -> tuple[Any, ...]:
    return (
        c.id,
        c.kind.value,
        c.mode.value,
        c.policy,
        c.version,
        c.status.value,
        c.author,
        t(c.created_at),
        t(c.deadline),
        c.parent,
        c.reason,
        int(c.blocks),
        c.previewed_digest,
        c.approved_digest,
        c.approved_by,
        t(c.approved_at),
        t(c.undo_until),
        c.recipients,
        c.waves,
        c.released_wave,
        t(c.wave_released_at),
        c.halt_reason,
        c.text_digest,
    )


class SqliteCampaigns(EnforcementRows, NoticeRows):
    """Campaigns, their notices and the enforcement they announced (the `Campaigns` port)."""

    def __init__(self, conn: sqlite3.Connection, changes: ChangeRecorder | None = None) -> None:
        self.conn = conn
        self.changes = changes

    # -- campaigns -------------------------------------------------------------------------------
    def add(self, campaign: Campaign, at: datetime) -> None:
        marks = ",".join("?" * 24)
        self.conn.execute(
            f"INSERT INTO campaigns ({_C_COLS}, updated_at) VALUES ({marks})",  # noqa: S608
            (*_campaign_row(campaign), t(at)),
        )

    def save(self, campaign: Campaign, at: datetime) -> None:
        cols = [c.strip() for c in _C_COLS.split(",")][1:]
        sets = ", ".join(f"{c} = ?" for c in cols)
        row = _campaign_row(campaign)
        self.conn.execute(
            f"UPDATE campaigns SET {sets}, updated_at = ? WHERE id = ?",  # noqa: S608
            (*row[1:], t(at), campaign.id),
        )

    def get(self, campaign_id: str) -> Campaign | None:
        row = self.conn.execute(
            f"SELECT {_C_COLS} FROM campaigns WHERE id = ?",  # noqa: S608
            (campaign_id,),
        ).fetchone()
        return _campaign(row) if row else None

    def find(
        self, policy: str | None = None, statuses: Sequence[str] | None = None
    ) -> list[Campaign]:
        sql = f"SELECT {_C_COLS} FROM campaigns WHERE 1=1"  # noqa: S608
        args: list[Any] = []
        if policy:
            sql += " AND policy = ?"
            args.append(policy)
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            args.extend(statuses)
        rows = self.conn.execute(sql + " ORDER BY created_at, id", args).fetchall()
        return [_campaign(r) for r in rows]

    def children(self, parent: str) -> list[Campaign]:
        rows = self.conn.execute(
            f"SELECT {_C_COLS} FROM campaigns WHERE parent = ? ORDER BY created_at",  # noqa: S608
            (parent,),
        ).fetchall()
        return [_campaign(r) for r in rows]

    # -- cursor over transitions -----------------------------------------------------------------
    def cursor(self, name: str) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def set_cursor(self, name: str, value: int) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (name, str(value)),
        )
