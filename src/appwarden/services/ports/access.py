"""Ports for accounts, API tokens, console sessions and sign-in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    name: str
    role: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A person who uses the console or the CLI, with one role."""

    email: str
    name: str
    role: str  # viewer | author | approver | admin
    locale: str
    created_by: str
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in browser: an account (console) or an employee (self-service page)."""

    token_hash: str
    kind: str  # account | employee
    subject: str  # email, lower-case
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def valid_at(self, instant: datetime) -> bool:
        return self.revoked_at is None and instant < self.expires_at


@dataclass(frozen=True, slots=True)
class MagicLink:
    token_hash: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, stored: str, password: str) -> bool: ...
    def needs_rehash(self, stored: str) -> bool: ...


class Tokens(Protocol):
    def add(self, token: ApiToken, token_hash: str) -> None: ...
    def by_hash(self, token_hash: str) -> ApiToken | None: ...
    def all(self) -> list[ApiToken]: ...
    def revoke(self, token_id: str, at: datetime) -> bool: ...
    def touch(self, token_id: str, at: datetime) -> None: ...
    def active_hashes(self, roles: Sequence[str]) -> list[str]: ...


class Accounts(Protocol):
    def upsert(self, account: Account, at: datetime) -> None: ...
    def get(self, email: str) -> Account | None: ...
    def all(self) -> list[Account]: ...


class Credentials(Protocol):
    def password_hash(self, email: str) -> str | None: ...
    def set_password_hash(self, email: str, password_hash: str, at: datetime) -> None: ...


class Sessions(Protocol):
    def add(self, session: ConsoleSession) -> None: ...
    def get(self, token_hash: str) -> ConsoleSession | None: ...
    def revoke(self, token_hash: str, at: datetime) -> None: ...
    def revoke_subject(self, subject: str, at: datetime) -> int: ...
    def add_link(self, link: MagicLink) -> None: ...
    def get_link(self, token_hash: str) -> MagicLink | None: ...
    def use_link(self, token_hash: str, at: datetime) -> bool: ...
    def links_since(self, email: str, since: datetime) -> int: ...
