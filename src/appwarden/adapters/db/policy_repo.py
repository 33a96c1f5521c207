"""Policy versions: every apply keeps the previous version, who applied it, and why."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from appwarden.adapters.db.codec import from_t, js, must_t, t
from appwarden.core.policy import PolicyVersion
from appwarden.core.policy_data import policy_to_data
from appwarden.core.policy_spec import policy_from_data
from appwarden.services.ports import ChangeRecorder, StoredPolicy

_COLUMNS = (
    "v.spec, v.source, v.version, v.published_at, v.deadline_at, v.applied_by, v.reason, v.digest"
)


class SqlitePolicies:
    def __init__(self, conn: sqlite3.Connection, changes: ChangeRecorder) -> None:
        self.conn = conn
        self.changes = changes

    def current(self, slug: str) -> StoredPolicy | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS}, p.active FROM policies p JOIN policy_versions v"  # noqa: S608
            " ON v.slug = p.slug AND v.version = p.current_version WHERE p.slug = ?",
            (slug,),
        ).fetchone()
        return _stored(row) if row else None

    def active(self) -> list[StoredPolicy]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS}, p.active FROM policies p JOIN policy_versions v"  # noqa: S608
            " ON v.slug = p.slug AND v.version = p.current_version WHERE p.active = 1"
            " ORDER BY p.slug"
        ).fetchall()
        return [_stored(row) for row in rows]

    def history(self, slug: str) -> list[StoredPolicy]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS}, 1 FROM policy_versions v WHERE v.slug = ?"  # noqa: S608
            " ORDER BY v.version",
            (slug,),
        ).fetchall()
        return [_stored(row) for row in rows]

    def add_version(self, version: PolicyVersion, source: str) -> None:
        self.conn.execute(
            "INSERT INTO policy_versions (slug, version, spec, source, digest, published_at,"
            " deadline_at, applied_by, reason) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                version.slug,
                version.version,
                js(policy_to_data(version.policy)),
                source,
                version.digest,
                t(version.published_at),
                t(version.deadline_at),
                version.applied_by,
                version.reason,
            ),
        )
        self.conn.execute(
            "INSERT INTO policies (slug, current_version, active) VALUES (?, ?, 1)"
            " ON CONFLICT (slug) DO UPDATE SET current_version = excluded.current_version,"
            " active = 1",
            (version.slug, version.version),
        )
        self.changes.record("policy", [version.slug])

    def retire(self, slug: str) -> None:
        self.conn.execute("UPDATE policies SET active = 0 WHERE slug = ?", (slug,))
        self.changes.record("policy", [slug])


# Parsed policy rows, keyed by the row itself: every batch of check-ins re-assesses against the
# active policies, and parsing a stored spec costs more than reading it. Immutable values only.
_PARSED: dict[tuple[Any, ...], StoredPolicy] = {}


def _stored(row: Any) -> StoredPolicy:
    key = tuple(row)
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= 512:
            _PARSED.clear()
        found = _PARSED[key] = _parse(row)
    return found


def _parse(row: Any) -> StoredPolicy:
    policy = policy_from_data(json.loads(row[0]), origin="stored policy")
    version = PolicyVersion(
        policy=policy,
        version=int(row[2]),
        published_at=must_t(row[3]),
        deadline_at=from_t(row[4]),
        applied_by=row[5],
        reason=row[6],
        digest=row[7],
    )
    return StoredPolicy(version, row[1], bool(row[8]))
