"""Campaigns, their notices and the enforcement they announced."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_js, from_t, must_t, t
from appwarden.adapters.db.verdict_repo import decode_findings
from appwarden.core.campaign import Campaign, CampaignKind, CampaignStatus, Mode, NoticeKind
from appwarden.core.enforcement import Enforcement, EnforcementKey, EnforcementState
from appwarden.core.notice import NewNotice, Notice, NoticeState
from appwarden.core.policy import Action
from appwarden.core.verdict import Status, Verdict

_C_COLS = (
    "id, kind, mode, policy, version, status, author, created_at, deadline, parent, reason,"
    " blocks, previewed_digest, approved_digest, approved_by, approved_at, undo_until,"
    " recipients, waves, released_wave, wave_released_at, halt_reason, text_digest"
)
_N_COLS = (
    "id, campaign_id, kind, employee, locale, timezone, state, token, data, wave, outbox_id,"
    " sent_at"
)
_LIVE = ("approved", "sending", "sent", "halted")


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


class SqliteCampaigns:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

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

    def verdicts_to_announce(self, policy: str, version: int) -> list[Verdict]:
        """The policy version's verdicts that will take something away (enforce_at set).

        Findings and instants repeat across a fleet, so their decoding is shared.
        """
        rows = self.conn.execute(
            "SELECT device, status, action, findings, deadline, since, enforce_at FROM verdicts"
            " WHERE policy = ? AND version = ? AND enforce_at IS NOT NULL"
            " AND status IN ('pending', 'overdue', 'blocked', 'unknown')",
            (policy, version),
        )
        findings: dict[str, Any] = {}
        instants: dict[str | None, Any] = {None: None}
        out = []
        for device, status, action, found, deadline, since, enforce_at in rows:
            if found not in findings:
                findings[found] = decode_findings(found)
            for text in (deadline, since, enforce_at):
                if text not in instants:
                    instants[text] = from_t(text)
            out.append(
                Verdict(
                    device,
                    policy,
                    version,
                    Status(status),
                    Action(action),
                    findings[found],
                    deadline=instants[deadline],
                    since=instants[since],
                    enforce_at=instants[enforce_at],
                )
            )
        return out

    # -- enforcement -----------------------------------------------------------------------------
    def armed_keys(self) -> list[EnforcementKey]:
        rows = self.conn.execute(
            "SELECT device, policy, version, deadline FROM enforcements WHERE state = 'armed'"
        )
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def announced_keys(self, policy: str) -> set[EnforcementKey]:
        """Keys some live campaign already announces (approved or armed)."""
        rows = self.conn.execute(
            "SELECT e.device, e.policy, e.version, e.deadline FROM enforcements e"  # noqa: S608 (placeholders only)
            " JOIN campaigns c ON c.id = e.campaign_id"
            " WHERE e.policy = ? AND e.state IN ('approved', 'armed')"
            f" AND c.status IN ({','.join('?' * len(_LIVE))})",
            (policy, *_LIVE),
        )
        return {(r[0], r[1], int(r[2]), r[3]) for r in rows}

    def told_employees(self, policy: str) -> set[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT employee FROM enforcements WHERE policy = ? AND state = 'armed'",
            (policy,),
        )
        return {r[0] for r in rows}

    def add_enforcements(self, items: Iterable[Enforcement], at: datetime) -> None:
        self.conn.executemany(
            "INSERT INTO enforcements (campaign_id, device, policy, version, deadline, employee,"
            " state, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                (
                    e.campaign,
                    e.device,
                    e.policy,
                    e.version,
                    t(e.deadline),
                    e.employee,
                    e.state.value,
                    t(at),
                )
                for e in items
            ),
        )

    def set_enforcement(
        self,
        campaign_id: str,
        state: EnforcementState,
        at: datetime,
        employees: Sequence[str] | None = None,
        only: Sequence[EnforcementState] = (EnforcementState.APPROVED, EnforcementState.ARMED),
    ) -> list[EnforcementKey]:
        """Move a campaign's enforcement (optionally only some employees') to `state`.

        Returns the keys that changed.
        """
        states = [s.value for s in only]
        where = f"campaign_id = ? AND state IN ({','.join('?' * len(states))})"
        args: list[Any] = [campaign_id, *states]
        if employees is not None and len(employees) <= 500:
            where += f" AND employee IN ({','.join('?' * len(employees))})"
            args.extend(employees)
        elif employees is not None:
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _emails (email TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM _emails")
            self.conn.executemany(
                "INSERT OR IGNORE INTO _emails VALUES (?)", ((e,) for e in employees)
            )
            where += " AND employee IN (SELECT email FROM _emails)"
        rows = self.conn.execute(
            f"UPDATE enforcements SET state = ?, updated_at = ? WHERE {where}"  # noqa: S608
            " RETURNING device, policy, version, deadline",
            (state.value, t(at), *args),
        ).fetchall()
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def enforcement_counts(self, campaign_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT state, count(*) FROM enforcements WHERE campaign_id = ? GROUP BY state",
            (campaign_id,),
        )
        return {r[0]: int(r[1]) for r in rows}

    def enforcements(self, campaign_id: str) -> list[Enforcement]:
        rows = self.conn.execute(
            "SELECT campaign_id, device, policy, version, deadline, employee, state"
            " FROM enforcements WHERE campaign_id = ? ORDER BY device",
            (campaign_id,),
        )
        return [
            Enforcement(r[0], r[1], r[2], int(r[3]), must_t(r[4]), r[5], EnforcementState(r[6]))
            for r in rows
        ]

    def live_enforcement_for(self, device: str, policy: str) -> Enforcement | None:
        row = self.conn.execute(
            "SELECT campaign_id, device, policy, version, deadline, employee, state"
            " FROM enforcements WHERE device = ? AND policy = ? AND state = 'armed'"
            " ORDER BY updated_at DESC LIMIT 1",
            (device, policy),
        ).fetchone()
        if row is None:
            return None
        return Enforcement(
            row[0],
            row[1],
            row[2],
            int(row[3]),
            must_t(row[4]),
            row[5],
            EnforcementState(row[6]),
        )

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
