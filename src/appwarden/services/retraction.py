"""Retraction: a correction campaign, approved like a send, to exactly who got the original."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime

from appwarden.core.campaign import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Mode,
    NoticeKind,
    approval_problem,
    text_digest,
)
from appwarden.core.enforcement import EnforcementState
from appwarden.core.errors import Conflict
from appwarden.core.events import EventType
from appwarden.core.notice import NewNotice, Notice
from appwarden.services.campaign_plan import (
    policy_version,
    texts_of,
)
from appwarden.services.campaign_preview import correction_digest, received_people
from appwarden.services.campaigns import (
    Deps,
    StepResult,
    audit,
    check_reason,
    halt,
    new_id,
    refuse,
    save,
)
from appwarden.services.outbox import enqueue_new_urgent
from appwarden.services.ports import UnitOfWork

RETRACTABLE = (
    CampaignStatus.APPROVED,
    CampaignStatus.SENDING,
    CampaignStatus.SENT,
    CampaignStatus.HALTED,
)


def request_retraction(
    uow: UnitOfWork, parent: Campaign, actor: str, reason: str, now: datetime
) -> Campaign:
    """Draft the correction and halt the original at once (halting needs nobody's approval)."""
    reason = check_reason(reason)
    if parent.mode is not Mode.LIVE or parent.kind is not CampaignKind.ANNOUNCE:
        raise Conflict("only a live announcement can be retracted")
    if parent.status not in RETRACTABLE:
        raise Conflict(f"the campaign is {parent.status.value}; nothing to retract")
    pending = [
        c
        for c in uow.campaigns.children(parent.id)
        if c.kind is CampaignKind.CORRECTION and c.status.open
    ]
    if pending:
        raise Conflict(f"retraction {pending[0].id} is already waiting for approval")
    if parent.status in (CampaignStatus.APPROVED, CampaignStatus.SENDING):
        halt(uow, parent, actor, f"retraction requested: {reason}", now)
    correction = Campaign(
        id=new_id("ret"),
        kind=CampaignKind.CORRECTION,
        mode=Mode.LIVE,
        policy=parent.policy,
        version=parent.version,
        status=CampaignStatus.DRAFT,
        author=actor,
        created_at=now,
        deadline=parent.deadline,
        parent=parent.id,
        reason=reason.strip(),
        blocks=False,
    )
    uow.campaigns.add(correction, now)
    audit(uow, EventType.CAMPAIGN_DRAFTED, actor, now, correction, reason, retracts=parent.id)
    return correction


def approve_correction(
    uow: UnitOfWork,
    deps: Deps,
    correction: Campaign,
    approver: str,
    is_approver: bool,
    now: datetime,
    digest: str = "",
) -> StepResult:
    """Retract: stop everything of the original, disarm its enforcement, queue corrections to
    exactly the people who received it, in their locale, all in this one transaction."""
    parent, people = _verified(uow, deps, correction, approver, is_approver, digest)
    uow.outbox.cancel(uow.campaigns.cancel_unsent(parent.id))
    disarmed = uow.campaigns.set_enforcement(
        parent.id,
        EnforcementState.DISARMED,
        now,
        only=(EnforcementState.APPROVED, EnforcementState.ARMED),
    )
    corrections = [
        NewNotice(
            correction.id,
            NoticeKind.CORRECTION,
            n.employee,
            n.locale,
            n.timezone,
            secrets.token_urlsafe(18),
            dict(n.data, retraction_reason=correction.reason, original=n.token),
        )
        for n in people
    ]
    enqueue_new_urgent(uow, correction.id, corrections, now, Mode.LIVE, deps.config.sender, now)
    correction = _record_retraction(uow, parent, correction, approver, now, len(people))
    audit(
        uow,
        EventType.CAMPAIGN_RETRACTED,
        approver,
        now,
        parent,
        correction.reason,
        correction=correction.id,
        corrections=len(people),
        disarmed=len(disarmed),
    )
    return StepResult(correction, disarmed=disarmed)


def _verified(
    uow: UnitOfWork,
    deps: Deps,
    correction: Campaign,
    approver: str,
    is_approver: bool,
    digest: str,
) -> tuple[Campaign, list[Notice]]:
    """The original and who received it, exactly as previewed; or why not."""
    refuse(approval_problem(correction, approver, is_approver, deps.config.approval_threshold))
    if digest and digest != correction.previewed_digest:
        raise Conflict("the digest you approve is not the last preview's; preview again")
    parent = uow.campaigns.get(correction.parent)
    if parent is None or parent.status not in RETRACTABLE:
        raise Conflict("the original campaign is no longer retractable")
    pv = policy_version(uow, correction.policy, correction.version)
    people = received_people(uow, parent.id)
    texts = texts_of(pv, {n.locale for n in people})
    texts["templates"] = deps.renderer.digest()
    if correction_digest(correction, people, text_digest(texts)) != correction.previewed_digest:
        raise Conflict("who received the original changed since the preview; preview again")
    return parent, people


def _record_retraction(
    uow: UnitOfWork,
    parent: Campaign,
    correction: Campaign,
    approver: str,
    now: datetime,
    people: int,
) -> Campaign:
    save(uow, replace(parent, status=CampaignStatus.RETRACTED), now)
    correction = save(
        uow,
        replace(
            correction,
            status=CampaignStatus.SENDING,
            approved_digest=correction.previewed_digest,
            approved_by=approver,
            approved_at=now,
            recipients=people,
            waves=1,
            released_wave=1,
            wave_released_at=now,
        ),
        now,
    )
    audit(
        uow,
        EventType.CAMPAIGN_APPROVED,
        approver,
        now,
        correction,
        correction.reason,
        corrections=people,
    )
    return correction
