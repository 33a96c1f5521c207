"""Verdicts (sparse), assessment runs and the transitions they produced."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_js, from_t, js, t
from appwarden.core.matching import Confidence
from appwarden.core.policy import Action
from appwarden.core.verdict import (
    Finding,
    FindingKind,
    Status,
    Transition,
    Verdict,
    VerdictKey,
)
from appwarden.services.ports import ChangeRecorder

_COLS = (
    "device, policy, version, status, action, findings, deadline, until, since, enforce_at,"
    " exemption"
)


def encode_findings(findings: tuple[Finding, ...]) -> str:
    return js([[f.kind.value, f.app, f.app_name, f.detail, f.confidence.value] for f in findings])


def decode_findings(text: str) -> tuple[Finding, ...]:
    return tuple(
        Finding(FindingKind(k), app, name, detail, Confidence(conf))
        for k, app, name, detail, conf in from_js(text) or []
    )


def _verdict(row: Any) -> Verdict:
    return Verdict(
        device=row[0],
        policy=row[1],
        version=int(row[2]),
        status=Status(row[3]),
        action=Action(row[4]),
        findings=decode_findings(row[5]),
        deadline=from_t(row[6]),
        until=from_t(row[7]),
        since=from_t(row[8]),
        enforce_at=from_t(row[9]),
        exemption=row[10],
    )


def verdict_summary(v: Verdict | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "status": v.status.value,
        "version": v.version,
        "apps": list(v.apps),
        "deadline": t(v.deadline),
        "until": t(v.until),
        "enforce_at": t(v.enforce_at),
    }


MANY = 1000  # above this many verdict rows, the change log says "all" rather than each device


class SqliteVerdicts:
    def __init__(self, conn: sqlite3.Connection, changes: ChangeRecorder) -> None:
        self.conn = conn
        self.changes = changes

    def all(self) -> dict[VerdictKey, Verdict]:
        rows = self.conn.execute(f"SELECT {_COLS} FROM verdicts")  # noqa: S608
        return {(row[0], row[1]): _verdict(row) for row in rows}

    def for_device(self, device: str) -> list[Verdict]:
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM verdicts WHERE device = ? ORDER BY policy",  # noqa: S608
            (device,),
        )
        return [_verdict(row) for row in rows]

    def for_policy(self, slug: str) -> dict[str, Verdict]:
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM verdicts WHERE policy = ?",  # noqa: S608
            (slug,),
        )
        return {row[0]: _verdict(row) for row in rows}

    def write(
        self, changed: Iterable[Verdict], removed: Iterable[VerdictKey], at: datetime
    ) -> None:
        changed = list(changed)
        removed = list(removed)
        devices = {v.device for v in changed} | {d for d, _ in removed}
        if len(devices) > MANY:
            self.changes.record("verdicts", [""])
        elif devices:
            self.changes.record("verdicts", sorted(devices))
        stamp = t(at)
        self.conn.executemany(
            f"INSERT INTO verdicts ({_COLS}, assessed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
            " ON CONFLICT (device, policy) DO UPDATE SET version=excluded.version,"
            " status=excluded.status, action=excluded.action, findings=excluded.findings,"
            " deadline=excluded.deadline, until=excluded.until, since=excluded.since,"
            " enforce_at=excluded.enforce_at, exemption=excluded.exemption,"
            " assessed_at=excluded.assessed_at",
            (
                (
                    v.device,
                    v.policy,
                    v.version,
                    v.status.value,
                    v.action.value,
                    encode_findings(v.findings),
                    t(v.deadline),
                    t(v.until),
                    t(v.since),
                    t(v.enforce_at),
                    v.exemption,
                    stamp,
                )
                for v in changed
            ),
        )
        self.conn.executemany(
            "DELETE FROM verdicts WHERE device = ? AND policy = ?", ((d, p) for d, p in removed)
        )

    def record_assessment(
        self,
        at: datetime,
        started: datetime,
        duration_ms: float,
        trigger: str,
        counts: Mapping[str, Mapping[str, int]],
        transitions: Sequence[Transition],
    ) -> int:
        row = self.conn.execute(
            "INSERT INTO assessments (at, started_at, duration_ms, trigger, counts, transitions)"
            " VALUES (?,?,?,?,?,?) RETURNING id",
            (t(at), t(started), duration_ms, trigger, js(counts), len(transitions)),
        ).fetchone()
        assessment_id = int(row[0])
        self.conn.executemany(
            "INSERT INTO transitions (assessment_id, device, policy, kind, old_status,"
            " new_status, detail, at) VALUES (?,?,?,?,?,?,?,?)",
            (
                (
                    assessment_id,
                    tr.device,
                    tr.policy,
                    tr.kind.value,
                    tr.old_status.value if tr.old_status else None,
                    tr.new_status.value,
                    js({"old": verdict_summary(tr.old), "new": verdict_summary(tr.new)}),
                    t(tr.at),
                )
                for tr in transitions
            ),
        )
        return assessment_id

    def transitions(self, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, assessment_id, device, policy, kind, old_status, new_status, detail, at"
            " FROM transitions WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        keys = ("id", "assessment", "device", "policy", "kind", "old", "new", "detail", "at")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["detail"] = from_js(item["detail"])
            out.append(item)
        return out
