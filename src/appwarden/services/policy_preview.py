"""The preview of a proposed policy change: what changes, who is affected, before and after.

Breakdowns use bitmaps (status buckets x platform / department), never a loop over the scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyroaring import BitMap

from appwarden.core.exemptions import AttestationBook, ExemptionBook
from appwarden.core.fleet import FleetIndex
from appwarden.core.fleet_assess import MatchCache, PolicyResult, assess_policy
from appwarden.core.inventory import Platform
from appwarden.core.matching import BarredApps
from appwarden.core.policy import Policy, PolicyVersion
from appwarden.core.verdict import Status
from appwarden.services.compliance import Compliance
from appwarden.services.policies import draft_version, field_changes, policy_warnings
from appwarden.services.ports import UnitOfWork

SAMPLE = 50


@dataclass(frozen=True, slots=True)
class Radius:
    in_scope: int
    counts: Mapping[str, int]
    by_platform: Mapping[str, Mapping[str, int]]
    by_department: Mapping[str, Mapping[str, int]]
    failing: frozenset[str]


@dataclass(frozen=True, slots=True)
class Preview:
    new: PolicyVersion
    current: PolicyVersion | None
    changes: list[tuple[str, Any, Any]]
    before: Radius | None
    after: Radius
    warnings: list[str]
    added: list[str]  # first SAMPLE device keys newly failing
    dropped: list[str]
    added_total: int
    dropped_total: int


def _radius(fleet: FleetIndex, result: PolicyResult) -> Radius:
    buckets: dict[str, BitMap] = {}
    for key, verdict in result.verdicts.items():
        buckets.setdefault(verdict.status.value, BitMap()).add(fleet.slot_of[key])
    others = BitMap.union(BitMap(), *buckets.values())
    buckets[Status.COMPLIANT.value] = result.scope - others
    counts = {s: len(b) for s, b in buckets.items()}
    by_platform = {
        p.value: {s: len(b & fleet.by_platform[p]) for s, b in buckets.items()}
        for p in Platform
        if fleet.by_platform[p].intersect(result.scope)
    }
    by_department = {
        (d or "(none)"): {s: len(b & members) for s, b in buckets.items()}
        for d, members in sorted(fleet.by_department.items())
        if members.intersect(result.scope)
    }
    failing = frozenset(k for k, v in result.verdicts.items() if v.status is not Status.COMPLIANT)
    return Radius(len(result.scope), counts, by_platform, by_department, failing)


def _result(engine: Compliance, uow: UnitOfWork, pv: PolicyVersion, now: datetime) -> PolicyResult:
    return assess_policy(
        engine.fleet,
        pv,
        MatchCache(BarredApps(pv.policy.rule.barred, engine.catalog)),
        ExemptionBook(uow.exemptions.all()),
        AttestationBook(uow.exemptions.attestations()),
        uow.verdicts.for_policy(pv.slug),
        now,
    )


def preview(engine: Compliance, policy: Policy, now: datetime) -> Preview:
    with engine.lock, engine.store.read() as uow:
        stored = uow.policies.current(policy.slug)
        current = stored.version if stored and stored.active else None
        new = draft_version(policy, current, now)
        after_result = _result(engine, uow, new, now)
        after = _radius(engine.fleet, after_result)
        before = _radius(engine.fleet, _result(engine, uow, current, now)) if current else None
        warnings = policy_warnings(
            new, engine.fleet, engine.catalog, after_result, now, engine.limits.min_lead
        )
    was = before.failing if before else frozenset()
    added, dropped = sorted(after.failing - was), sorted(was - after.failing)
    return Preview(
        new,
        current,
        field_changes(current.policy if current else None, policy),
        before,
        after,
        warnings,
        added[:SAMPLE],
        dropped[:SAMPLE],
        len(added),
        len(dropped),
    )
