"""Announced enforcement, and the verdicts a campaign announces."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_t, must_t, t
from appwarden.adapters.db.verdict_repo import decode_findings
from appwarden.core.enforcement import (
    CHANGE_KIND,
    Enforcement,
    EnforcementKey,
    EnforcementState,
)
from appwarden.core.policy import Action
from appwarden.core.verdict import Status, Verdict
from appwarden.services.ports import ChangeRecorder

LIVE = ("approved", "sending", "sent", "halted")


class EnforcementRows:
    """Mixed into SqliteCampaigns: the enforcement half of the `Campaigns` port."""

    conn: sqlite3.Connection
    changes: ChangeRecorder | None

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
            f" AND c.status IN ({','.join('?' * len(LIVE))})",
            (policy, *LIVE),
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
        devices: Sequence[str] | None = None,
    ) -> list[EnforcementKey]:
        """Move a campaign's enforcement (optionally only some employees', and of those only
        some devices: the ones a notice named) to `state`.

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
        if devices is not None:  # one notice's devices: a handful
            where += f" AND device IN ({','.join('?' * len(devices))})"
            args.extend(devices)
        rows = self.conn.execute(
            f"UPDATE enforcements SET state = ?, updated_at = ? WHERE {where}"  # noqa: S608
            " RETURNING device, policy, version, deadline",
            (state.value, t(at), *args),
        ).fetchall()
        keys = [(r[0], r[1], int(r[2]), r[3]) for r in rows]
        if self.changes is not None and keys and state is not EnforcementState.APPROVED:
            # running servers re-derive these devices' decisions (services/sync.py)
            self.changes.record(CHANGE_KIND, sorted({k[0] for k in keys}))
        return keys

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
