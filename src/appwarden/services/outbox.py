"""Putting notices into the outbox: one message per person per local day, merged across policies.

A notice joins the person's message of that day while it is still queued (the message then waits
for the later of the two). If that day's message already left, the notice waits for the next
morning (08:00 in the person's time zone). Corrections and test messages take the urgent lane:
each is its own message and leaves at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from email.utils import parseaddr

from appwarden.core.campaign import Mode
from appwarden.core.notice import Lane, NewNotice, Notice, NoticeState, OutboxState
from appwarden.core.schedule import capped, local_day, next_morning
from appwarden.services.ports import UnitOfWork

MAX_DEFERRAL_DAYS = 60


def domain_of(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "appwarden.invalid"


def message_id_for(idem_key: str, domain: str) -> str:
    """A Message-ID derived from the idempotency key: a resend carries the same one."""
    return f"{hashlib.sha256(idem_key.encode()).hexdigest()[:32]}@{domain}"


def enqueue(
    uow: UnitOfWork,
    notices: Iterable[Notice],
    not_before: datetime,
    mode: Mode,
    sender: str,
    now: datetime,
) -> int:
    """Attach each notice to an outbox message; returns how many messages were created."""
    domain = domain_of(sender)
    urgent = [n for n in notices if mode is Mode.TEST or not capped(n.kind)]
    daily = [n for n in notices if not (mode is Mode.TEST or not capped(n.kind))]
    created = _urgent(uow, urgent, not_before, mode, domain, now)
    attach: dict[int, list[int]] = {}
    for notice in daily:
        message, new = _daily(uow, notice, not_before, mode, domain, now)
        created += int(new)
        attach.setdefault(message, []).append(notice.id)
    for message, ids in attach.items():
        uow.campaigns.set_notices(ids, NoticeState.QUEUED, outbox_id=message)
    return created


def _urgent(
    uow: UnitOfWork,
    notices: list[Notice],
    not_before: datetime,
    mode: Mode,
    domain: str,
    now: datetime,
) -> int:
    """One message per notice, written and linked in bulk (a retraction queues 50,000)."""
    if not notices:
        return 0
    rows = []
    links = []
    for n in notices:
        idem = f"{mode.value}:urgent:{n.token}"
        day = local_day(not_before, n.timezone).isoformat()
        rows.append((idem, message_id_for(idem, domain), n.employee, mode, Lane.URGENT, day))
        links.append((idem, n.id))
    uow.outbox.add_many(rows, not_before, now)
    uow.campaigns.link_to_messages(links)
    return len(rows)


def enqueue_new_urgent(
    uow: UnitOfWork,
    campaign: str,
    notices: list[NewNotice],
    not_before: datetime,
    mode: Mode,
    sender: str,
    now: datetime,
) -> int:
    """Store new notices of one campaign and queue each as its own message, in three bulk
    statements (a retraction queues tens of thousands in one transaction)."""
    domain = domain_of(sender)
    days: dict[str, str] = {}
    rows = []
    for n in notices:
        if n.timezone not in days:
            days[n.timezone] = local_day(not_before, n.timezone).isoformat()
        idem = f"{mode.value}:urgent:{n.token}"
        rows.append(
            (idem, message_id_for(idem, domain), n.employee, mode, Lane.URGENT, days[n.timezone])
        )
    uow.campaigns.add_notices(notices, now)
    uow.outbox.add_many(rows, not_before, now)
    uow.campaigns.link_campaign_by_token(campaign, f"{mode.value}:urgent:")
    return len(rows)


def _daily(
    uow: UnitOfWork, notice: Notice, not_before: datetime, mode: Mode, domain: str, now: datetime
) -> tuple[int, bool]:
    due = not_before
    for _ in range(MAX_DEFERRAL_DAYS):
        day = local_day(due, notice.timezone).isoformat()
        existing = uow.outbox.daily_message(notice.employee, day, mode)
        if existing is None:
            idem = f"{mode.value}:daily:{notice.employee}:{day}:{notice.token}"
            message = uow.outbox.add(
                idem,
                message_id_for(idem, domain),
                notice.employee,
                mode,
                Lane.DAILY,
                day,
                due,
                now,
            )
            return message, True
        if existing.state is OutboxState.QUEUED:
            uow.outbox.postpone(existing.id, due)
            return existing.id, False
        due = max(due, next_morning(due, notice.timezone))
    raise RuntimeError(f"no free day for {notice.employee} within {MAX_DEFERRAL_DAYS} days")
