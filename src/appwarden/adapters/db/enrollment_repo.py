"""Enrolment codes and per-device credentials (hashes only), and attestation lookups."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_t, must_t, t
from appwarden.core.exemptions import Attestation
from appwarden.services.ports import ChangeRecorder, DeviceCredential, EnrollmentCode

_CODE_COLS = (
    "id, owner, ownership, device_key, created_by, created_at, expires_at, used_at, used_by"
)
_CRED_COLS = (
    "c.id, d.key, c.created_at, c.code_id, c.revoked_at, c.last_used_at"
    " FROM device_credentials c JOIN devices d ON d.id = c.device_id"
)


def _code(row: Any) -> EnrollmentCode:
    return EnrollmentCode(
        row[0], row[1], row[2], row[3], row[4], must_t(row[5]), must_t(row[6]),
        from_t(row[7]), row[8],
    )  # fmt: skip


def _credential(row: Any) -> DeviceCredential:
    return DeviceCredential(row[0], row[1], must_t(row[2]), row[3], from_t(row[4]), from_t(row[5]))


class SqliteEnrollments:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add_code(self, code: EnrollmentCode, code_hash: str) -> None:
        self.conn.execute(
            "INSERT INTO enrollment_codes (id, code_hash, owner, ownership, device_key,"
            " created_by, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                code.id,
                code_hash,
                code.owner,
                code.ownership,
                code.device_key,
                code.created_by,
                t(code.created_at),
                t(code.expires_at),
            ),
        )

    def code_by_hash(self, code_hash: str) -> EnrollmentCode | None:
        row = self.conn.execute(
            f"SELECT {_CODE_COLS} FROM enrollment_codes WHERE code_hash = ?",  # noqa: S608
            (code_hash,),
        ).fetchone()
        return _code(row) if row else None

    def use_code(self, code_id: str, at: datetime, device_key: str) -> bool:
        cur = self.conn.execute(
            "UPDATE enrollment_codes SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL",
            (t(at), device_key, code_id),
        )
        return cur.rowcount == 1

    def codes(self, include_used: bool = False) -> list[EnrollmentCode]:
        sql = f"SELECT {_CODE_COLS} FROM enrollment_codes"  # noqa: S608
        if not include_used:
            sql += " WHERE used_at IS NULL"
        return [_code(r) for r in self.conn.execute(sql + " ORDER BY created_at, id")]

    def add_credential(self, credential: DeviceCredential, secret_hash: str) -> None:
        self.conn.execute(
            "INSERT INTO device_credentials (id, device_id, secret_hash, code_id, created_at)"
            " VALUES (?, (SELECT id FROM devices WHERE key = ?), ?, ?, ?)",
            (
                credential.id,
                credential.device,
                secret_hash,
                credential.code_id,
                t(credential.created_at),
            ),
        )

    def credential_by_hash(self, secret_hash: str) -> DeviceCredential | None:
        row = self.conn.execute(
            f"SELECT {_CRED_COLS} WHERE c.secret_hash = ?",
            (secret_hash,),
        ).fetchone()
        return _credential(row) if row else None

    def credentials(self, device_key: str | None = None) -> list[DeviceCredential]:
        if device_key is None:
            rows = self.conn.execute(f"SELECT {_CRED_COLS} ORDER BY c.created_at")
        else:
            rows = self.conn.execute(
                f"SELECT {_CRED_COLS} WHERE d.key = ? ORDER BY c.created_at",
                (device_key,),
            )
        return [_credential(r) for r in rows]

    def revoke_credentials(self, device_key: str, at: datetime, by: str) -> list[str]:
        rows = self.conn.execute(
            "UPDATE device_credentials SET revoked_at = ?, revoked_by = ? WHERE revoked_at IS NULL"
            " AND device_id = (SELECT id FROM devices WHERE key = ?) RETURNING id",
            (t(at), by, device_key),
        ).fetchall()
        return [str(r[0]) for r in rows]


class SqliteAttestations:
    _COLS = "id, device, policy, employee, statement, signed_at, expires_at, signature, revoked_at"

    def __init__(self, conn: sqlite3.Connection, changes: ChangeRecorder) -> None:
        self.conn = conn
        self.changes = changes

    def get(self, attestation_id: str) -> Attestation | None:
        row = self.conn.execute(
            f"SELECT {self._COLS} FROM attestations WHERE id = ?",  # noqa: S608
            (attestation_id,),
        ).fetchone()
        return _attestation(row) if row else None

    def for_device(self, device: str) -> list[Attestation]:
        rows = self.conn.execute(
            f"SELECT {self._COLS} FROM attestations WHERE device = ?"  # noqa: S608
            " ORDER BY signed_at, id",
            (device,),
        )
        return [_attestation(r) for r in rows]

    def revoke(self, attestation_id: str, at: datetime) -> bool:
        cur = self.conn.execute(
            "UPDATE attestations SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (t(at), attestation_id),
        )
        if cur.rowcount == 1:
            self.changes.record("attestation", [attestation_id])
        return cur.rowcount == 1


def _attestation(r: Any) -> Attestation:
    return Attestation(r[0], r[1], r[2], r[3], r[4], must_t(r[5]), must_t(r[6]), r[7], from_t(r[8]))
