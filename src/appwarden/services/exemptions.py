"""Exemptions: time-boxed, reasoned, approved by someone other than the requester, audited."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from appwarden.core.errors import Conflict, InvalidInput, NotFound, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.exemptions import Exemption, TargetKind
from appwarden.core.timeutil import format_duration, iso
from appwarden.services.ports import UnitOfWork


def grant_exemption(
    uow: UnitOfWork,
    *,
    target_kind: TargetKind,
    target: str,
    policy: str,
    reason: str,
    approver: str,
    actor: str,
    expires_at: datetime,
    now: datetime,
    max_duration: timedelta,
) -> Exemption:
    problems = []
    if not reason.strip():
        problems.append(Problem("is empty", "reason", "say why this exemption is needed"))
    if not approver.strip():
        problems.append(Problem("is empty", "approver", "name the person who approved it"))
    elif approver.strip().lower() == actor.strip().lower():
        problems.append(
            Problem("is the requester", "approver", "a second person must approve an exemption")
        )
    if expires_at <= now:
        problems.append(Problem("is not in the future", "expires", "give a later expiry"))
    elif expires_at - now > max_duration:
        limit = format_duration(max_duration)
        problems.append(Problem(f"is further than {limit} away", "expires", "shorten it"))
    if problems:
        raise InvalidInput(problems)
    if target_kind is TargetKind.DEVICE:
        if uow.inventory.device(target) is None:
            raise NotFound(f"no device {target!r} in the inventory")
    else:
        target = target.lower()
        if uow.inventory.employee(target) is None:
            raise NotFound(f"no employee {target!r} in the inventory")
    if policy != "*" and uow.policies.current(policy) is None:
        raise NotFound(f"no policy {policy!r}; use a policy slug or * for every policy")
    exemption = Exemption(
        id="ex-" + secrets.token_hex(5),
        target_kind=target_kind,
        target=target,
        policy=policy,
        reason=reason.strip(),
        approver=approver.strip(),
        created_by=actor,
        created_at=now,
        expires_at=expires_at,
    )
    uow.exemptions.add(exemption)
    uow.audit.append(
        AuditEvent(
            EventType.EXEMPTION_GRANTED,
            actor,
            now,
            subject=f"exemption:{exemption.id}",
            reason=exemption.reason,
            after={
                "target": f"{target_kind.value}:{target}",
                "policy": policy,
                "approver": exemption.approver,
                "expires_at": iso(expires_at),
            },
        )
    )
    return exemption


def revoke_exemption(
    uow: UnitOfWork, exemption_id: str, actor: str, reason: str, now: datetime
) -> Exemption:
    exemption = uow.exemptions.get(exemption_id)
    if exemption is None:
        raise NotFound(f"no exemption {exemption_id!r}; `appwarden exempt list` shows them")
    if exemption.revoked_at is not None:
        raise Conflict(
            f"exemption {exemption_id} was already revoked at {iso(exemption.revoked_at)}"
        )
    if not reason.strip():
        raise InvalidInput(Problem("is empty", "reason", "say why the exemption ends early"))
    uow.exemptions.revoke(exemption_id, now, actor, reason)
    uow.audit.append(
        AuditEvent(
            EventType.EXEMPTION_REVOKED,
            actor,
            now,
            subject=f"exemption:{exemption_id}",
            reason=reason,
            before={"expires_at": iso(exemption.expires_at)},
        )
    )
    return exemption
