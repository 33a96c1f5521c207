"""Passwords and sessions: who is signed in to the console or the self-service page.

Passwords are hashed by the PasswordHasher port (argon2id in adapters/passwords.py). Sessions
are random secrets kept by the browser in a cookie; only their SHA-256 is stored, beside a
per-session CSRF token. Sign-in failures all read the same, whatever the reason.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from appwarden.core.errors import Forbidden, InvalidInput, NotFound, Problem, Unauthorized
from appwarden.core.events import AuditEvent, EventType
from appwarden.services.ports import Account, ConsoleSession, PasswordHasher, UnitOfWork

MIN_PASSWORD = 12
MAX_PASSWORD = 256
BAD_CREDENTIALS = "wrong e-mail or password"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def password_problems(password: str) -> list[Problem]:
    if len(password) < MIN_PASSWORD:
        return [
            Problem(
                f"is shorter than {MIN_PASSWORD} characters",
                "password",
                "use a longer passphrase, e.g. four unrelated words",
            )
        ]
    if len(password) > MAX_PASSWORD:
        return [Problem(f"is longer than {MAX_PASSWORD} characters", "password", "shorten it")]
    return []


def set_password(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    email: str,
    password: str,
    actor: str,
    now: datetime,
) -> None:
    """Set (or replace) a person's password; every session they had ends."""
    account = uow.accounts.get(email)
    if account is None:
        raise NotFound(f"no account {email!r}; an admin adds it with `appwarden account add`")
    problems = password_problems(password)
    if problems:
        raise InvalidInput(problems)
    uow.credentials.set_password_hash(account.email, hasher.hash(password), now)
    ended = uow.sessions.revoke_subject(account.email, now)
    uow.audit.append(
        AuditEvent(
            EventType.PASSWORD_SET,
            actor,
            now,
            subject=f"account:{account.email}",
            data={"sessions_ended": ended},
        )
    )


def check_password(uow: UnitOfWork, hasher: PasswordHasher, email: str, password: str) -> Account:
    """The active account whose password this is; Unauthorized (one message) otherwise."""
    email = email.strip().lower()
    if not email or not password or len(password) > MAX_PASSWORD:
        raise Unauthorized(BAD_CREDENTIALS)
    account = uow.accounts.get(email)
    stored = uow.credentials.password_hash(email) if account else None
    if account is None or stored is None:
        hasher.hash(password)  # spend the same time as a real check
        raise Unauthorized(BAD_CREDENTIALS)
    if not hasher.verify(stored, password):
        raise Unauthorized(BAD_CREDENTIALS)
    if not account.active:
        raise Forbidden(f"account {email} is disabled; ask an admin")
    if hasher.needs_rehash(stored):
        uow.credentials.set_password_hash(email, hasher.hash(password), account.created_at)
    return account


def open_session(
    uow: UnitOfWork, kind: str, subject: str, now: datetime, ttl: timedelta
) -> tuple[str, ConsoleSession]:
    """A new session; returns the secret for the cookie (never stored) and the session."""
    secret = secrets.token_urlsafe(32)
    session = ConsoleSession(
        token_hash=secret_hash(secret),
        kind=kind,
        subject=subject.lower(),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + ttl,
    )
    uow.sessions.add(session)
    uow.audit.append(
        AuditEvent(EventType.SIGNED_IN, subject.lower(), now, subject=f"{kind}:{subject.lower()}")
    )
    return secret, session


def session_for(uow: UnitOfWork, secret: str, now: datetime) -> ConsoleSession | None:
    if not secret or len(secret) > 100:
        return None
    session = uow.sessions.get(secret_hash(secret))
    if session is None or not session.valid_at(now):
        return None
    return session


def close_session(uow: UnitOfWork, secret: str, now: datetime) -> None:
    session = uow.sessions.get(secret_hash(secret))
    if session is None or session.revoked_at is not None:
        return
    uow.sessions.revoke(session.token_hash, now)
    uow.audit.append(
        AuditEvent(
            EventType.SIGNED_OUT,
            session.subject,
            now,
            subject=f"{session.kind}:{session.subject}",
        )
    )
