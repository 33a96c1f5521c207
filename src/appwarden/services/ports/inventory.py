"""Ports for inventory: devices, apps, sources, enrollment, attestations."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from appwarden.core.exemptions import Attestation
from appwarden.core.fleet import FleetIndex
from appwarden.core.inventory import Device, Employee, InstalledApp
from appwarden.core.sources import FieldConflict, SourceFacts

Progress = Callable[[int], None]  # called with the number of items just done


@dataclass(frozen=True, slots=True)
class DeviceChange:
    """What an upsert of one device changed."""

    created: bool
    fields_changed: bool
    apps_added: tuple[InstalledApp, ...]
    apps_removed: tuple[InstalledApp, ...]
    versions_changed: int = 0  # apps whose version changed (nothing to re-assess)

    @property
    def changed(self) -> bool:
        return self.created or self.fields_changed or bool(self.apps_added or self.apps_removed)


@dataclass(frozen=True, slots=True)
class StoredSource:
    """One source's last report on a device, as kept between reports."""

    facts: SourceFacts
    apps: frozenset[InstalledApp] | None = None  # to write; None: the device's list is its list
    sequence: int = 0  # last check-in sequence applied
    kept: bool = False  # read back: a list of its own is stored (`Sources.app_list`)


@dataclass(frozen=True, slots=True)
class StoredConflict:
    device: str
    conflict: FieldConflict
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class EnrollmentCode:
    id: str
    owner: str | None
    ownership: str
    device_key: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    id: str
    device: str  # device key
    created_at: datetime
    code_id: str | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class Inventory(Protocol):
    def upsert_employee(self, employee: Employee, at: datetime) -> bool: ...
    def employee(self, email: str) -> Employee | None: ...
    def employees(self) -> Iterator[Employee]: ...
    def upsert_device(
        self,
        device: Device,
        at: datetime,
        source: str,
        replace_apps: bool = True,
        first_apps: bool = False,
    ) -> DeviceChange: ...
    def create_devices(
        self, devices: list[Device], at: datetime, source: str
    ) -> list[DeviceChange]: ...
    def device(self, key: str) -> Device | None: ...
    def device_key_for_identity(self, kind: str, value: str) -> str | None: ...
    def count_devices(self) -> int: ...
    def count_employees(self) -> int: ...
    def load_fleet(self, index: FleetIndex, progress: Progress | None = None) -> None: ...
    def app_history(self, key: str) -> list[dict[str, Any]]: ...


class Sources(Protocol):
    """Per-source reports, cross-source identifiers, merge conflicts and employee aliases."""

    def find(self, probes: Sequence[tuple[str, str]]) -> list[str | None]: ...
    def find_many(self, probes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]: ...
    def has_aliases(self) -> bool: ...
    def snapshots(self, key: str) -> dict[str, StoredSource]: ...
    def app_list(self, key: str, source: str) -> frozenset[InstalledApp] | None: ...
    def put(self, key: str, stored: StoredSource) -> None: ...
    def put_many(self, items: Sequence[tuple[str, StoredSource]]) -> None: ...
    def add_keys(self, key: str, keys: Sequence[tuple[str, str]]) -> None: ...
    def add_keys_many(self, items: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None: ...
    def conflicts(self, key: str | None = None, limit: int = 1000) -> list[StoredConflict]: ...
    def set_conflicts(self, key: str, conflicts: Sequence[FieldConflict], at: datetime) -> bool: ...
    def resolve_owner(self, address: str) -> str: ...
    def set_aliases(self, email: str, aliases: Sequence[str]) -> None: ...
    def relink_owners(self) -> list[str]: ...


class Enrollments(Protocol):
    def add_code(self, code: EnrollmentCode, code_hash: str) -> None: ...
    def code_by_hash(self, code_hash: str) -> EnrollmentCode | None: ...
    def use_code(self, code_id: str, at: datetime, device_key: str) -> bool: ...
    def codes(self, include_used: bool = False) -> list[EnrollmentCode]: ...
    def add_credential(self, credential: DeviceCredential, secret_hash: str) -> None: ...
    def credential_by_hash(self, secret_hash: str) -> DeviceCredential | None: ...
    def credentials(self, device_key: str | None = None) -> list[DeviceCredential]: ...
    def revoke_credentials(self, device_key: str, at: datetime, by: str) -> list[str]: ...


class Attestations(Protocol):
    def get(self, attestation_id: str) -> Attestation | None: ...
    def for_device(self, device: str) -> list[Attestation]: ...
    def revoke(self, attestation_id: str, at: datetime) -> bool: ...
