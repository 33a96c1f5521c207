"""The employee's own page: my devices, what each policy asks of me and by when, my mail access.

An employee sees and acts on their own devices only: every function here checks ownership.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appwarden.core.decision import Decision
from appwarden.core.errors import Forbidden
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.fleet_assess import scope_bitmap
from appwarden.core.inventory import DeviceFacts
from appwarden.core.policy import PolicyVersion
from appwarden.core.verdict import Verdict
from appwarden.services.compliance import Compliance
from appwarden.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class PolicyAsk:
    version: PolicyVersion
    verdict: Verdict | None  # None: in scope and compliant


@dataclass(frozen=True, slots=True)
class MyDevice:
    facts: DeviceFacts
    decision: Decision
    asks: tuple[PolicyAsk, ...]


def device_keys(engine: Compliance, email: str) -> list[str]:
    fleet = engine.fleet
    slot = fleet.employee_slot.get(email.lower())
    if slot is None:
        return []
    return sorted(fleet.keys[s] for s in fleet.employee_devices.get(slot, ()) if s in fleet.live)


def require_owner(engine: Compliance, email: str, key: str) -> None:
    if key not in device_keys(engine, email):
        raise Forbidden("that device is not registered to you")


def my_devices(engine: Compliance, uow: UnitOfWork, email: str, now: datetime) -> list[MyDevice]:
    fleet = engine.fleet
    keys = device_keys(engine, email)
    versions = [s.version for s in uow.policies.active()]
    scopes = {pv.slug: scope_bitmap(fleet, pv.policy.scope) for pv in versions} if keys else {}
    out = []
    for key in keys:
        facts = fleet.facts(key)
        if facts is None:
            continue
        verdicts = {v.policy: v for v in uow.verdicts.for_device(key)}
        slot = fleet.slot_of[key]
        asks = tuple(
            PolicyAsk(pv, verdicts.get(pv.slug))
            for pv in versions
            if slot in scopes[pv.slug] or pv.slug in verdicts
        )
        out.append(MyDevice(facts, engine.decide("device", key, now), asks))
    return out


def check_again(engine: Compliance, email: str, key: str, now: datetime) -> int:
    """Re-assess one of my devices from its latest inventory; returns transitions recorded."""
    require_owner(engine, email, key)
    report = engine.refresh_devices([key], now, f"recheck:{key}", email)
    with engine.store.unit_of_work() as uow:
        uow.audit.append(
            AuditEvent(
                EventType.RECHECK_REQUESTED,
                email,
                now,
                subject=f"device:{key}",
                data={"transitions": len(report.transitions)},
            )
        )
    return len(report.transitions)
