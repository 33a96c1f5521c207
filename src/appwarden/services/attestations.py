"""Employee attestations: "no barred app is on this device", signed, time-stamped, expiring.

An attestation is what a policy with `unknown: attest` accepts for a device whose apps cannot be
seen (or that stopped reporting). The server signs each one with its secret (HMAC-SHA256 over
the canonical JSON of its fields); assessment counts only attestations whose signature checks,
so a row edited in the database counts for nothing. Signing and revoking are audited.

The employee's self-service page calls `AttestationService.sign` with the signed-in employee;
`POST /v1/attestations` does the same for API callers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from appwarden.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from appwarden.core.events import AuditEvent, EventType, canonical
from appwarden.core.exemptions import Attestation
from appwarden.core.policy import UnknownMode
from appwarden.core.timeutil import format_duration, iso
from appwarden.services.assessment import AssessmentReport
from appwarden.services.compliance import Compliance
from appwarden.services.ports import UnitOfWork

STATEMENTS = {
    "en": "I, {employee}, attest that no app barred by the policy \u201c{title}\u201d is installed "
    "on my device {device}.",
    "ar": "\u0623\u0646\u0627 {employee}\u060c \u0623\u0642\u0631 \u0628\u0623\u0646\u0647 "
    "\u0644\u0627 \u064a\u0648\u062c\u062f \u0639\u0644\u0649 \u062c\u0647\u0627\u0632\u064a "
    "{device} \u0623\u064a \u062a\u0637\u0628\u064a\u0642 \u062a\u062d\u0638\u0631\u0647 "
    "\u0627\u0644\u0633\u064a\u0627\u0633\u0629 \u00ab{title}\u00bb.",
}


class Signer:
    """HMAC-SHA256 with the server secret over an attestation's canonical fields."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, att: Attestation) -> str:
        payload = canonical(
            {
                "id": att.id,
                "device": att.device,
                "policy": att.policy,
                "employee": att.employee,
                "statement": att.statement,
                "signed_at": iso(att.signed_at),
                "expires_at": iso(att.expires_at),
            }
        )
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def valid(self, att: Attestation) -> bool:
        return hmac.compare_digest(self.sign(att), att.signature)


@dataclass(frozen=True, slots=True)
class AttestationRequest:
    device: str
    policy: str
    employee: str  # the employee who attests (the signed-in person)
    actor: str  # who submitted it (the employee, or an admin recording it for them)
    valid_for: timedelta | None = None  # default and maximum: the attestation_ttl setting
    # the words the employee confirmed, as the server showed them (the console renders them in
    # the employee's language, naming the barred apps); empty: the standard statement below
    statement: str = ""


def sign_attestation(
    uow: UnitOfWork, signer: Signer, req: AttestationRequest, now: datetime, ttl: timedelta
) -> Attestation:
    employee = req.employee.strip().lower()
    device = uow.inventory.device(req.device)
    if device is None:
        raise NotFound(f"no device {req.device!r} in the inventory")
    if (device.owner or "").lower() != employee:
        raise Forbidden(f"{employee} does not own device {req.device}; only its owner can attest")
    stored = uow.policies.current(req.policy)
    if stored is None or not stored.active:
        raise NotFound(f"no policy {req.policy!r} in force")
    policy = stored.version.policy
    if policy.unknown is not UnknownMode.ATTEST:
        raise Conflict(
            f"policy {req.policy} does not accept attestations (unknown: {policy.unknown})"
        )
    valid_for = req.valid_for or ttl
    if valid_for <= timedelta(0) or valid_for > ttl:
        raise InvalidInput(
            Problem(f"must be positive and at most {format_duration(ttl)}", "valid_for")
        )
    person = uow.inventory.employee(employee)
    locale = (person.locale if person else "en").split("-")[0]
    statement = req.statement.strip() or STATEMENTS.get(locale, STATEMENTS["en"]).format(
        employee=person.name if person and person.name else employee,
        title=policy.text("title", locale),
        device=device.name or device.key,
    )
    unsigned = Attestation(
        "att-" + secrets.token_hex(6),
        device.key,
        req.policy,
        employee,
        statement,
        now,
        now + valid_for,
    )
    attestation = replace(unsigned, signature=signer.sign(unsigned))
    uow.exemptions.add_attestation(attestation)
    uow.audit.append(
        AuditEvent(
            EventType.ATTESTATION_SIGNED,
            req.actor,
            now,
            subject=f"attestation:{attestation.id}",
            after={
                "device": device.key,
                "policy": req.policy,
                "employee": employee,
                "statement": statement,
                "expires_at": iso(attestation.expires_at),
                "signature": attestation.signature,
            },
        )
    )
    return attestation


def revoke_attestation(
    uow: UnitOfWork,
    attestation_id: str,
    actor: str,
    reason: str,
    now: datetime,
    employee: str | None = None,
) -> Attestation:
    """Revoke an attestation; with `employee`, only one that this employee signed."""
    found = uow.attestations.get(attestation_id)
    if found is None:
        raise NotFound(f"no attestation {attestation_id!r}")
    if employee is not None and found.employee != employee.strip().lower():
        raise Forbidden(f"attestation {attestation_id} was not signed by {employee}")
    if not reason.strip():
        raise InvalidInput(Problem("is empty", "reason", "say why the attestation no longer holds"))
    if not uow.attestations.revoke(attestation_id, now):
        raise Conflict(f"attestation {attestation_id} was already revoked")
    uow.audit.append(
        AuditEvent(
            EventType.ATTESTATION_REVOKED,
            actor,
            now,
            subject=f"attestation:{attestation_id}",
            reason=reason,
            before={"device": found.device, "policy": found.policy},
        )
    )
    return found


class AttestationService:
    """What the self-service page and the API call: each write re-assesses the device."""

    def __init__(self, engine: Compliance, signer: Signer, ttl: timedelta) -> None:
        self.engine = engine
        self.signer = signer
        self.ttl = ttl

    def sign(self, req: AttestationRequest, now: datetime) -> tuple[Attestation, AssessmentReport]:
        return self.engine.write_and_reassess(
            lambda uow: sign_attestation(uow, self.signer, req, now, self.ttl),
            lambda att: [att.device],
            now,
            "attestation",
            req.actor,
        )

    def revoke(
        self,
        attestation_id: str,
        actor: str,
        reason: str,
        now: datetime,
        employee: str | None = None,
    ) -> tuple[Attestation, AssessmentReport]:
        """Revoke (an admin), or withdraw one's own (`employee`: the signed-in employee)."""
        return self.engine.write_and_reassess(
            lambda uow: revoke_attestation(uow, attestation_id, actor, reason, now, employee),
            lambda att: [att.device],
            now,
            "attestation_revoked",
            actor,
        )

    def for_device(self, device: str) -> list[tuple[Attestation, bool]]:
        """The device's attestations, each with whether its signature checks."""
        with self.engine.store.read() as uow:
            found = uow.attestations.for_device(device)
        return [(att, self.signer.valid(att)) for att in found]
