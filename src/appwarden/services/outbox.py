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
from appwarden.core.notice import Lane, Notice, NoticeState, OutboxState
from appwarden.core.schedule import capped, local_day, next_morning
from appwarden.services.ports import UnitOfWork

MAX_DEFERRAL_DAYS = 60


def message_id_for(idem_key: str, sender: str) -> str:
    """A Message-ID derived from the idempotency key: a resend carries the same one."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "appwarden.invalid"
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
    created = 0
    attach: dict[int, list[int]] = {}
    for notice in notices:
        if mode is Mode.TEST or not capped(notice.kind):
            message = _urgent(uow, notice, not_before, mode, sender, now)
            created += 1
        else:
            message, new = _daily(uow, notice, not_before, mode, sender, now)
            created += int(new)
        attach.setdefault(message, []).append(notice.id)
    for message, ids in attach.items():
        uow.campaigns.set_notices(ids, NoticeState.QUEUED, outbox_id=message)
    return created


def _urgent(
    uow: UnitOfWork, notice: Notice, not_before: datetime, mode: Mode, sender: str, now: datetime
) -> int:
    idem = f"{mode.value}:urgent:{notice.token}"
    day = local_day(not_before, notice.timezone).isoformat()
    return uow.outbox.add(
        idem,
        message_id_for(idem, sender),
        notice.employee,
        mode,
        Lane.URGENT,
        day,
        not_before,
        now,
    )


def _daily(
    uow: UnitOfWork, notice: Notice, not_before: datetime, mode: Mode, sender: str, now: datetime
) -> tuple[int, bool]:
    due = not_before
    for _ in range(MAX_DEFERRAL_DAYS):
        day = local_day(due, notice.timezone).isoformat()
        existing = uow.outbox.daily_message(notice.employee, day, mode)
        if existing is None:
            idem = f"{mode.value}:daily:{notice.employee}:{day}:{notice.token}"
            message = uow.outbox.add(
                idem,
                message_id_for(idem, sender),
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
