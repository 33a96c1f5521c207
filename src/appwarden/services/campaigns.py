"""Campaign use cases: draft, preview, approve, halt, resume, undo. Each runs in the caller's
transaction and writes its audit event there; `NoticeService` (services/notices.py) wraps them.

Returns the enforcement keys a step armed or disarmed, so the caller can update the decision
index right after the commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from appwarden.core.campaign import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Mode,
    NoticeKind,
    Plan,
    Recipient,
    Refusal,
    approval_problem,
    assign_waves,
    needs_second_person,
    wave_sizes,
)
from appwarden.core.enforcement import Enforcement, EnforcementKey, EnforcementState
from appwarden.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.fleet import FleetIndex
from appwarden.core.notice import NewNotice, NoticeState
from appwarden.core.policy import Action, PolicyVersion
from appwarden.core.timeutil import iso
from appwarden.services.campaign_plan import (
    NoticeConfig,
    announce_plan,
    digest_of,
    policy_version,
    recipient_data,
)
from appwarden.services.outbox import enqueue
from appwarden.services.ports import NoticeRenderer, UnitOfWork


@dataclass(frozen=True, slots=True)
class Deps:
    fleet: FleetIndex
    renderer: NoticeRenderer
    config: NoticeConfig


@dataclass
class StepResult:
    campaign: Campaign
    armed: list[EnforcementKey] = field(default_factory=list)
    disarmed: list[EnforcementKey] = field(default_factory=list)
    ok: bool = True
    message: str = ""


MAX_REASON = 2000


def check_reason(text: str, required: bool = True) -> str:
    """Reasons end up in messages and the audit log: required where they explain, bounded."""
    text = text.strip()
    if required and not text:
        raise InvalidInput(Problem("is empty", "reason", "say why, in a sentence"))
    if len(text) > MAX_REASON:
        raise InvalidInput(
            Problem(f"is {len(text)} characters long", "reason", f"keep it under {MAX_REASON}")
        )
    return text


def new_id(prefix: str = "cmp") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def audit(
    uow: UnitOfWork,
    kind: EventType,
    actor: str,
    now: datetime,
    campaign: Campaign,
    reason: str = "",
    **data: Any,
) -> None:
    uow.audit.append(
        AuditEvent(
            kind,
            actor,
            now,
            subject=f"campaign:{campaign.id}",
            reason=reason,
            data={"policy": campaign.policy, "version": campaign.version, **data},
        )
    )


def get(uow: UnitOfWork, campaign_id: str) -> Campaign:
    campaign = uow.campaigns.get(campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}; `appwarden campaign list` shows them")
    return campaign


def save(uow: UnitOfWork, campaign: Campaign, now: datetime) -> Campaign:
    uow.campaigns.save(campaign, now)
    return campaign


# -- draft -----------------------------------------------------------------------------------


def draft(
    uow: UnitOfWork,
    deps: Deps,
    pv: PolicyVersion,
    actor: str,
    now: datetime,
    parent: str = "",
    reason: str = "",
) -> Campaign | None:
    """Draft the announcement of `pv` to everyone not yet told; None when nobody needs telling.

    An open draft for the same policy is superseded (one draft per policy at a time).
    """
    campaign = Campaign(
        id=new_id(),
        kind=CampaignKind.ANNOUNCE,
        mode=Mode.LIVE,
        policy=pv.slug,
        version=pv.version,
        status=CampaignStatus.DRAFT,
        author=actor,
        created_at=now,
        deadline=pv.deadline_at,
        parent=parent,
        reason=reason,
        blocks=pv.policy.action is Action.BLOCK_MAIL,
    )
    plan = announce_plan(uow, deps.fleet, campaign)
    if not plan.recipients:
        return None
    for old in uow.campaigns.find(pv.slug, [CampaignStatus.DRAFT, CampaignStatus.PREVIEWED]):
        if old.kind is CampaignKind.ANNOUNCE:
            save(uow, replace(old, status=CampaignStatus.SUPERSEDED), now)
    campaign = replace(campaign, recipients=len(plan.recipients))
    uow.campaigns.add(campaign, now)
    audit(
        uow,
        EventType.CAMPAIGN_DRAFTED,
        actor,
        now,
        campaign,
        reason,
        people=len(plan.recipients),
        devices=plan.devices,
        deadline=iso(pv.deadline_at),
        parent=parent,
    )
    return campaign


def reset_to_draft(
    uow: UnitOfWork, campaign: Campaign, actor: str, now: datetime, why: str
) -> StepResult:
    """Void an approval (or a preview): nothing left yet, so nothing needs correcting."""
    disarmed = uow.campaigns.set_enforcement(campaign.id, EnforcementState.DISARMED, now)
    uow.outbox.cancel(uow.campaigns.cancel_unsent(campaign.id))
    campaign = save(
        uow,
        replace(
            campaign,
            status=CampaignStatus.DRAFT,
            previewed_digest="",
            approved_digest="",
            approved_by="",
            approved_at=None,
            undo_until=None,
        ),
        now,
    )
    audit(uow, EventType.CAMPAIGN_RESET_TO_DRAFT, actor, now, campaign, why)
    return StepResult(campaign, disarmed=disarmed, ok=False, message=why)


# -- approve ---------------------------------------------------------------------------------


def approve_announce(
    uow: UnitOfWork,
    deps: Deps,
    campaign: Campaign,
    approver: str,
    is_approver: bool,
    now: datetime,
    digest: str = "",
) -> StepResult:
    refuse(approval_problem(campaign, approver, is_approver, deps.config.approval_threshold))
    if digest and digest != campaign.previewed_digest:
        raise Conflict(
            f"you approve digest {digest[:12]}, but the last preview shows "
            f"{campaign.previewed_digest[:12]}; preview again"
        )
    pv = policy_version(uow, campaign.policy, campaign.version)
    plan = announce_plan(uow, deps.fleet, campaign)
    current, tdigest = digest_of(campaign, plan, pv, deps.renderer)
    if current != campaign.previewed_digest:
        return reset_to_draft(
            uow,
            campaign,
            approver,
            now,
            "recipients, devices, deadline or text changed since the preview; preview again",
        )
    sizes = _store_plan(uow, deps, campaign, plan, now)
    campaign = save(
        uow,
        replace(
            campaign,
            status=CampaignStatus.APPROVED,
            approved_digest=current,
            text_digest=tdigest,
            approved_by=approver,
            approved_at=now,
            undo_until=now + deps.config.undo_window,
            recipients=len(plan.recipients),
            waves=len(sizes),
            released_wave=1,
            wave_released_at=now + deps.config.undo_window,
        ),
        now,
    )
    first = uow.campaigns.notices(campaign.id, [NoticeState.PLANNED], wave=1, with_data=False)
    enqueue(uow, first, now + deps.config.undo_window, Mode.LIVE, deps.config.sender, now)
    audit(
        uow,
        EventType.CAMPAIGN_APPROVED,
        approver,
        now,
        campaign,
        digest=current,
        people=len(plan.recipients),
        devices=plan.devices,
        waves=sizes,
        undo_until=iso(campaign.undo_until),
        second_person=needs_second_person(campaign, deps.config.approval_threshold),
    )
    return StepResult(campaign)


def _store_plan(
    uow: UnitOfWork, deps: Deps, campaign: Campaign, plan: Plan, now: datetime
) -> list[int]:
    """The approved notices (in waves) and their enforcement records, not yet armed."""
    sizes = wave_sizes(len(plan.recipients), deps.config.canary, deps.config.waves)
    waves = assign_waves(campaign.id, (r.email for r in plan.recipients), sizes)
    _store_notices(uow, campaign, plan.recipients, waves, now)
    uow.campaigns.add_enforcements(_enforcements(campaign, plan), now)
    return sizes


def refuse(problem: Refusal | None) -> None:
    if problem is not None:
        raise Forbidden(problem.message) if problem.about_person else Conflict(problem.message)


def _store_notices(
    uow: UnitOfWork,
    campaign: Campaign,
    recipients: list[Recipient],
    waves: dict[str, int],
    now: datetime,
) -> None:
    uow.campaigns.add_notices(
        (
            NewNotice(
                campaign.id,
                NoticeKind.ANNOUNCE,
                r.email,
                r.owner.locale,
                r.owner.timezone,
                secrets.token_urlsafe(18),
                recipient_data(r.owner.name, [d.as_data() for d in r.devices], r.deadline),
                waves[r.email],
            )
            for r in recipients
        ),
        now,
    )


def _enforcements(campaign: Campaign, plan: Plan) -> list[Enforcement]:
    return [
        Enforcement(campaign.id, d.key, campaign.policy, d.version, d.deadline, r.email)
        for r in plan.recipients
        for d in r.devices
    ]


# -- halt, resume, undo ----------------------------------------------------------------------


def halt(uow: UnitOfWork, campaign: Campaign, actor: str, reason: str, now: datetime) -> StepResult:
    """Stop releasing waves; queued notices wait (held). Enforcement already armed stays."""
    reason = check_reason(reason)
    if campaign.status not in (CampaignStatus.APPROVED, CampaignStatus.SENDING):
        raise Conflict(f"the campaign is {campaign.status.value}; only a sending one halts")
    held = uow.campaigns.notices(campaign.id, [NoticeState.QUEUED])
    uow.campaigns.set_notices([n.id for n in held], NoticeState.HELD)
    uow.outbox.cancel({n.outbox_id for n in held if n.outbox_id is not None})
    campaign = save(uow, replace(campaign, status=CampaignStatus.HALTED, halt_reason=reason), now)
    audit(uow, EventType.CAMPAIGN_HALTED, actor, now, campaign, reason, held=len(held))
    return StepResult(campaign)


def resume(
    uow: UnitOfWork, deps: Deps, campaign: Campaign, actor: str, is_approver: bool, now: datetime
) -> StepResult:
    """An approver (never the author) lets a halted campaign continue."""
    if campaign.status is not CampaignStatus.HALTED:
        raise Conflict(f"the campaign is {campaign.status.value}; only a halted one resumes")
    if actor.lower() == campaign.author.lower() or not is_approver:
        raise Forbidden("a second person with the approver role resumes a halted campaign")
    held = uow.campaigns.notices(campaign.id, [NoticeState.HELD])
    enqueue(uow, held, now, Mode.LIVE, deps.config.sender, now)
    campaign = save(
        uow,
        replace(campaign, status=CampaignStatus.SENDING, halt_reason="", wave_released_at=now),
        now,
    )
    audit(
        uow,
        EventType.CAMPAIGN_RESUMED,
        actor,
        now,
        campaign,
        "resumed after halt",
        resumed=len(held),
    )
    return StepResult(campaign)


def undo(uow: UnitOfWork, campaign: Campaign, actor: str, now: datetime) -> StepResult:
    """Within the undo window, before anything left: cancel everything, disarm everything."""
    if campaign.status is not CampaignStatus.APPROVED:
        raise Conflict(
            f"the campaign is {campaign.status.value}; undo works only between approval and "
            "the first message (use `campaign retract` once notices have left)"
        )
    if campaign.undo_until is not None and now >= campaign.undo_until:
        raise Conflict(
            f"the undo window closed at {iso(campaign.undo_until)}; use `campaign retract`"
        )
    if uow.campaigns.notice_counts(campaign.id).get(NoticeState.SENT.value):
        raise Conflict("a notice already left; use `campaign retract`")
    uow.outbox.cancel(uow.campaigns.cancel_unsent(campaign.id))
    disarmed = uow.campaigns.set_enforcement(campaign.id, EnforcementState.DISARMED, now)
    campaign = save(uow, replace(campaign, status=CampaignStatus.UNDONE), now)
    audit(uow, EventType.CAMPAIGN_UNDONE, actor, now, campaign, disarmed=len(disarmed))
    return StepResult(campaign, disarmed=disarmed)
