"""Console state in SQLite: passwords, sessions, magic links, proposals, exemption requests."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from appwarden.adapters.db.codec import from_t, must_t, t
from appwarden.services.ports import (
    ConsoleSession,
    ExemptionRequest,
    MagicLink,
    PolicyProposal,
)


class SqliteCredentials:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def password_hash(self, email: str) -> str | None:
        row = self.conn.execute(
            "SELECT password_hash FROM accounts WHERE email = ?", (email.lower(),)
        ).fetchone()
        return str(row[0]) if row and row[0] else None

    def set_password_hash(self, email: str, password_hash: str, at: datetime) -> None:
        self.conn.execute(
            "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE email = ?",
            (password_hash, t(at), email.lower()),
        )


class SqliteSessions:
    _COLS = "token_hash, kind, subject, csrf_token, created_at, expires_at, revoked_at"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, session: ConsoleSession) -> None:
        s = session
        self.conn.execute(
            f"INSERT INTO console_sessions ({self._COLS}) VALUES (?,?,?,?,?,?,?)",  # noqa: S608
            (
                s.token_hash,
                s.kind,
                s.subject,
                s.csrf_token,
                t(s.created_at),
                t(s.expires_at),
                t(s.revoked_at),
            ),
        )

    def get(self, token_hash: str) -> ConsoleSession | None:
        row = self.conn.execute(
            f"SELECT {self._COLS} FROM console_sessions WHERE token_hash = ?",  # noqa: S608
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return ConsoleSession(
            row[0], row[1], row[2], row[3], must_t(row[4]), must_t(row[5]), from_t(row[6])
        )

    def revoke(self, token_hash: str, at: datetime) -> None:
        self.conn.execute(
            "UPDATE console_sessions SET revoked_at = ?"
            " WHERE token_hash = ? AND revoked_at IS NULL",
            (t(at), token_hash),
        )

    def revoke_subject(self, subject: str, at: datetime) -> int:
        cur = self.conn.execute(
            "UPDATE console_sessions SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL",
            (t(at), subject.lower()),
        )
        return cur.rowcount

    def add_link(self, link: MagicLink) -> None:
        self.conn.execute(
            "INSERT INTO magic_links (token_hash, email, created_at, expires_at) VALUES (?,?,?,?)",
            (link.token_hash, link.email, t(link.created_at), t(link.expires_at)),
        )

    def get_link(self, token_hash: str) -> MagicLink | None:
        row = self.conn.execute(
            "SELECT token_hash, email, created_at, expires_at, used_at FROM magic_links"
            " WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return MagicLink(row[0], row[1], must_t(row[2]), must_t(row[3]), from_t(row[4]))

    def use_link(self, token_hash: str, at: datetime) -> bool:
        cur = self.conn.execute(
            "UPDATE magic_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
            (t(at), token_hash),
        )
        return cur.rowcount == 1

    def links_since(self, email: str, since: datetime) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM magic_links WHERE email = ? AND created_at >= ?",
            (email.lower(), t(since)),
        ).fetchone()
        return int(row[0])


_PROPOSAL_COLS = (
    "id, slug, source, digest, base_version, reason, lead_override, author, created_at, status,"
    " decided_by, decided_at, applied_version"
)


def _proposal(row: Any) -> PolicyProposal:
    return PolicyProposal(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        must_t(row[8]),
        row[9],
        row[10],
        from_t(row[11]),
        row[12],
    )


class SqliteProposals:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, proposal: PolicyProposal) -> None:
        p = proposal
        self.conn.execute(
            f"INSERT INTO policy_proposals ({_PROPOSAL_COLS})"  # noqa: S608
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                p.id,
                p.slug,
                p.source,
                p.digest,
                p.base_version,
                p.reason,
                p.lead_override,
                p.author,
                t(p.created_at),
                p.status,
                p.decided_by,
                t(p.decided_at),
                p.applied_version,
            ),
        )

    def get(self, proposal_id: str) -> PolicyProposal | None:
        row = self.conn.execute(
            f"SELECT {_PROPOSAL_COLS} FROM policy_proposals WHERE id = ?",  # noqa: S608
            (proposal_id,),
        ).fetchone()
        return _proposal(row) if row else None

    def list(self, status: str | None = None, limit: int = 100) -> list[PolicyProposal]:
        sql = f"SELECT {_PROPOSAL_COLS} FROM policy_proposals"  # noqa: S608
        args: list[Any] = []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        rows = self.conn.execute(sql + " ORDER BY created_at DESC LIMIT ?", (*args, limit))
        return [_proposal(r) for r in rows]

    def applied_as(self, slug: str, version: int) -> PolicyProposal | None:
        """The proposal that became `version` of `slug` (None: applied from the CLI or API)."""
        row = self.conn.execute(
            f"SELECT {_PROPOSAL_COLS} FROM policy_proposals"  # noqa: S608
            " WHERE status = 'applied' AND slug = ? AND applied_version = ?",
            (slug, version),
        ).fetchone()
        return _proposal(row) if row else None

    def decide(
        self, proposal_id: str, status: str, by: str, at: datetime, applied_version: int | None
    ) -> bool:
        cur = self.conn.execute(
            "UPDATE policy_proposals SET status = ?, decided_by = ?, decided_at = ?,"
            " applied_version = ? WHERE id = ? AND status = 'proposed'",
            (status, by, t(at), applied_version, proposal_id),
        )
        return cur.rowcount == 1


_REQUEST_COLS = (
    "id, target_kind, target, policy, reason, expires_at, requested_by, created_at, status,"
    " decided_by, decided_at, exemption_id"
)


def _request(row: Any) -> ExemptionRequest:
    return ExemptionRequest(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        must_t(row[5]),
        row[6],
        must_t(row[7]),
        row[8],
        row[9],
        from_t(row[10]),
        row[11],
    )


class SqliteExemptionRequests:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, request: ExemptionRequest) -> None:
        r = request
        self.conn.execute(
            f"INSERT INTO exemption_requests ({_REQUEST_COLS})"  # noqa: S608
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                r.id,
                r.target_kind,
                r.target,
                r.policy,
                r.reason,
                t(r.expires_at),
                r.requested_by,
                t(r.created_at),
                r.status,
                r.decided_by,
                t(r.decided_at),
                r.exemption_id,
            ),
        )

    def get(self, request_id: str) -> ExemptionRequest | None:
        row = self.conn.execute(
            f"SELECT {_REQUEST_COLS} FROM exemption_requests WHERE id = ?",  # noqa: S608
            (request_id,),
        ).fetchone()
        return _request(row) if row else None

    def list(
        self, status: str | None = None, target: str | None = None, limit: int = 100
    ) -> list[ExemptionRequest]:
        clauses, args = [], []
        if status:
            clauses.append("status = ?")
            args.append(status)
        if target:
            clauses.append("target = ?")
            args.append(target)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.conn.execute(
            f"SELECT {_REQUEST_COLS} FROM exemption_requests{where}"  # noqa: S608
            " ORDER BY created_at DESC LIMIT ?",
            (*args, limit),
        )
        return [_request(r) for r in rows]

    def decide(
        self, request_id: str, status: str, by: str, at: datetime, exemption_id: str | None
    ) -> bool:
        cur = self.conn.execute(
            "UPDATE exemption_requests SET status = ?, decided_by = ?, decided_at = ?,"
            " exemption_id = ? WHERE id = ? AND status = 'requested'",
            (status, by, t(at), exemption_id, request_id),
        )
        return cur.rowcount == 1
