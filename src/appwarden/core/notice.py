"""Notices (what one person is told, by one campaign) and outbox messages (what leaves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from appwarden.core.campaign import Mode, NoticeKind


class NoticeState(StrEnum):
    PLANNED = "planned"  # approved, in a wave not released yet
    QUEUED = "queued"  # attached to an outbox message
    HELD = "held"  # its campaign halted before it left
    SENT = "sent"  # the relay accepted the message that carried it
    BOUNCED = "bounced"  # accepted, then reported undeliverable
    FAILED = "failed"  # rejected for good
    CANCELLED = "cancelled"  # undone, retracted, or superseded before it left


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender; in doubt after a crash until resolved
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Lane(StrEnum):
    DAILY = "daily"  # at most one message per person per local day; notices merge into it
    URGENT = "urgent"  # corrections and test messages: never merged or held back


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    campaign: str
    kind: NoticeKind
    employee: str
    locale: str
    timezone: str
    state: NoticeState
    token: str  # unguessable: the employee's link to check the notice is genuine
    data: dict[str, Any] = field(default_factory=dict)  # owner name, devices, apps, deadline
    wave: int = 1
    outbox_id: int | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewNotice:
    campaign: str
    kind: NoticeKind
    employee: str
    locale: str
    timezone: str
    token: str
    data: dict[str, Any]
    wave: int = 1
    state: NoticeState = NoticeState.PLANNED


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    idem_key: str
    message_id: str  # RFC 5322 Message-ID, without angle brackets
    to_addr: str
    mode: Mode
    lane: Lane
    day: str
    state: OutboxState
    not_before: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""
    sent_at: datetime | None = None
