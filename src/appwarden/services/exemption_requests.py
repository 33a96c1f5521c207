"""Exemptions asked for by one person and granted by another (an approver)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from appwarden.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.exemptions import Exemption, TargetKind
from appwarden.core.timeutil import format_duration
from appwarden.services.compliance import Compliance
from appwarden.services.ports import ExemptionRequest, UnitOfWork

MAX_REASON = 2000


def request_exemption(
    uow: UnitOfWork,
    *,
    target_kind: str,
    target: str,
    policy: str,
    reason: str,
    expires_at: datetime,
    requested_by: str,
    now: datetime,
    max_duration: timedelta,
) -> ExemptionRequest:
    problems = []
    if target_kind not in (TargetKind.DEVICE.value, TargetKind.EMPLOYEE.value):
        problems.append(Problem(f"{target_kind!r} is not device or employee", "target_kind"))
    if not reason.strip():
        problems.append(Problem("is empty", "reason", "say why the exemption is needed"))
    elif len(reason) > MAX_REASON:
        problems.append(Problem(f"is longer than {MAX_REASON} characters", "reason", "shorten it"))
    if expires_at <= now:
        problems.append(Problem("is not in the future", "expires", "choose a later date"))
    elif expires_at - now > max_duration:
        limit = format_duration(max_duration)
        problems.append(
            Problem(f"is further than {limit} away", "expires", "choose an earlier date")
        )
    if problems:
        raise InvalidInput(problems)
    if target_kind == "device" and uow.inventory.device(target) is None:
        raise NotFound(f"no device {target!r} in the inventory")
    if target_kind == "employee" and uow.inventory.employee(target) is None:
        raise NotFound(f"no employee {target!r} in the inventory")
    if policy != "*" and uow.policies.current(policy) is None:
        raise NotFound(f"no policy {policy!r}; pick one of the policies listed")
    request = ExemptionRequest(
        id="er-" + secrets.token_hex(5),
        target_kind=target_kind,
        target=target.lower() if target_kind == "employee" else target,
        policy=policy,
        reason=reason.strip(),
        expires_at=expires_at,
        requested_by=requested_by,
        created_at=now,
    )
    uow.exemption_requests.add(request)
    uow.audit.append(
        AuditEvent(
            EventType.EXEMPTION_REQUESTED,
            requested_by,
            now,
            subject=f"exemption_request:{request.id}",
            reason=request.reason,
            after={"target": f"{target_kind}:{request.target}", "policy": policy},
        )
    )
    return request


def _open(uow: UnitOfWork, request_id: str) -> ExemptionRequest:
    request = uow.exemption_requests.get(request_id)
    if request is None:
        raise NotFound(f"no exemption request {request_id!r}")
    if request.status != "requested":
        raise Conflict(f"exemption request {request_id} is already {request.status}")
    return request


def grant_request(engine: Compliance, request_id: str, approver: str, now: datetime) -> Exemption:
    with engine.lock:
        with engine.store.read() as uow:
            request = _open(uow, request_id)
        if request.requested_by.lower() == approver.lower():
            raise Forbidden("you asked for this exemption; another approver must grant it")
        exemption, _report = engine.grant_exemption(
            now,
            target_kind=TargetKind(request.target_kind),
            target=request.target,
            policy=request.policy,
            reason=request.reason,
            approver=approver,
            actor=request.requested_by,
            expires_at=request.expires_at,
        )
        with engine.store.unit_of_work() as uow:
            uow.exemption_requests.decide(request_id, "granted", approver, now, exemption.id)
        return exemption


def decline_request(
    uow: UnitOfWork, request_id: str, actor: str, reason: str, now: datetime
) -> None:
    request = _open(uow, request_id)
    uow.exemption_requests.decide(request_id, "declined", actor, now, None)
    uow.audit.append(
        AuditEvent(
            EventType.EXEMPTION_REQUEST_DECLINED,
            actor,
            now,
            subject=f"exemption_request:{request.id}",
            reason=reason.strip()[:MAX_REASON],
        )
    )
