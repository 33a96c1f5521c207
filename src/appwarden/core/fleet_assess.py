"""Assessment of the whole fleet against policy versions, on the fleet index.

Bitmaps find the candidates (in scope and carrying a barred app, failing an OS rule, unseen,
stale, or failing before); `assess.settle` decides each candidate's verdict exactly as the
single-device path does. Everyone else in scope is plainly compliant and costs nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from pyroaring import BitMap

from appwarden.core.assess import ScopeFacts, app_finding, in_scope, os_findings, settle
from appwarden.core.catalog import Catalog
from appwarden.core.exemptions import (
    EMPTY_ATTESTATIONS,
    EMPTY_EXEMPTIONS,
    AttestationBook,
    ExemptionBook,
)
from appwarden.core.fleet import FleetIndex
from appwarden.core.inventory import AppKey, AppPlatform, Platform, Visibility
from appwarden.core.matching import AppMatch, BarredApps
from appwarden.core.policy import PolicyVersion, Scope
from appwarden.core.staleness import StaleEffect, StaleMark, Staleness, seen_before
from appwarden.core.verdict import (
    ByPolicy,
    Finding,
    Status,
    Transition,
    Verdict,
    VerdictKey,
    diff_policy,
)

_COMPLIANT = Status.COMPLIANT


class MatchCache:
    """Which app-dictionary slots a compiled rule bars; extended as the dictionary grows."""

    def __init__(self, barred: BarredApps) -> None:
        self.barred = barred
        self.matched: dict[int, AppMatch] = {}
        self._seen = 0

    def refresh(self, fleet: FleetIndex) -> dict[int, AppMatch]:
        log = fleet.app_log
        if self._seen == 0 and not self.barred.has_patterns:
            self._first_fill(fleet)
            self._seen = len(log)
            return self.matched
        for slot in log[self._seen :]:
            key = fleet.app_keys[slot]
            found = self.barred.match(key, fleet.app_names[slot], fleet.app_publishers[slot])
            if found is None:
                self.matched.pop(slot, None)
            else:
                self.matched[slot] = found
        self._seen = len(log)
        return self.matched

    def _first_fill(self, fleet: FleetIndex) -> None:
        """Match only the apps that could match: by id, by catalog, by name or by publisher."""
        candidates: set[int] = set()
        spaces = set(AppPlatform)
        for ident in self.barred.candidate_identifiers():
            for space in spaces:
                slot = fleet.app_slot.get(AppKey(space, ident, ""))
                if slot is not None:
                    candidates.add(slot)
        for name in self.barred.candidate_names():
            candidates.update(fleet.apps_by_name.get(name, ()))
        for label in self.barred.candidate_publishers():
            candidates.update(fleet.apps_by_publisher.get(label, ()))
        for slot in candidates:
            key = fleet.app_keys[slot]
            found = self.barred.match(key, fleet.app_names[slot], fleet.app_publishers[slot])
            if found is not None:
                self.matched[slot] = found


def scope_bitmap(fleet: FleetIndex, scope: Scope) -> BitMap:
    result = BitMap(fleet.mail) if scope.mail_access_only else BitMap(fleet.live)
    if scope.platforms:
        result &= BitMap.union(BitMap(), *(fleet.by_platform[p] for p in scope.platforms))
    if scope.ownership:
        result &= BitMap.union(BitMap(), *(fleet.by_ownership[o] for o in scope.ownership))
    if scope.departments:
        result &= _union(fleet.by_department, scope.departments)
    if scope.groups:
        result &= _union(fleet.by_group, scope.groups)
    if scope.exclude_departments:
        result -= _union(fleet.by_department, scope.exclude_departments)
    if scope.exclude_groups:
        result -= _union(fleet.by_group, scope.exclude_groups)
    return result


def _union(index: Mapping[str, BitMap], names: Iterable[str]) -> BitMap:
    return BitMap.union(BitMap(), *(index[n] for n in names if n in index))


@dataclass
class PolicyResult:
    version: PolicyVersion
    scope: BitMap
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # not plainly compliant
    fleet: FleetIndex | None = field(default=None, repr=False)
    _employees: int | None = field(default=None, repr=False)

    @property
    def in_scope(self) -> int:
        return len(self.scope)

    @property
    def employees_in_scope(self) -> int:
        """Distinct owners of the devices in scope (computed on first use: it walks the scope)."""
        if self._employees is None:
            self._employees = self.fleet.employees_of(self.scope) if self.fleet else 0
        return self._employees

    def counts(self) -> Counter[Status]:
        counts = Counter(v.status for v in self.verdicts.values())
        not_compliant = sum(n for s, n in counts.items() if s is not Status.COMPLIANT)
        counts[Status.COMPLIANT] = self.in_scope - not_compliant
        return counts


@dataclass
class FleetAssessment:
    at: datetime
    results: dict[str, PolicyResult]
    transitions: list[Transition]
    previous: ByPolicy = field(default_factory=dict)  # what the assessment started from

    def by_policy(self) -> dict[str, dict[str, Verdict]]:
        return {slug: result.verdicts for slug, result in self.results.items()}

    def verdicts(self) -> dict[VerdictKey, Verdict]:
        """Every verdict keyed by (device, policy): convenient, but builds a large dict."""
        return {
            (device, slug): v
            for slug, result in self.results.items()
            for device, v in result.verdicts.items()
        }


def assess_policy(
    fleet: FleetIndex,
    pv: PolicyVersion,
    cache: MatchCache,
    exemptions: ExemptionBook,
    attestations: AttestationBook,
    previous: Mapping[str, Verdict],
    now: datetime,
    stale: Mapping[int, StaleMark] | None = None,
) -> PolicyResult:
    """Verdicts of every device in scope of one policy version (sparse: non-compliant only).

    Devices that failed before and pass now need no work here: they are simply absent, and the
    diff against `previous` reports them as resolved. `stale` maps the slots of stale devices to
    their mark (see `stale_marks`).
    """
    stale = {s: m for s, m in (stale or {}).items() if s in fleet.live}
    scope = scope_bitmap(fleet, pv.policy.scope)
    findings = _app_findings(fleet, cache, scope)
    _add_os_findings(fleet, pv, scope, findings, now)
    unseen = BitMap()
    if not cache.barred.is_empty:
        hidden = fleet.by_visibility[Visibility.MANAGED] | fleet.by_visibility[Visibility.NONE]
        unseen = scope & hidden
    result = PolicyResult(pv, scope, fleet=fleet)
    owner_of = _owner_lookup(fleet, exemptions)
    keys = fleet.keys
    verdicts = result.verdicts
    prev = previous.get
    mark = stale.get
    for slot, found in findings.items():
        key = keys[slot]
        verdict = settle(
            key,
            owner_of(slot),
            pv,
            found,
            slot in unseen,
            exemptions,
            attestations,
            prev(key),
            now,
            mark(slot),
        )
        if verdict.status is not _COMPLIANT or verdict.findings or verdict.until is not None:
            verdicts[key] = verdict  # not plainly compliant (inlined: hot loop)
    rest = unseen - BitMap(findings)
    _settle_unseen(fleet, pv, rest, exemptions, attestations, previous, now, verdicts, stale)
    for slot, stale_mark in stale.items():  # stale, in scope, nothing else found
        if slot in scope and slot not in findings and slot not in unseen:
            key = keys[slot]
            verdict = settle(
                key, owner_of(slot), pv, [], False, exemptions, attestations, prev(key), now,
                stale_mark,
            )  # fmt: skip
            if not verdict.is_plain_compliant:
                verdicts[key] = verdict
    return result


def _owner_lookup(fleet: FleetIndex, exemptions: ExemptionBook) -> Callable[[int], str | None]:
    """Owners matter only for employee-level exemptions; skip the lookups when there are none."""
    if not exemptions.employees():
        return lambda _slot: None

    def owner_email(slot: int) -> str | None:
        owner = fleet.owner_of(slot)
        return owner.email if owner else None

    return owner_email


def _settle_unseen(
    fleet: FleetIndex,
    pv: PolicyVersion,
    slots: BitMap,
    exemptions: ExemptionBook,
    attestations: AttestationBook,
    previous: Mapping[str, Verdict],
    now: datetime,
    out: dict[str, Verdict],
    stale: Mapping[int, StaleMark],
) -> None:
    """Devices whose apps cannot be seen and that have no other finding.

    Most of them share one verdict but for the device key, so it is computed once and copied;
    devices with history, an exemption or an attestation go through `settle` individually.
    """
    if not slots:
        return
    template = settle("", None, pv, [], True, EMPTY_EXEMPTIONS, EMPTY_ATTESTATIONS, None, now)
    plain = template.is_plain_compliant
    special = exemptions.devices() | attestations.devices()
    owner_of = _owner_lookup(fleet, exemptions)
    employees = exemptions.employees()
    rest = template[1:]
    make = Verdict._make
    for slot in slots:
        key = fleet.keys[slot]
        before = previous.get(key)
        owner = owner_of(slot)
        mark = stale.get(slot)
        if (
            before is not None
            or mark is not None
            or key in special
            or (owner is not None and owner in employees)
        ):
            verdict = settle(key, owner, pv, [], True, exemptions, attestations, before, now, mark)
            if not verdict.is_plain_compliant:
                out[key] = verdict
        elif not plain:
            out[key] = make((key, *rest))


def _app_findings(fleet: FleetIndex, cache: MatchCache, scope: BitMap) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for app_slot, match in cache.refresh(fleet).items():
        hit = fleet.app_devices[app_slot] & scope
        if not hit:
            continue
        finding = app_finding(fleet.app_keys[app_slot], fleet.app_names[app_slot], match)
        for slot in hit:
            out.setdefault(slot, []).append(finding)
    return out


def _add_os_findings(
    fleet: FleetIndex,
    pv: PolicyVersion,
    scope: BitMap,
    out: dict[int, list[Finding]],
    now: datetime,
) -> None:
    rule = pv.policy.rule
    if not rule.checks_os:
        return
    platforms = set(rule.minimum_os)
    if rule.minimum_android_patch or rule.maximum_patch_age:
        platforms.add(Platform.ANDROID)
    relevant = scope & BitMap.union(BitMap(), *(fleet.by_platform[p] for p in platforms))
    memo: dict[tuple[int, int, int], list[Finding]] = {}
    for slot in relevant:
        combo = (fleet.platform[slot], fleet.os_code[slot], fleet.patch[slot])
        found = memo.get(combo)
        if found is None:
            patch = date.fromordinal(combo[2]) if combo[2] else None
            found = os_findings(pv, fleet.platform_of(slot), fleet.os_of(slot), patch, now)
            memo[combo] = found
        if found:
            out.setdefault(slot, []).extend(found)


def assess_slot(
    fleet: FleetIndex,
    slot: int,
    pv: PolicyVersion,
    cache: MatchCache,
    exemptions: ExemptionBook,
    attestations: AttestationBook,
    previous: Verdict | None,
    now: datetime,
    staleness: Staleness | None = None,
) -> Verdict | None:
    """One device of the index under one policy version: `assess_policy` for a single slot
    (after a check-in), reading the same columns and the same match cache."""
    owner = fleet.owner_of(slot)
    platform = fleet.platform_of(slot)
    scope_facts = ScopeFacts(
        platform,
        fleet.ownership_of(slot),
        slot in fleet.mail,
        owner.department if owner else "",
        owner.groups if owner else frozenset(),
    )
    if not in_scope(pv.policy.scope, scope_facts):
        return None
    matched = cache.refresh(fleet)
    findings = [
        app_finding(fleet.app_keys[app], fleet.app_names[app], matched[app])
        for app in fleet.device_apps[slot]
        if app in matched
    ]
    if pv.policy.rule.checks_os:
        findings += os_findings(pv, platform, fleet.os_of(slot), fleet.patch_of(slot), now)
    unseen = not cache.barred.is_empty and fleet.visibility_of(slot) is not Visibility.ALL
    mark = staleness.mark(fleet.last_seen_of(slot), now) if staleness else None
    return settle(
        fleet.keys[slot],
        owner.email if owner else None,
        pv,
        findings,
        unseen,
        exemptions,
        attestations,
        previous,
        now,
        mark,
    )


def stale_marks(
    fleet: FleetIndex, staleness: Staleness | None, now: datetime
) -> dict[int, StaleMark]:
    """Slot -> mark for every stale device (none when staleness is off or `ignore`)."""
    if staleness is None or staleness.effect is StaleEffect.IGNORE:
        return {}
    marks = {}
    for slot in seen_before(fleet, staleness.cutoff(now)):
        mark = staleness.mark(fleet.last_seen_of(slot), now)
        if mark is not None:
            marks[slot] = mark
    return marks


def assess_fleet(
    fleet: FleetIndex,
    versions: Iterable[PolicyVersion],
    catalog: Catalog,
    exemptions: ExemptionBook,
    attestations: AttestationBook,
    previous: ByPolicy,
    now: datetime,
    caches: dict[str, MatchCache] | None = None,
    staleness: Staleness | None = None,
) -> FleetAssessment:
    """Assess every policy version over the fleet and diff against `previous` (by policy).

    Verdicts in `previous` for policies not in `versions` (retired policies) resolve.
    """
    caches = {} if caches is None else caches
    marks = stale_marks(fleet, staleness, now)
    results: dict[str, PolicyResult] = {}
    transitions: list[Transition] = []
    for pv in versions:
        cache = caches.get(pv.slug)
        stale = cache is None or cache.barred.catalog is not catalog
        if stale or cache is None or cache.barred.matchers != pv.policy.rule.barred:
            cache = caches[pv.slug] = MatchCache(BarredApps(pv.policy.rule.barred, catalog))
        before = previous.get(pv.slug, {})
        result = assess_policy(fleet, pv, cache, exemptions, attestations, before, now, marks)
        results[pv.slug] = result
        transitions += diff_policy(pv.slug, before, result.verdicts, now)
    for slug, before in previous.items():
        if slug not in results:
            transitions += diff_policy(slug, before, {}, now)
    transitions.sort(key=lambda t: (t.device, t.policy))
    return FleetAssessment(now, results, transitions, previous)
