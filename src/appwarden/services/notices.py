"""The notices service: every campaign operation as one call with clear inputs and outputs.

The CLI, the admin API and the console all go through here. Each call is one transaction (its
audit events included); enforcement it arms or disarms reaches the decision index right after
the commit, before the call returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appwarden.core.campaign import Campaign, CampaignKind, CampaignStatus, needs_second_person
from appwarden.core.errors import Forbidden, NotFound
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.fleet import FleetIndex
from appwarden.core.notice import NoticeState
from appwarden.core.policy import PolicyVersion
from appwarden.core.timeutil import iso
from appwarden.services import campaigns as steps
from appwarden.services import notice_events, retraction
from appwarden.services.campaign_plan import NoticeConfig, policy_version
from appwarden.services.campaign_preview import Preview, preview
from appwarden.services.compliance import Compliance
from appwarden.services.delivery import Builder, Dispatcher, Fault, SendReport
from appwarden.services.gc_control import gc_paused
from appwarden.services.ports import MailTransport, NoticeRenderer, UnitOfWork
from appwarden.services.test_send import send_test


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, and whether the server checked they hold the approver role."""

    name: str
    is_approver: bool = False


class NoticeService:
    def __init__(
        self,
        engine: Compliance,
        renderer: NoticeRenderer,
        config: NoticeConfig,
        transport: Callable[[], MailTransport],
        build: Builder,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.renderer = renderer
        self.config = config
        self.transport = transport
        self.build = build
        engine.policy_hooks.append(self._after_policy_applied)

    def deps(self, fleet: FleetIndex | None = None) -> steps.Deps:
        return steps.Deps(fleet or self.engine.fleet, self.renderer, self.config)

    def _after_policy_applied(
        self, uow: UnitOfWork, fleet: FleetIndex, pv: PolicyVersion, actor: str, now: datetime
    ) -> None:
        """Applying a policy drafts a campaign; an approved one that has not left goes back."""
        for old in uow.campaigns.find(pv.slug, ["approved", "sending"]):
            if old.version == pv.version or old.mode.value != "live":
                continue
            if old.status is CampaignStatus.APPROVED:
                steps.reset_to_draft(uow, old, actor, now, f"policy changed (version {pv.version})")
            else:
                steps.halt(uow, old, actor, f"policy changed (version {pv.version})", now)
        steps.draft(uow, self.deps(fleet), pv, actor, now)

    # -- reading ---------------------------------------------------------------------------------
    def list_campaigns(self, policy: str | None = None) -> list[Campaign]:
        with self.store.read() as uow:
            return uow.campaigns.find(policy)

    def status(self, campaign_id: str) -> dict[str, Any]:
        with self.store.read() as uow:
            c = steps.get(uow, campaign_id)
            return {
                "campaign": c,
                "notices": uow.campaigns.notice_counts(c.id),
                "messages": uow.outbox.counts(c.id),
                "enforcement": uow.campaigns.enforcement_counts(c.id),
                "replies": uow.campaigns.replies(c.id),
                "errors": uow.outbox.errors(c.id),
                "children": [
                    (k.id, k.kind.value, k.mode.value, k.status.value)
                    for k in uow.campaigns.children(c.id)
                ],
            }

    def verify(self, token: str, locale: str = "") -> dict[str, Any]:
        """What the public page shows for a notice link: genuine, and still in force?

        Only what the notice itself said (policy, owner, deadline, reason), never who got it;
        texts in `locale` when given, else in the notice's own language.
        """
        with self.store.read() as uow:
            notice = uow.campaigns.notice_by_token(token) if len(token) <= 64 else None
            if notice is None:
                raise NotFound("no such notice: this link was not issued by AppWarden")
            campaign = steps.get(uow, notice.campaign)
            pv = policy_version(uow, campaign.policy, campaign.version)
            current = uow.policies.current(campaign.policy)
            retraction_reason = next(
                (
                    k.reason
                    for k in uow.campaigns.children(campaign.id)
                    if k.kind is CampaignKind.CORRECTION and k.status.live
                ),
                campaign.reason if campaign.kind is CampaignKind.CORRECTION else "",
            )
        retracted = campaign.status is CampaignStatus.RETRACTED
        active = (
            campaign.status.live
            and current is not None
            and current.active
            and (current.version.version == campaign.version)
        )
        return {
            "genuine": True,
            "status": "retracted" if retracted else ("active" if active else "superseded"),
            "kind": notice.kind.value,
            "test": campaign.mode.value == "test",
            "policy": campaign.policy,
            "title": pv.policy.text("title", locale or notice.locale),
            "reason": pv.policy.text("reason", locale or notice.locale),
            "version": campaign.version,
            "current_version": current.version.version if current and current.active else None,
            "retraction": retraction_reason,
            "owner": pv.policy.owner,
            "deadline": iso(campaign.deadline),
            "sent_at": iso(notice.sent_at),
            "locale": notice.locale,
        }

    # -- lifecycle -------------------------------------------------------------------------------
    def draft(self, policy: str, actor: str, now: datetime) -> Campaign | None:
        with self.engine.lock, self.store.unit_of_work() as uow:
            stored = uow.policies.current(policy)
            if stored is None or not stored.active:
                raise NotFound(f"no active policy {policy!r}")
            return steps.draft(uow, self.deps(), stored.version, actor, now)

    def preview(self, campaign_id: str, actor: str, now: datetime) -> Preview:
        with self.engine.lock, gc_paused(), self.store.unit_of_work() as uow:
            return preview(uow, self.deps(), campaign_id, actor, now)

    def approve(
        self, campaign_id: str, actor: Actor, now: datetime, digest: str = ""
    ) -> steps.StepResult:
        with self.engine.lock, gc_paused():
            with self.store.unit_of_work() as uow:
                c = steps.get(uow, campaign_id)
                self._refuse_proposer(uow, c, actor.name)
                if c.kind is CampaignKind.CORRECTION:
                    result = retraction.approve_correction(
                        uow, self.deps(), c, actor.name, actor.is_approver, now, digest
                    )
                else:
                    result = steps.approve_announce(
                        uow, self.deps(), c, actor.name, actor.is_approver, now, digest
                    )
            self.engine.apply_enforcement(result.armed, result.disarmed)
            return result

    def _refuse_proposer(self, uow: UnitOfWork, c: Campaign, approver: str) -> None:
        """Who proposed the policy version a campaign announces is one of its authors too."""
        if c.kind is not CampaignKind.ANNOUNCE:
            return
        if not needs_second_person(c, self.config.approval_threshold):
            return
        proposal = uow.proposals.applied_as(c.policy, c.version)
        if proposal is not None and proposal.author.lower() == approver.strip().lower():
            raise Forbidden(
                f"{approver} proposed version {c.version} of {c.policy} ({proposal.id}); "
                "a second person with the approver role approves what it announces"
            )

    def halt(self, campaign_id: str, actor: str, reason: str, now: datetime) -> Campaign:
        with self.engine.lock, self.store.unit_of_work() as uow:
            return steps.halt(uow, steps.get(uow, campaign_id), actor, reason, now).campaign

    def resume(self, campaign_id: str, actor: Actor, now: datetime) -> Campaign:
        with self.engine.lock, self.store.unit_of_work() as uow:
            c = steps.get(uow, campaign_id)
            return steps.resume(uow, self.deps(), c, actor.name, actor.is_approver, now).campaign

    def undo(self, campaign_id: str, actor: str, now: datetime) -> steps.StepResult:
        with self.engine.lock:
            with self.store.unit_of_work() as uow:
                result = steps.undo(uow, steps.get(uow, campaign_id), actor, now)
            self.engine.apply_enforcement(result.armed, result.disarmed)
            return result

    def retract(self, campaign_id: str, actor: str, reason: str, now: datetime) -> Campaign:
        """Halt the original now and draft its correction (preview + approve executes it)."""
        with self.engine.lock, self.store.unit_of_work() as uow:
            parent = steps.get(uow, campaign_id)
            return retraction.request_retraction(uow, parent, actor, reason, now)

    def test(self, campaign_id: str, actor: str, now: datetime) -> Campaign:
        with self.engine.lock, self.store.unit_of_work() as uow:
            return send_test(uow, self.deps(), steps.get(uow, campaign_id), actor, now)

    # -- signals from the mail system ------------------------------------------------------------
    def signal(
        self, message_id: str, kind: str, actor: str, now: datetime, detail: str = ""
    ) -> int:
        """A bounce or a reply for a message we sent (by its Message-ID); returns notices hit."""
        with self.store.unit_of_work() as uow:
            message = uow.outbox.by_message_id(message_id)
            if message is None:
                raise NotFound(f"no message with Message-ID {message_id!r}")
            notices = uow.campaigns.notices_of_message(message.id)
            for n in notices:
                if kind == "bounce":
                    uow.campaigns.set_notices([n.id], NoticeState.BOUNCED)
                else:
                    uow.campaigns.mark_replied(n.id)
            event = EventType.NOTICE_BOUNCED if kind == "bounce" else EventType.NOTICE_REPLIED
            uow.audit.append(
                AuditEvent(
                    event,
                    actor,
                    now,
                    subject=f"message:{message.id}",
                    reason=detail[:200],
                    data={
                        "message_id": message.message_id,
                        "signal": kind,
                        "notices": [n.id for n in notices],
                    },
                )
            )
            return len(notices)

    # -- delivery --------------------------------------------------------------------------------
    def dispatcher(self, fault: Fault | None = None) -> Dispatcher:
        return Dispatcher(self.store, self.deps(), self.transport(), self.build, fault)

    def tick(
        self,
        now: datetime,
        progress: Callable[[int], None] | None = None,
        fault: Fault | None = None,
        limit: int | None = None,
    ) -> tuple[notice_events.EventsReport, SendReport]:
        """One round of the notice machinery: transitions, reminders, waves, sends."""
        with self.engine.lock, self.store.unit_of_work() as uow:
            events = notice_events.process(uow, self.deps(), now)
        report = self.dispatcher(fault).send_due(now, progress, limit)
        self.engine.apply_enforcement(report.armed)
        return events, report
