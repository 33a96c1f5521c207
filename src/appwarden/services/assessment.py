"""Running assessments and persisting what changed, in the caller's transaction."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from appwarden.core.catalog import Catalog
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.exemptions import Attestation, AttestationBook, ExemptionBook
from appwarden.core.fleet import FleetIndex
from appwarden.core.fleet_assess import (
    FleetAssessment,
    MatchCache,
    PolicyResult,
    assess_fleet,
    assess_slot,
)
from appwarden.core.matching import BarredApps
from appwarden.core.policy import PolicyVersion
from appwarden.core.staleness import Staleness
from appwarden.core.verdict import (
    ByPolicy,
    Transition,
    Verdict,
    VerdictKey,
    by_policy,
    diff_verdicts,
)
from appwarden.services.gc_control import gc_paused
from appwarden.services.ports import UnitOfWork


@dataclass
class AssessmentReport:
    at: datetime
    results: dict[str, PolicyResult]
    transitions: list[Transition]
    written: int
    removed: int
    duration_ms: float
    assessment_id: int = 0
    # Full runs: every current verdict, by policy. Partial runs: those of the assessed devices.
    by_policy: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    assessed_devices: frozenset[str] | None = None  # None: the whole fleet was assessed
    changed_devices: frozenset[str] = frozenset()  # devices whose stored verdicts changed

    def all_verdicts(self) -> Iterator[Verdict]:
        for verdicts in self.by_policy.values():
            yield from verdicts.values()

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            slug: {s.value: n for s, n in r.counts().items()} for slug, r in self.results.items()
        }

    def transition_counts(self) -> dict[str, int]:
        return dict(Counter(t.kind.value for t in self.transitions))


def policy_storage_changes(
    previous: ByPolicy, results: Mapping[str, Mapping[str, Verdict]]
) -> tuple[list[Verdict], list[VerdictKey]]:
    """Rows to upsert and rows to delete after a full assessment, policy by policy."""
    changed: list[Verdict] = []
    removed: list[VerdictKey] = []
    for slug, current in results.items():
        before = previous.get(slug, {})
        changed += [v for device, v in current.items() if before.get(device) != v]
        removed += [(device, slug) for device in before if device not in current]
    for slug, before in previous.items():
        if slug not in results:
            removed += [(device, slug) for device in before]
    return changed, removed


def storage_changes(
    previous: Mapping[VerdictKey, Verdict],
    current: Mapping[VerdictKey, Verdict],
    keys: Iterable[VerdictKey] | None = None,
) -> tuple[list[Verdict], list[VerdictKey]]:
    """Which verdict rows to upsert and which to delete (storage is sparse)."""
    changed: list[Verdict] = []
    removed: list[VerdictKey] = []
    for key in keys if keys is not None else previous.keys() | current.keys():
        new, old = current.get(key), previous.get(key)
        if new is not None and new.is_plain_compliant:
            new = None
        if new is None and old is not None:
            removed.append(key)
        elif new is not None and new != old:
            changed.append(new)
    return changed, removed


class Assessor:
    """Keeps compiled rules between runs; every run reads its inputs from the unit of work.

    `staleness` says when a device stops counting as reporting; `accept` filters attestations
    (the attestation service passes its signature check, so an edited row counts for nothing).
    """

    def __init__(
        self,
        catalog: Catalog,
        staleness: Staleness | None = None,
        accept: Callable[[Attestation], bool] | None = None,
    ) -> None:
        self.catalog = catalog
        self.caches: dict[str, MatchCache] = {}
        self.staleness = staleness
        self.accept = accept

    def books(self, uow: UnitOfWork) -> tuple[ExemptionBook, AttestationBook]:
        attestations = uow.exemptions.attestations()
        if self.accept is not None:
            attestations = [a for a in attestations if self.accept(a)]
        return ExemptionBook(uow.exemptions.all()), AttestationBook(attestations)

    def run_full(
        self,
        uow: UnitOfWork,
        fleet: FleetIndex,
        now: datetime,
        trigger: str,
        actor: str,
        previous: ByPolicy | None = None,
    ) -> AssessmentReport:
        """Assess the whole fleet. `previous` (the stored verdicts, by policy) may come from
        memory; when it is None it is read from the database."""
        started = time.perf_counter()
        versions = [stored.version for stored in uow.policies.active()]
        if previous is None:
            previous = by_policy(uow.verdicts.all())
        exemptions, attestations = self.books(uow)
        with gc_paused():
            result = assess_fleet(
                fleet,
                versions,
                self.catalog,
                exemptions,
                attestations,
                previous,
                now,
                self.caches,
                self.staleness,
            )
        report = self._persist(uow, result, None, started, trigger, actor)
        report.by_policy = result.by_policy()
        return report

    def run_devices(
        self,
        uow: UnitOfWork,
        fleet: FleetIndex,
        devices: Iterable[str],
        now: datetime,
        trigger: str,
        actor: str,
    ) -> AssessmentReport:
        """Re-assess a few devices against every active policy (after a check-in or exemption)."""
        started = time.perf_counter()
        versions = [stored.version for stored in uow.policies.active()]
        exemptions, attestations = self.books(uow)
        previous: dict[VerdictKey, Verdict] = {}
        current: dict[VerdictKey, Verdict] = {}
        keys: set[VerdictKey] = set()
        devices_seen = set(devices)
        for device in devices_seen:
            stored = {v.policy: v for v in uow.verdicts.for_device(device)}
            previous.update({(device, slug): v for slug, v in stored.items()})
            keys.update((device, slug) for slug in stored)
            slot = fleet.slot_of.get(device)
            if slot is None or slot not in fleet.live:
                continue
            for pv in versions:  # the fleet path for one slot: same columns, same match cache
                keys.add((device, pv.slug))
                verdict = assess_slot(
                    fleet,
                    slot,
                    pv,
                    self.cache(pv),
                    exemptions,
                    attestations,
                    stored.get(pv.slug),
                    now,
                    self.staleness,
                )
                if verdict is not None and not verdict.is_plain_compliant:
                    current[(device, pv.slug)] = verdict
        transitions = diff_verdicts(previous, current, now, keys)
        result = FleetAssessment(now, {}, transitions)
        report = self._persist(uow, result, (previous, current, keys), started, trigger, actor)
        report.by_policy = by_policy(current)
        report.assessed_devices = frozenset(devices_seen)
        return report

    def barred(self, pv: PolicyVersion) -> BarredApps:
        return self.cache(pv).barred

    def cache(self, pv: PolicyVersion) -> MatchCache:
        """The compiled rule of a policy version with the app slots it bars (kept up to date)."""
        cache = self.caches.get(pv.slug)
        stale = cache is None or cache.barred.catalog is not self.catalog
        if stale or cache is None or cache.barred.matchers != pv.policy.rule.barred:
            cache = self.caches[pv.slug] = MatchCache(
                BarredApps(pv.policy.rule.barred, self.catalog)
            )
        return cache

    def _persist(
        self,
        uow: UnitOfWork,
        result: FleetAssessment,
        partial: tuple[Mapping[VerdictKey, Verdict], Mapping[VerdictKey, Verdict], set[VerdictKey]]
        | None,
        started: float,
        trigger: str,
        actor: str,
    ) -> AssessmentReport:
        if partial is None:
            changed, removed = policy_storage_changes(result.previous, result.by_policy())
        else:
            previous, current, keys = partial
            changed, removed = storage_changes(previous, current, keys)
        uow.verdicts.write(changed, removed, result.at)
        duration = (time.perf_counter() - started) * 1000
        report = AssessmentReport(
            result.at, result.results, result.transitions, len(changed), len(removed), duration
        )
        report.changed_devices = frozenset({v.device for v in changed} | {d for d, _ in removed})
        report.assessment_id = uow.verdicts.record_assessment(
            result.at, result.at, duration, trigger, report.counts(), result.transitions
        )
        if partial is None or result.transitions:
            uow.audit.append(
                AuditEvent(
                    EventType.ASSESSMENT_RUN,
                    actor,
                    result.at,
                    subject=f"assessment:{report.assessment_id}",
                    reason=trigger,
                    data={
                        "counts": report.counts(),
                        "transitions": report.transition_counts(),
                        "devices": sorted({t.device for t in result.transitions})[:50]
                        if partial is not None
                        else [],
                    },
                )
            )
        return report
