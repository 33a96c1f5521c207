"""Enrolling a device with a one-time code, and its per-device check-in credential.

An admin creates a code (bound to an employee, and optionally to an existing device); the
device's agent presents it once to `POST /v1/enroll` and receives its own credential. Codes and
credentials are 256-bit random secrets shown once and stored only as SHA-256 hashes. Revoking a
device's credentials stops its check-ins at once (the writer checks each report's credential in
the same transaction that would apply it).

A code names the device's owner; the agent cannot. An agent that reports a serial or EAS
DeviceId of an existing device is bound to it only when that device has the code's owner, so
nobody can enrol a phone as someone else's device and report a clean app list for it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from appwarden.core.errors import Conflict, InvalidInput, NotFound, Problem, Unauthorized
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.inventory import Ownership
from appwarden.core.sources import SourceReport
from appwarden.core.timeutil import iso
from appwarden.services.ingest import Ingest, ReportOutcome
from appwarden.services.ports import DeviceCredential, EnrollmentCode, UnitOfWork

CODE_PREFIX = "awe_"
CREDENTIAL_PREFIX = "awd_"
AGENT_SOURCE = "checkin"
EMAIL_CHARS = frozenset("@.")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeRequest:
    owner: str | None
    ownership: Ownership = Ownership.UNKNOWN
    device_key: str | None = None  # re-enrol this existing device
    ttl: timedelta = timedelta(days=7)


def create_code(
    uow: UnitOfWork, req: CodeRequest, actor: str, now: datetime, max_ttl: timedelta
) -> tuple[EnrollmentCode, str]:
    owner = (req.owner or "").strip().lower() or None
    if owner is not None and not set(owner) >= EMAIL_CHARS:
        raise InvalidInput(Problem(f"{owner!r} is not an email address", "owner"))
    if req.device_key is not None:
        device = uow.inventory.device(req.device_key)
        if device is None:
            raise NotFound(f"no device {req.device_key!r} to re-enrol")
        owner = owner or device.owner
    if owner is None:
        raise InvalidInput(
            Problem("is missing", "owner", "name the employee whose device this code enrols")
        )
    if not timedelta(0) < req.ttl <= max_ttl:
        raise InvalidInput(Problem("must be positive and at most the enrollment_code_ttl", "ttl"))
    secret = CODE_PREFIX + secrets.token_urlsafe(32)
    code = EnrollmentCode(
        "enc-" + secrets.token_hex(5),
        owner,
        req.ownership.value,
        req.device_key,
        actor,
        now,
        now + req.ttl,
    )
    uow.enrollments.add_code(code, secret_hash(secret))
    uow.audit.append(
        AuditEvent(
            EventType.ENROLLMENT_CODE_CREATED,
            actor,
            now,
            subject=f"enrollment:{code.id}",
            after={"owner": owner, "device": req.device_key, "expires_at": iso(code.expires_at)},
        )
    )
    return code, secret


def usable_code(uow: UnitOfWork, secret: str, now: datetime) -> EnrollmentCode:
    if not secret.startswith(CODE_PREFIX):
        raise Unauthorized(f"not an enrolment code; codes start with {CODE_PREFIX}")
    code = uow.enrollments.code_by_hash(secret_hash(secret))
    if code is None:
        raise Unauthorized("unknown enrolment code; ask your administrator for a new one")
    if code.used_at is not None:
        raise Unauthorized(f"enrolment code already used at {iso(code.used_at)}; ask for a new one")
    if code.expires_at <= now:
        raise Unauthorized(f"enrolment code expired at {iso(code.expires_at)}; ask for a new one")
    return code


@dataclass(frozen=True, slots=True)
class Enrolled:
    outcome: ReportOutcome
    credential: DeviceCredential
    secret: str


def enroll(ingest: Ingest, code_secret: str, report: SourceReport) -> Enrolled:
    """Use the code, bind or create the device, issue a credential (the old ones are revoked)."""
    uow, now = ingest.uow, ingest.at
    code = usable_code(uow, code_secret, now)
    device = replace(
        report.device,
        key="",
        owner=code.owner,
        ownership=Ownership(code.ownership),
    )
    report = replace(report, source=AGENT_SOURCE, device=device, apps_known=False)
    key = code.device_key or _bind(ingest, report, code)
    outcome = ingest.apply(report, key=key)
    if not uow.enrollments.use_code(code.id, now, outcome.key):
        raise Unauthorized("enrolment code already used; ask for a new one")
    revoked = uow.enrollments.revoke_credentials(outcome.key, now, "re-enrolment")
    secret = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    credential = DeviceCredential("cred-" + secrets.token_hex(5), outcome.key, now, code.id)
    uow.enrollments.add_credential(credential, secret_hash(secret))
    uow.audit.append(
        AuditEvent(
            EventType.DEVICE_ENROLLED,
            f"device:{outcome.key}",
            now,
            subject=f"device:{outcome.key}",
            after={"credential": credential.id, "code": code.id, "owner": code.owner},
            data={"revoked_credentials": revoked},
        )
    )
    return Enrolled(outcome, credential, secret)


def _bind(ingest: Ingest, report: SourceReport, code: EnrollmentCode) -> str:
    key, _ = ingest.match(report)
    if key is not None:
        current = ingest.uow.inventory.device(key)
        if current is not None and (current.owner or "") == code.owner:
            return key
    return "agent-" + secrets.token_hex(8)


def revoke_device(uow: UnitOfWork, key: str, actor: str, reason: str, now: datetime) -> list[str]:
    if uow.inventory.device(key) is None:
        raise NotFound(f"no device {key!r} in the inventory")
    if not reason.strip():
        raise InvalidInput(Problem("is empty", "reason", "say why the device may not report"))
    revoked = uow.enrollments.revoke_credentials(key, now, actor)
    if not revoked:
        raise Conflict(f"device {key} has no active credential")
    uow.audit.append(
        AuditEvent(
            EventType.DEVICE_CREDENTIAL_REVOKED,
            actor,
            now,
            subject=f"device:{key}",
            reason=reason,
            data={"credentials": revoked},
        )
    )
    return revoked
