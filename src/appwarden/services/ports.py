"""The ports services depend on. Adapters implement them; tests may use the SQLite adapter on
an in-memory database (it is fast and it is the real thing) or the fakes in adapters/fakes.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from appwarden.core.events import AuditEvent, StoredEvent
from appwarden.core.exemptions import Attestation, Exemption
from appwarden.core.fleet import FleetIndex
from appwarden.core.inventory import Device, Employee, InstalledApp
from appwarden.core.policy import PolicyVersion
from appwarden.core.verdict import Transition, Verdict, VerdictKey

Progress = Callable[[int], None]  # called with the number of items just done


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    version: PolicyVersion
    source: str  # the YAML text as applied
    active: bool


@dataclass(frozen=True, slots=True)
class DeviceChange:
    """What an upsert of one device changed."""

    created: bool
    fields_changed: bool
    apps_added: tuple[InstalledApp, ...]
    apps_removed: tuple[InstalledApp, ...]

    @property
    def changed(self) -> bool:
        return self.created or self.fields_changed or bool(self.apps_added or self.apps_removed)


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


class Inventory(Protocol):
    def upsert_employee(self, employee: Employee, at: datetime) -> bool: ...
    def employee(self, email: str) -> Employee | None: ...
    def employees(self) -> Iterator[Employee]: ...
    def upsert_device(
        self, device: Device, at: datetime, source: str, replace_apps: bool = True
    ) -> DeviceChange: ...
    def device(self, key: str) -> Device | None: ...
    def device_key_for_identity(self, kind: str, value: str) -> str | None: ...
    def count_devices(self) -> int: ...
    def count_employees(self) -> int: ...
    def load_fleet(self, index: FleetIndex, progress: Progress | None = None) -> None: ...
    def app_history(self, key: str) -> list[dict[str, Any]]: ...


class Policies(Protocol):
    def current(self, slug: str) -> StoredPolicy | None: ...
    def active(self) -> list[StoredPolicy]: ...
    def history(self, slug: str) -> list[StoredPolicy]: ...
    def add_version(self, version: PolicyVersion, source: str) -> None: ...
    def retire(self, slug: str) -> None: ...


class Verdicts(Protocol):
    def all(self) -> dict[VerdictKey, Verdict]: ...
    def for_device(self, device: str) -> list[Verdict]: ...
    def for_policy(self, slug: str) -> dict[str, Verdict]: ...
    def write(
        self, changed: Iterable[Verdict], removed: Iterable[VerdictKey], at: datetime
    ) -> None: ...
    def record_assessment(
        self,
        at: datetime,
        started: datetime,
        duration_ms: float,
        trigger: str,
        counts: Mapping[str, Mapping[str, int]],
        transitions: Sequence[Transition],
    ) -> int: ...
    def transitions(self, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...


class Exemptions(Protocol):
    def add(self, exemption: Exemption) -> None: ...
    def get(self, exemption_id: str) -> Exemption | None: ...
    def all(self, include_inactive: bool = False) -> list[Exemption]: ...
    def revoke(self, exemption_id: str, at: datetime, by: str, reason: str) -> None: ...
    def attestations(self) -> list[Attestation]: ...
    def add_attestation(self, attestation: Attestation) -> None: ...


class AuditLog(Protocol):
    def append(self, event: AuditEvent) -> StoredEvent: ...
    def events(
        self, after_seq: int = 0, limit: int | None = None, type_: str | None = None
    ) -> Iterator[StoredEvent]: ...
    def head(self) -> StoredEvent | None: ...


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


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving the block commits, an error rolls back."""

    @property
    def inventory(self) -> Inventory: ...
    @property
    def policies(self) -> Policies: ...
    @property
    def verdicts(self) -> Verdicts: ...
    @property
    def exemptions(self) -> Exemptions: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def tokens(self) -> Tokens: ...
    @property
    def accounts(self) -> Accounts: ...


class Store(Protocol):
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...
    def read(self) -> AbstractContextManager[UnitOfWork]: ...
    def close(self) -> None: ...
