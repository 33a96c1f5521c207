"""When notices may leave: the one-per-person-per-day rule, reminders and retry backoff. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from appwarden.core.campaign import NoticeKind
from appwarden.core.timeutil import in_zone, utc, zone

MORNING = time(8, 0)
# Corrections are never held back by the daily limit: telling people a notice was wrong is urgent.
UNCAPPED = frozenset({NoticeKind.CORRECTION})


def local_day(instant: datetime, zone_name: str) -> date:
    return in_zone(instant, zone_name).date()


def next_morning(instant: datetime, zone_name: str) -> datetime:
    """08:00 local time on the day after `instant` (where the daily limit defers a notice)."""
    tz = zone(zone_name)
    day = in_zone(instant, zone_name).date() + timedelta(days=1)
    return utc(datetime.combine(day, MORNING, tzinfo=tz))


def capped(kind: NoticeKind) -> bool:
    return kind not in UNCAPPED


def reminders_due(
    deadline: datetime, offsets: Iterable[timedelta], now: datetime, done: Iterable[int]
) -> list[int]:
    """Reminder offsets (in seconds before the deadline) that are due now and not sent yet."""
    finished = set(done)
    due = []
    for offset in sorted(offsets, reverse=True):
        seconds = int(offset.total_seconds())
        if seconds in finished:
            continue
        if deadline - offset <= now < deadline:
            due.append(seconds)
    return due


def backoff(attempts: int, base: timedelta = timedelta(seconds=30)) -> timedelta:
    """30 s, 1 min, 2 min ... capped at one hour."""
    delay: timedelta = base * (2 ** max(attempts - 1, 0))
    return min(delay, timedelta(hours=1))
