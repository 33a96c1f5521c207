"""Delivery: release waves, hand due messages to the relay, record what it accepted.

Crash safety, step by step, for one message:

    1. claim      (transaction) queued -> sending, with a lease
    2. send       the relay answers 250 for the DATA: it accepted the message
    3. receipt    (its own tiny transaction) message id -> outbox_receipts
    4. record     (transaction) message sent, its notices sent, their enforcement armed, audit

A crash before 2 leaves a claimed message whose lease expires: it is sent again (the relay never
accepted it). A crash between 3 and 4 is repaired from the receipt: recorded, never re-sent. A crash
between 2 and 3 (the relay accepted, nothing durable says so) is the remaining at-least-once
window: the message is sent again with the same Message-ID and idempotency header, so mail
clients and archives that de-duplicate by Message-ID show it once. SMTP offers no way to ask a
relay whether it already has a message, so this window can be narrowed, not closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from appwarden.core.campaign import (
    Campaign,
    CampaignStatus,
    Mode,
    NoticeKind,
    WaveSignals,
    text_digest,
)
from appwarden.core.campaign import halt_reason as halt_rule
from appwarden.core.enforcement import EnforcementKey, EnforcementState
from appwarden.core.errors import InvalidInput
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.notice import Notice, NoticeState, OutboxMessage, OutboxState
from appwarden.core.policy import PolicyVersion
from appwarden.core.schedule import backoff
from appwarden.core.verdict import Status
from appwarden.services.campaign_plan import policy_version, texts_of
from appwarden.services.campaigns import Deps, audit, halt, reset_to_draft, save
from appwarden.services.outbox import enqueue
from appwarden.services.ports import DeliveryError, MailTransport, Store, UnitOfWork

LEASE = timedelta(minutes=2)
ARMING_KINDS = (NoticeKind.ANNOUNCE, NoticeKind.REMINDER)
MAX_ATTEMPTS = 12


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    waves: list[str] = field(default_factory=list)
    armed: list[EnforcementKey] = field(default_factory=list)


Builder = Callable[[OutboxMessage, list[tuple[Notice, PolicyVersion]], datetime], bytes]
Fault = Callable[[str, OutboxMessage], None]


def _still_affected(
    uow: UnitOfWork, lines: list[dict[str, Any]], policy: str
) -> list[dict[str, Any]]:
    """The device lines of a notice whose verdict under `policy` still asks something of the
    owner (failing, or unknown: attest or report); compliant and exempt devices drop out."""
    keep = []
    for line in lines:
        verdict = next(
            (v for v in uow.verdicts.for_device(line.get("key", "")) if v.policy == policy), None
        )
        if verdict is not None and (verdict.status.failing or verdict.status is Status.UNKNOWN):
            keep.append(line)
    return keep


def _sendable(campaign: Campaign, message: OutboxMessage, now: datetime) -> bool:
    if campaign.mode is not message.mode:
        return False  # a test notice never rides a live message, nor the reverse
    if campaign.status in (CampaignStatus.SENDING, CampaignStatus.SENT):
        return True
    return campaign.status is CampaignStatus.APPROVED and (
        campaign.undo_until is None or campaign.undo_until <= now
    )


class Dispatcher:
    def __init__(
        self,
        store: Store,
        deps: Deps,
        transport: MailTransport,
        build: Builder,
        fault: Fault | None = None,
    ) -> None:
        self.store = store
        self.deps = deps
        self.transport = transport
        self.build = build
        self.fault = fault or (lambda _step, _message: None)
        self._versions: dict[tuple[str, int], PolicyVersion] = {}

    # -- waves -----------------------------------------------------------------------------------
    def release_waves(self, now: datetime) -> list[str]:
        events = []
        with self.store.unit_of_work() as uow:
            for campaign in uow.campaigns.find(statuses=["approved", "sending"]):
                event = self._next_wave(uow, campaign, now)
                if event:
                    events.append(event)
        return events

    def _text_changed(self, uow: UnitOfWork, campaign: Campaign, now: datetime) -> str:
        """Templates or policy texts edited after approval: back to draft, or halt."""
        if not campaign.text_digest or campaign.mode is not Mode.LIVE:
            return ""
        pv = self._version(uow, campaign.policy, campaign.version)
        texts = texts_of(pv, uow.campaigns.locales(campaign.id))
        texts["templates"] = self.deps.renderer.digest()
        if text_digest(texts) == campaign.text_digest:
            return ""
        why = "templates or policy texts changed since the approval; preview and approve again"
        if campaign.status is CampaignStatus.APPROVED:
            reset_to_draft(uow, campaign, "system", now, why)
            return f"{campaign.id}: back to draft ({why})"
        halt(uow, campaign, "system", f"auto-halt: {why}", now)
        return f"{campaign.id}: halted ({why})"

    def _version(self, uow: UnitOfWork, slug: str, number: int) -> PolicyVersion:
        key = (slug, number)
        if key not in self._versions:  # versions never change once written
            self._versions[key] = policy_version(uow, slug, number)
        return self._versions[key]

    def _next_wave(self, uow: UnitOfWork, campaign: Campaign, now: datetime) -> str:
        changed = self._text_changed(uow, campaign, now)
        if changed:
            return changed
        counts = uow.campaigns.notice_counts(campaign.id)
        if counts.get("queued") or campaign.released_wave >= campaign.waves:
            if not counts.get("queued") and campaign.status is CampaignStatus.SENDING:
                save(uow, replace(campaign, status=CampaignStatus.SENT), now)
                return f"{campaign.id}: sent"
            return ""
        last = campaign.wave_released_at
        if last is not None and now < last + self.deps.config.wave_interval:
            return ""
        sent = counts.get("sent", 0) + counts.get("bounced", 0)
        signals = WaveSignals(
            sent,
            counts.get("bounced", 0),
            uow.campaigns.replies(campaign.id),
            sum(uow.campaigns.notice_counts(campaign.id, NoticeKind.ANNOUNCE).values()),
            campaign.recipients,
        )
        why = halt_rule(signals, self.deps.config.halt)
        if why:
            halt(uow, campaign, "system", f"auto-halt: {why}", now)
            return f"{campaign.id}: halted ({why})"
        wave = campaign.released_wave + 1
        notices = uow.campaigns.notices(
            campaign.id, [NoticeState.PLANNED], wave=wave, with_data=False
        )
        enqueue(uow, notices, now, Mode.LIVE, self.deps.config.sender, now)
        save(uow, replace(campaign, released_wave=wave, wave_released_at=now), now)
        audit(
            uow,
            EventType.CAMPAIGN_WAVE_SENT,
            "system",
            now,
            campaign,
            wave=wave,
            of=campaign.waves,
            notices=len(notices),
        )
        return f"{campaign.id}: wave {wave} of {campaign.waves} released ({len(notices)})"

    # -- recovery --------------------------------------------------------------------------------
    def recover(self, now: datetime, report: SendReport) -> None:
        """Resolve messages left `sending` by a sender that died (lease expired)."""
        with self.store.read() as uow:
            doubtful = [
                m
                for m in uow.outbox.in_doubt()
                if m.next_attempt_at is None or m.next_attempt_at <= now
            ]
        for message in doubtful:
            with self.store.read() as uow:
                reply = uow.outbox.receipt(message.message_id)
            if reply is not None:
                self._record(message, reply, now, report)
                report.recovered += 1
            else:
                with self.store.unit_of_work() as uow:
                    uow.outbox.mark(
                        message.id,
                        OutboxState.QUEUED,
                        now,
                        error="sender stopped before the relay answered; resending",
                    )

    # -- sending ---------------------------------------------------------------------------------
    def send_due(
        self,
        now: datetime,
        progress: Callable[[int], None] | None = None,
        limit: int | None = None,
    ) -> SendReport:
        report = SendReport()
        self.recover(now, report)
        report.waves = self.release_waves(now)
        try:
            while limit is None or report.sent + report.failed < limit:
                with self.store.unit_of_work() as uow:
                    batch = uow.outbox.claim(now, self.deps.config.batch)
                    for m in batch:
                        uow.outbox.mark(m.id, OutboxState.SENDING, now, retry_at=now + LEASE)
                if not batch:
                    break
                for message in batch:
                    self._deliver(message, now, report)
                    if progress:
                        progress(1)
        finally:
            self.transport.close()
        return report

    def _deliver(self, message: OutboxMessage, now: datetime, report: SendReport) -> None:
        parts = self._parts(message, now)
        if parts is None:
            report.cancelled += 1
            return
        if message.mode is Mode.TEST and message.to_addr not in self.deps.config.test_recipients:
            self._fail(
                message,
                "refused: a test message to an address not on the test list",
                True,
                now,
                report,
            )
            return
        try:
            body = self.build(message, parts, now)
        except InvalidInput as exc:
            self._template_failed(message, parts, str(exc), now, report)
            return
        try:
            self.fault("before_send", message)
            reply = self.transport.send(self._envelope_from(), message.to_addr, body)
        except DeliveryError as exc:
            self._fail(message, str(exc), exc.permanent, now, report)
            return
        self.fault("accepted", message)
        with self.store.unit_of_work() as uow:
            uow.outbox.add_receipt(message.message_id, reply, now)
        self.fault("receipt", message)
        self._record(message, reply, now, report)

    def _template_failed(
        self,
        message: OutboxMessage,
        parts: list[tuple[Notice, PolicyVersion]],
        error: str,
        now: datetime,
        report: SendReport,
    ) -> None:
        """A template that no longer renders halts its campaigns; the message waits."""
        with self.store.unit_of_work() as uow:
            for campaign_id in sorted({n.campaign for n, _ in parts}):
                campaign = uow.campaigns.get(campaign_id)
                if campaign is not None and campaign.status in (
                    CampaignStatus.APPROVED,
                    CampaignStatus.SENDING,
                ):
                    halt(uow, campaign, "system", f"auto-halt: {error}", now)
            uow.outbox.mark(
                message.id,
                OutboxState.QUEUED,
                now,
                error=error,
                retry_at=now + backoff(message.attempts),
            )
        report.retried += 1

    def _envelope_from(self) -> str:
        return parseaddr(self.deps.config.sender)[1]

    def _parts(
        self, message: OutboxMessage, now: datetime
    ) -> list[tuple[Notice, PolicyVersion]] | None:
        """The message's notices whose campaigns may send now; others wait (held) or drop."""
        with self.store.read() as uow:
            notices = [
                n
                for n in uow.campaigns.notices_of_message(message.id)
                if n.state is NoticeState.QUEUED
            ]
            parts = []
            dropped: list[Notice] = []
            trimmed: list[Notice] = []
            for notice in notices:
                campaign = uow.campaigns.get(notice.campaign)
                if campaign is None or not _sendable(campaign, message, now):
                    continue
                if campaign.mode is Mode.LIVE and notice.kind in ARMING_KINDS:
                    lines = notice.data.get("devices", [])
                    still = _still_affected(uow, lines, campaign.policy)
                    if lines and not still:
                        dropped.append(notice)
                        continue
                    if len(still) < len(lines):
                        notice = replace(notice, data={**notice.data, "devices": still})
                        trimmed.append(notice)
                parts.append((notice, self._version(uow, campaign.policy, campaign.version)))
        if dropped or trimmed:
            self._resolved_before_sending(message, dropped, trimmed, now)
        if parts:
            return parts
        with self.store.unit_of_work() as uow:
            if notices and all(self._waiting(uow, n) for n in notices):
                uow.outbox.mark(message.id, OutboxState.QUEUED, now, retry_at=now + LEASE)
                return None
            uow.outbox.mark(message.id, OutboxState.CANCELLED, now)
            return None

    def _resolved_before_sending(
        self, message: OutboxMessage, dropped: list[Notice], trimmed: list[Notice], now: datetime
    ) -> None:
        """A notice says "remove the app from this device by D": devices that complied (or were
        exempted) since the approval leave it; a notice left with none is not sent at all."""
        with self.store.unit_of_work() as uow:
            uow.campaigns.set_notices([n.id for n in dropped], NoticeState.CANCELLED)
            for notice in trimmed:
                uow.campaigns.set_notice_data(notice.id, notice.data)
            uow.audit.append(
                AuditEvent(
                    EventType.NOTICE_DROPPED,
                    "system",
                    now,
                    subject=f"message:{message.id}",
                    reason="devices resolved before the notice left",
                    data={
                        "dropped": [n.id for n in dropped],
                        "trimmed": {
                            str(n.id): [d.get("key") for d in n.data["devices"]] for n in trimmed
                        },
                    },
                )
            )

    def _waiting(self, uow: UnitOfWork, notice: Notice) -> bool:
        campaign = uow.campaigns.get(notice.campaign)
        return campaign is not None and campaign.status is CampaignStatus.APPROVED

    def _fail(
        self,
        message: OutboxMessage,
        error: str,
        permanent: bool,
        now: datetime,
        report: SendReport,
    ) -> None:
        with self.store.unit_of_work() as uow:
            notices = uow.campaigns.notices_of_message(message.id)
            if permanent or message.attempts >= MAX_ATTEMPTS:
                uow.outbox.mark(message.id, OutboxState.FAILED, now, error=error)
                uow.campaigns.set_notices([n.id for n in notices], NoticeState.FAILED)
                uow.audit.append(
                    AuditEvent(
                        EventType.NOTICE_BOUNCED,
                        "system",
                        now,
                        subject=f"message:{message.id}",
                        reason=error,
                        data={
                            "message_id": message.message_id,
                            "rejected": True,
                            "notices": [n.id for n in notices],
                        },
                    )
                )
                report.failed += 1
            else:
                retry = now + backoff(message.attempts)
                uow.outbox.mark(message.id, OutboxState.QUEUED, now, error=error, retry_at=retry)
                report.retried += 1

    def _record(
        self, message: OutboxMessage, reply: str, now: datetime, report: SendReport
    ) -> None:
        with self.store.unit_of_work() as uow:
            notices = [
                n
                for n in uow.campaigns.notices_of_message(message.id)
                if n.state in (NoticeState.QUEUED, NoticeState.HELD)
            ]
            uow.outbox.mark(
                message.id, OutboxState.SENT, now, relay=self.transport.name, reply=reply
            )
            uow.campaigns.set_notices([n.id for n in notices], NoticeState.SENT, sent_at=now)
            for notice in notices:
                report.armed += self._after_sent(uow, notice, now)
            uow.audit.append(
                AuditEvent(
                    EventType.NOTICE_SENT,
                    "system",
                    now,
                    subject=f"message:{message.id}",
                    data={
                        "message_id": message.message_id,
                        "to": message.to_addr,
                        "mode": message.mode.value,
                        "campaigns": sorted({n.campaign for n in notices}),
                        "kinds": sorted({n.kind.value for n in notices}),
                        "relay": self.transport.name,
                    },
                )
            )
        report.sent += 1

    def _after_sent(self, uow: UnitOfWork, notice: Notice, now: datetime) -> list[EnforcementKey]:
        campaign = uow.campaigns.get(notice.campaign)
        if campaign is None:
            return []
        if campaign.status is CampaignStatus.APPROVED:
            save(uow, replace(campaign, status=CampaignStatus.SENDING), now)
            audit(
                uow,
                EventType.CAMPAIGN_WAVE_SENT,
                "system",
                now,
                campaign,
                wave=1,
                of=campaign.waves,
                first_message=True,
            )
        if notice.kind not in ARMING_KINDS or campaign.mode is not Mode.LIVE:
            return []
        named = [str(d["key"]) for d in notice.data.get("devices", []) if d.get("key")]
        return uow.campaigns.set_enforcement(
            campaign.id,
            EnforcementState.ARMED,
            now,
            employees=[notice.employee],
            only=(EnforcementState.APPROVED,),
            devices=named or None,  # arm what the notice announced, not devices it left out
        )
