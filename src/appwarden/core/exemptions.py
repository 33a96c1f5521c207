"""Time-boxed exemptions and employee attestations.

An exemption lets a failing device (or every device of an employee) keep mail access for one
policy, or for every policy (`policy == "*"`), until it expires. An attestation is an employee's
signed statement that a barred app is not on a device whose apps cannot be seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TargetKind(StrEnum):
    DEVICE = "device"
    EMPLOYEE = "employee"


@dataclass(frozen=True, slots=True)
class Exemption:
    id: str
    target_kind: TargetKind
    target: str  # device key or employee email
    policy: str  # policy slug, or "*"
    reason: str
    approver: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def active_at(self, instant: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= instant:
            return False
        return self.created_at <= instant < self.expires_at

    def covers(self, device: str, owner: str | None, policy: str) -> bool:
        if self.policy not in ("*", policy):
            return False
        if self.target_kind is TargetKind.DEVICE:
            return self.target == device
        return owner is not None and self.target.lower() == owner.lower()


class ExemptionBook:
    """Exemptions indexed by device and by employee for fast lookups during assessment."""

    def __init__(self, exemptions: Iterable[Exemption] = ()) -> None:
        self._by_device: dict[str, list[Exemption]] = {}
        self._by_employee: dict[str, list[Exemption]] = {}
        for ex in exemptions:
            if ex.target_kind is TargetKind.DEVICE:
                self._by_device.setdefault(ex.target, []).append(ex)
            else:
                self._by_employee.setdefault(ex.target.lower(), []).append(ex)

    def __bool__(self) -> bool:
        return bool(self._by_device or self._by_employee)

    def active(
        self, device: str, owner: str | None, policy: str, instant: datetime
    ) -> Exemption | None:
        """The covering exemption that lasts longest, if any holds at `instant`."""
        pool = self._by_device.get(device, [])
        if owner:
            pool = pool + self._by_employee.get(owner.lower(), [])
        best = None
        for ex in pool:
            holds = ex.covers(device, owner, policy) and ex.active_at(instant)
            if holds and (best is None or ex.expires_at > best.expires_at):
                best = ex
        return best

    def devices(self) -> set[str]:
        return set(self._by_device)

    def employees(self) -> set[str]:
        return set(self._by_employee)


@dataclass(frozen=True, slots=True)
class Attestation:
    id: str
    device: str
    policy: str
    employee: str
    statement: str
    signed_at: datetime
    expires_at: datetime
    signature: str = ""
    revoked_at: datetime | None = None

    def valid_at(self, instant: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= instant:
            return False
        return self.signed_at <= instant < self.expires_at


class AttestationBook:
    def __init__(self, attestations: Iterable[Attestation] = ()) -> None:
        self._by_key: dict[tuple[str, str], list[Attestation]] = {}
        for att in attestations:
            self._by_key.setdefault((att.device, att.policy), []).append(att)

    def valid(self, device: str, policy: str, instant: datetime) -> Attestation | None:
        best = None
        for att in self._by_key.get((device, policy), ()):
            if att.valid_at(instant) and (best is None or att.expires_at > best.expires_at):
                best = att
        return best

    def devices(self) -> set[str]:
        return {device for device, _ in self._by_key}


EMPTY_EXEMPTIONS = ExemptionBook()
EMPTY_ATTESTATIONS = AttestationBook()
