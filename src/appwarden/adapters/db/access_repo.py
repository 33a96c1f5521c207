"""Exemptions, attestations and API tokens."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_t, must_t, t
from appwarden.core.exemptions import Attestation, Exemption, TargetKind
from appwarden.services.ports import Account, ApiToken, ChangeRecorder

_EX_COLS = (
    "id, target_kind, target, policy, reason, approver, created_by, created_at, expires_at,"
    " revoked_at"
)


def _exemption(row: Any) -> Exemption:
    return Exemption(
        id=row[0],
        target_kind=TargetKind(row[1]),
        target=row[2],
        policy=row[3],
        reason=row[4],
        approver=row[5],
        created_by=row[6],
        created_at=must_t(row[7]),
        expires_at=must_t(row[8]),
        revoked_at=from_t(row[9]),
    )


class SqliteExemptions:
    def __init__(self, conn: sqlite3.Connection, changes: ChangeRecorder) -> None:
        self.conn = conn
        self.changes = changes

    def add(self, exemption: Exemption) -> None:
        e = exemption
        self.conn.execute(
            f"INSERT INTO exemptions ({_EX_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
            (
                e.id,
                e.target_kind.value,
                e.target,
                e.policy,
                e.reason,
                e.approver,
                e.created_by,
                t(e.created_at),
                t(e.expires_at),
                t(e.revoked_at),
            ),
        )
        self.changes.record("exemption", [e.id])

    def get(self, exemption_id: str) -> Exemption | None:
        row = self.conn.execute(
            f"SELECT {_EX_COLS} FROM exemptions WHERE id = ?",  # noqa: S608
            (exemption_id,),
        ).fetchone()
        return _exemption(row) if row else None

    def all(self, include_inactive: bool = False) -> list[Exemption]:
        sql = f"SELECT {_EX_COLS} FROM exemptions"  # noqa: S608
        if not include_inactive:
            sql += " WHERE revoked_at IS NULL"
        return [_exemption(r) for r in self.conn.execute(sql + " ORDER BY created_at, id")]

    def revoke(self, exemption_id: str, at: datetime, by: str, reason: str) -> None:
        self.conn.execute(
            "UPDATE exemptions SET revoked_at = ?, revoked_by = ?, revoke_reason = ?"
            " WHERE id = ? AND revoked_at IS NULL",
            (t(at), by, reason, exemption_id),
        )
        self.changes.record("exemption", [exemption_id])

    def attestations(self) -> list[Attestation]:
        rows = self.conn.execute(
            "SELECT id, device, policy, employee, statement, signed_at, expires_at, signature,"
            " revoked_at FROM attestations ORDER BY signed_at"
        )
        return [
            Attestation(
                r[0], r[1], r[2], r[3], r[4], must_t(r[5]), must_t(r[6]), r[7], from_t(r[8])
            )
            for r in rows
        ]

    def add_attestation(self, attestation: Attestation) -> None:
        a = attestation
        self.conn.execute(
            "INSERT INTO attestations (id, device, policy, employee, statement, signed_at,"
            " expires_at, signature, revoked_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                a.id,
                a.device,
                a.policy,
                a.employee,
                a.statement,
                t(a.signed_at),
                t(a.expires_at),
                a.signature,
                t(a.revoked_at),
            ),
        )
        self.changes.record("attestation", [a.id])


def _token(row: Any) -> ApiToken:
    return ApiToken(row[0], row[1], row[2], row[3], must_t(row[4]), from_t(row[5]), from_t(row[6]))


class SqliteTokens:
    _COLS = "id, name, role, created_by, created_at, revoked_at, last_used_at"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, token: ApiToken, token_hash: str) -> None:
        self.conn.execute(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_by, created_at)"
            " VALUES (?,?,?,?,?,?)",
            (token.id, token.name, token.role, token_hash, token.created_by, t(token.created_at)),
        )

    def by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.conn.execute(
            f"SELECT {self._COLS} FROM api_tokens WHERE token_hash = ?",  # noqa: S608
            (token_hash,),
        ).fetchone()
        return _token(row) if row else None

    def all(self) -> list[ApiToken]:
        rows = self.conn.execute(
            f"SELECT {self._COLS} FROM api_tokens ORDER BY created_at"  # noqa: S608
        )
        return [_token(r) for r in rows]

    def revoke(self, token_id: str, at: datetime) -> bool:
        cur = self.conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (t(at), token_id),
        )
        return cur.rowcount > 0

    def active_hashes(self, roles: Sequence[str]) -> list[str]:
        marks = ",".join("?" for _ in roles)
        rows = self.conn.execute(
            "SELECT token_hash FROM api_tokens WHERE revoked_at IS NULL"  # noqa: S608
            f" AND role IN ({marks})",
            tuple(roles),
        ).fetchall()
        return [r[0] for r in rows]

    def touch(self, token_id: str, at: datetime) -> None:
        self.conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (t(at), token_id))


class SqliteAccounts:
    _COLS = "email, name, role, locale, created_by, created_at, disabled_at"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def upsert(self, account: Account, at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO accounts (email, name, role, locale, created_by, created_at, updated_at,"
            " disabled_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (email) DO UPDATE SET"
            " name = excluded.name, role = excluded.role, locale = excluded.locale,"
            " updated_at = excluded.updated_at, disabled_at = excluded.disabled_at",
            (
                account.email,
                account.name,
                account.role,
                account.locale,
                account.created_by,
                t(account.created_at),
                t(at),
                t(account.disabled_at),
            ),
        )

    def get(self, email: str) -> Account | None:
        row = self.conn.execute(
            f"SELECT {self._COLS} FROM accounts WHERE email = ?",  # noqa: S608
            (email.lower(),),
        ).fetchone()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        rows = self.conn.execute(f"SELECT {self._COLS} FROM accounts ORDER BY email")  # noqa: S608
        return [_account(r) for r in rows]


def _account(row: Any) -> Account:
    return Account(row[0], row[1], row[2], row[3], row[4], must_t(row[5]), from_t(row[6]))
