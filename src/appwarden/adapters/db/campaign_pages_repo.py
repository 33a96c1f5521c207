"""Reads and the preview cache behind the console's campaign pages (the `CampaignPages` port).

Every query walks an index: campaigns by creation (keyset pages), one campaign's notices by
(campaign_id, state, wave), one preview row by its key.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from appwarden.adapters.db.campaign_repo import _C_COLS, _campaign
from appwarden.adapters.db.codec import from_js, js, must_t, t
from appwarden.core.campaign import Campaign
from appwarden.services.ports import StoredPreview


class SqliteCampaignPages:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def put_preview(self, preview: StoredPreview) -> None:
        self.conn.execute(
            "INSERT INTO campaign_previews (campaign_id, digest, taken_by, taken_at, body)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id) DO UPDATE SET"
            " digest = excluded.digest, taken_by = excluded.taken_by,"
            " taken_at = excluded.taken_at, body = excluded.body",
            (
                preview.campaign,
                preview.digest,
                preview.taken_by,
                t(preview.taken_at),
                js(preview.body),
            ),
        )

    def preview(self, campaign_id: str) -> StoredPreview | None:
        row = self.conn.execute(
            "SELECT campaign_id, digest, taken_by, taken_at, body FROM campaign_previews"
            " WHERE campaign_id = ?",
            (campaign_id,),
        ).fetchone()
        if row is None:
            return None
        return StoredPreview(row[0], row[1], row[2], must_t(row[3]), from_js(row[4]))

    def page(self, policy: str, before: str, limit: int) -> tuple[list[Campaign], str | None]:
        """Newest first; `before` is the cursor of the previous page ("" for the first)."""
        sql = f"SELECT {_C_COLS} FROM campaigns WHERE 1=1"  # noqa: S608
        args: list[Any] = []
        if policy:
            sql += " AND policy = ?"
            args.append(policy)
        if before:
            at, _, cid = before.partition("\t")
            sql += " AND (created_at, id) < (?, ?)"
            args += [at, cid]
        rows = self.conn.execute(
            sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*args, limit + 1]
        ).fetchall()
        found = [_campaign(r) for r in rows[:limit]]
        more = len(rows) > limit and found
        cursor = f"{t(found[-1].created_at)}\t{found[-1].id}" if more else None
        return found, cursor

    def wave_counts(self, campaign_id: str) -> dict[int, dict[str, int]]:
        """Notices per wave and state: {wave: {state: count}}."""
        out: dict[int, dict[str, int]] = {}
        for wave, state, count in self.conn.execute(
            "SELECT wave, state, count(*) FROM notices WHERE campaign_id = ?"
            " GROUP BY wave, state ORDER BY wave",
            (campaign_id,),
        ):
            out.setdefault(int(wave), {})[state] = int(count)
        return out

    def sent_between(self, campaign_id: str) -> tuple[datetime | None, datetime | None]:
        row = self.conn.execute(
            # only notices that left carry sent_at: walk those through (campaign_id, state)
            "SELECT min(sent_at), max(sent_at) FROM notices WHERE campaign_id = ?"
            " AND state IN ('sent', 'bounced')",
            (campaign_id,),
        ).fetchone()
        return (must_t(row[0]) if row[0] else None, must_t(row[1]) if row[1] else None)
