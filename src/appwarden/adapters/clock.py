"""Clocks. The core never reads one; entry points pass `now` in from here."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from appwarden.core.timeutil import parse_instant


class Clock(Protocol):
    def now(self) -> datetime: ...

    def epoch(self) -> float:
        """Seconds since 1970 (the hot path's cheap form of `now`)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def epoch(self) -> float:
        return time.time()


class FixedClock:
    """Always the same instant (`--now`, tests)."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def epoch(self) -> float:
        return self.instant.timestamp()

    def advance(self, delta: timedelta) -> None:
        self.instant += delta


class ReplayClock:
    """Starts at a chosen instant and runs forward at real speed (replaying a deadline)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._origin = time.monotonic()
        self._offset = start.timestamp() - time.time()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._origin)

    def epoch(self) -> float:
        return time.time() + self._offset


def clock_from_setting(value: str) -> Clock:
    if not value or value == "system":
        return SystemClock()
    return ReplayClock(parse_instant(value, default_zone="UTC"))
