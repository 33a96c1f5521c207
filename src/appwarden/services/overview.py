"""What the console overview shows: fleet size, each policy's scope and status counts, and a
burn-down toward each deadline. Counts come from the in-memory fleet bitmaps and the indexed
verdict table; the burn-down is folded incrementally from the transitions table, so a page view
reads only the transitions recorded since the last one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from appwarden.core.fleet import FleetIndex
from appwarden.core.fleet_assess import scope_bitmap
from appwarden.core.inventory import Platform, Visibility
from appwarden.core.timeutil import parse_instant
from appwarden.core.verdict import Status
from appwarden.services.ports import StoredPolicy, UnitOfWork

# A device "still carries" a barred app while its verdict is one of these.
CARRYING = frozenset({"pending", "overdue", "blocked", "exempt"})
STATUS_ORDER = ("compliant", "pending", "overdue", "blocked", "exempt", "unknown")
BATCH = 50_000


@dataclass(frozen=True, slots=True)
class FleetSummary:
    devices: int
    employees: int
    with_mail: int
    by_platform: Mapping[str, int]
    apps_unseen: int


@dataclass(frozen=True, slots=True)
class BurnPoint:
    day: date
    carrying: int


@dataclass(frozen=True, slots=True)
class PolicyCard:
    stored: StoredPolicy
    in_scope: int
    counts: Mapping[str, int]
    burndown: tuple[BurnPoint, ...]

    @property
    def carrying(self) -> int:
        return sum(n for s, n in self.counts.items() if s in CARRYING)


def fleet_summary(fleet: FleetIndex) -> FleetSummary:
    return FleetSummary(
        devices=len(fleet),
        employees=len(fleet.employees),
        with_mail=len(fleet.mail),
        by_platform={p.value: len(fleet.by_platform[p]) for p in Platform if fleet.by_platform[p]},
        apps_unseen=len(fleet.by_visibility[Visibility.NONE]),
    )


def status_counts(uow: UnitOfWork, slug: str, in_scope: int) -> dict[str, int]:
    stored = uow.console.status_counts(slug)
    counts = {s: stored.get(s, 0) for s in STATUS_ORDER}
    others = sum(n for s, n in stored.items() if s != Status.COMPLIANT.value)
    counts["compliant"] = max(in_scope - others, 0)
    return counts


@dataclass
class _Fold:
    last_id: int = 0
    deltas: dict[date, int] = field(default_factory=dict)


class BurnDown:
    """Per policy, the net change of devices carrying a barred app, per day (UTC)."""

    def __init__(self) -> None:
        self._folds: dict[str, _Fold] = {}
        self._lock = threading.Lock()

    def series(self, uow: UnitOfWork, slug: str) -> tuple[BurnPoint, ...]:
        with self._lock:
            fold = self._folds.setdefault(slug, _Fold())
            while True:
                rows = uow.console.policy_transitions(slug, fold.last_id, BATCH)
                for row_id, old, new, at in rows:
                    delta = (new in CARRYING) - (old in CARRYING)
                    if delta:
                        day = parse_instant(at).date()
                        fold.deltas[day] = fold.deltas.get(day, 0) + delta
                    fold.last_id = row_id
                if len(rows) < BATCH:
                    break
            points, running = [], 0
            for day in sorted(fold.deltas):
                running += fold.deltas[day]
                points.append(BurnPoint(day, running))
            return tuple(points)


def policy_cards(uow: UnitOfWork, fleet: FleetIndex, burndown: BurnDown) -> list[PolicyCard]:
    cards = []
    for stored in uow.policies.active():
        in_scope = len(scope_bitmap(fleet, stored.version.policy.scope))
        cards.append(
            PolicyCard(
                stored,
                in_scope,
                status_counts(uow, stored.version.slug, in_scope),
                burndown.series(uow, stored.version.slug),
            )
        )
    return cards


def daily(points: tuple[BurnPoint, ...], start: date, end: date) -> list[BurnPoint]:
    """One point per day from `start` to `end`, carrying each day's last value forward."""
    by_day = {p.day: p.carrying for p in points}
    value = 0
    for p in points:
        if p.day < start:
            value = p.carrying
    out, day = [], start
    while day <= end:
        value = by_day.get(day, value)
        out.append(BurnPoint(day, value))
        day += timedelta(days=1)
    return out


def chart_window(
    points: tuple[BurnPoint, ...], published: datetime, deadline: datetime | None, now: datetime
) -> tuple[date, date]:
    start = min([published.date(), *(p.day for p in points[:1])])
    end = max(now.date(), deadline.date() if deadline else now.date())
    if (end - start).days > 120:  # keep the chart readable: the last four months
        start = end - timedelta(days=120)
    return start, end
