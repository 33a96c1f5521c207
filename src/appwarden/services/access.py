"""API tokens and roles. Secrets are shown once and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from appwarden.core.errors import Forbidden, InvalidInput, NotFound, Problem, Unauthorized
from appwarden.core.events import AuditEvent, EventType
from appwarden.services.ports import ApiToken, UnitOfWork

# Console and API roles, each including the ones before it.
RANKED_ROLES = ("viewer", "author", "approver", "admin")
# Machine roles, separate from the ladder above.
MACHINE_ROLES = ("gateway", "device")
ROLES = RANKED_ROLES + MACHINE_ROLES
TOKEN_PREFIX = "aw_"  # noqa: S105 (a public prefix, not a secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def role_allows(role: str, needed: str) -> bool:
    if needed in MACHINE_ROLES or role in MACHINE_ROLES:
        return role == needed or (role == "admin" and needed == "gateway")
    return RANKED_ROLES.index(role) >= RANKED_ROLES.index(needed)


def require(role: str, needed: str) -> None:
    if not role_allows(role, needed):
        raise Forbidden(f"this needs the {needed} role; your token has {role}")


def create_token(
    uow: UnitOfWork, name: str, role: str, actor: str, now: datetime
) -> tuple[ApiToken, str]:
    if role not in ROLES:
        raise InvalidInput(
            Problem(f"{role!r} is not a role", "role", f"use one of {', '.join(ROLES)}")
        )
    if not name.strip():
        raise InvalidInput(Problem("is empty", "name", "say what the token is for"))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken("tok-" + secrets.token_hex(4), name.strip(), role, actor, now)
    uow.tokens.add(token, hash_secret(secret))
    uow.audit.append(
        AuditEvent(
            EventType.TOKEN_CREATED,
            actor,
            now,
            subject=f"token:{token.id}",
            after={"name": token.name, "role": role},
        )
    )
    return token, secret


def revoke_token(uow: UnitOfWork, token_id: str, actor: str, now: datetime) -> None:
    if not uow.tokens.revoke(token_id, now):
        raise NotFound(f"no active token {token_id!r}; `appwarden token list` shows them")
    uow.audit.append(AuditEvent(EventType.TOKEN_REVOKED, actor, now, subject=f"token:{token_id}"))


def authenticate(uow: UnitOfWork, secret: str) -> ApiToken:
    if not secret.startswith(TOKEN_PREFIX):
        raise Unauthorized("missing or malformed token; send `Authorization: Bearer aw_...`")
    token = uow.tokens.by_hash(hash_secret(secret))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("unknown or revoked token")
    return token


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
