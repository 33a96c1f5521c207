"""The employee's own page: my devices, what each policy asks of me and by when, my mail access,
and attesting for a device whose apps cannot be seen (what to offer: self_attest.py).

An employee sees and acts on their own devices only: every function here checks ownership.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appwarden.core.decision import Decision
from appwarden.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.exemptions import Attestation
from appwarden.core.fleet_assess import scope_bitmap
from appwarden.core.inventory import DeviceFacts
from appwarden.core.policy import PolicyVersion
from appwarden.core.verdict import Verdict
from appwarden.services.attestations import AttestationRequest, AttestationService
from appwarden.services.compliance import Compliance
from appwarden.services.ports import UnitOfWork
from appwarden.services.self_attest import AttestOffer, offer_for

WITHDRAWN = "withdrawn by the employee on their page"


@dataclass(frozen=True, slots=True)
class PolicyAsk:
    version: PolicyVersion
    verdict: Verdict | None  # None: in scope and compliant
    offer: AttestOffer | None = None  # an attestation would answer (or answers) the verdict


@dataclass(frozen=True, slots=True)
class MyDevice:
    facts: DeviceFacts
    decision: Decision
    asks: tuple[PolicyAsk, ...]
    attestations: tuple[Attestation, ...] = ()  # mine for this device, newest first


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
        signed = [a for a in uow.attestations.for_device(key) if a.employee == email.lower()]
        slot = fleet.slot_of[key]
        platform = facts.device.platform
        asks = tuple(
            PolicyAsk(
                pv,
                verdicts.get(pv.slug),
                offer_for(engine, pv, verdicts.get(pv.slug), platform, signed, now),
            )
            for pv in versions
            if slot in scopes[pv.slug] or pv.slug in verdicts
        )
        recent = tuple(sorted(signed, key=lambda a: (a.signed_at, a.id), reverse=True)[:10])
        out.append(MyDevice(facts, engine.decide("device", key, now), asks, recent))
    return out


def offer_mine(
    engine: Compliance, email: str, key: str, policy: str, now: datetime
) -> tuple[DeviceFacts, AttestOffer]:
    """What I may attest for one of my devices under one policy (the page renders the words)."""
    require_owner(engine, email, key)
    if not policy:
        raise InvalidInput(Problem("is missing", "policy", "attest from your devices page"))
    facts = engine.fleet.facts(key)
    with engine.store.read() as uow:
        stored = uow.policies.current(policy)
        verdict = next((v for v in uow.verdicts.for_device(key) if v.policy == policy), None)
        signed = [a for a in uow.attestations.for_device(key) if a.employee == email.lower()]
    if facts is None or stored is None or not stored.active:
        raise NotFound(f"no policy {policy!r} in force for device {key}")
    offer = offer_for(engine, stored.version, verdict, facts.device.platform, signed, now)
    if offer is None:
        raise Conflict(
            f"{policy} asks nothing of {key} that a confirmation answers: "
            "its apps can be seen, or nothing is missing"
        )
    return facts, offer


def attest_mine(
    service: AttestationService,
    email: str,
    device: str,
    policy: str,
    statement: str,
    now: datetime,
) -> Attestation:
    """Sign, as the signed-in employee, the statement the page showed them (the service checks
    ownership again inside its transaction and re-assesses the device)."""
    require_owner(service.engine, email, device)  # the same refusal for any device not mine
    attestation, _report = service.sign(
        AttestationRequest(device, policy, email, email, statement=statement), now
    )
    return attestation


def withdraw_mine(
    service: AttestationService, email: str, attestation_id: str, now: datetime
) -> Attestation:
    """Withdraw an attestation I signed; the device is re-assessed at once."""
    attestation, _report = service.revoke(attestation_id, email, WITHDRAWN, now, employee=email)
    return attestation


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
