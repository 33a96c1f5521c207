"""The blast radius of a campaign, before anything leaves: pure counting over a plan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from appwarden.core.campaign import Plan, Recipient
from appwarden.core.timeutil import in_zone

DIMENSIONS = ("department", "country", "platform", "ownership")


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Per value of one dimension: people and devices."""

    people: dict[str, int]
    devices: dict[str, int]


@dataclass(frozen=True, slots=True)
class LossDay:
    """People (and devices) who lose mail on one calendar day (in the policy's time zone)."""

    day: str
    first: datetime
    people: int
    devices: int
    sample: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Radius:
    people: int
    devices: int
    locales: dict[str, int]
    breakdowns: dict[str, Breakdown]
    loss_days: tuple[LossDay, ...]
    added: tuple[str, ...]
    dropped: tuple[str, ...]
    unreachable: int


def breakdowns(recipients: Sequence[Recipient]) -> dict[str, Breakdown]:
    people: dict[str, Counter[str]] = {dim: Counter() for dim in DIMENSIONS}
    devices: dict[str, Counter[str]] = {dim: Counter() for dim in DIMENSIONS}
    for r in recipients:
        owner = r.owner
        for dim, value in (("department", owner.department), ("country", owner.country)):
            people[dim][value or "(none)"] += 1
            devices[dim][value or "(none)"] += len(r.devices)
        for dim in ("platform", "ownership"):
            values = [getattr(d, dim) or "(none)" for d in r.devices]
            devices[dim].update(values)
            people[dim].update(set(values))
    return {
        dim: Breakdown(dict(sorted(people[dim].items())), dict(sorted(devices[dim].items())))
        for dim in DIMENSIONS
    }


def loss_days(
    recipients: Sequence[Recipient], zone_name: str, blocks: bool, sample: int = 20
) -> tuple[LossDay, ...]:
    """Who would lose mail on which date (nobody, when the policy does not block)."""
    if not blocks:
        return ()
    day_of: dict[datetime, str] = {}
    days: dict[str, list[tuple[datetime, str, int]]] = {}
    for r in recipients:
        first = r.deadline
        day = day_of.get(first)
        if day is None:
            day = day_of[first] = in_zone(first, zone_name).date().isoformat()
        days.setdefault(day, []).append((first, r.email, len(r.devices)))
    out = []
    for day in sorted(days):
        rows = days[day]
        out.append(
            LossDay(
                day,
                min(t for t, _, _ in rows),
                len(rows),
                sum(n for _, _, n in rows),
                tuple(sorted(e for _, e, _ in rows)[:sample]),
            )
        )
    return tuple(out)


def radius(plan: Plan, previous: Iterable[str], zone_name: str, blocks: bool) -> Radius:
    """The plan's blast radius; `previous` are the people the policy's earlier versions told."""
    current = {r.email for r in plan.recipients}
    before = set(previous)
    locales = Counter(r.owner.locale for r in plan.recipients)
    return Radius(
        people=len(plan.recipients),
        devices=plan.devices,
        locales=dict(sorted(locales.items())),
        breakdowns=breakdowns(plan.recipients),
        loss_days=loss_days(plan.recipients, zone_name, blocks),
        added=tuple(sorted(current - before)) if before else (),
        dropped=tuple(sorted(before - current)),
        unreachable=len(plan.unreachable),
    )
