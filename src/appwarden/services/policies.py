"""Policy use cases: validate, diff (what changes, who is affected), apply (versioned, audited)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appwarden.core.catalog import Catalog
from appwarden.core.errors import LeadTimeTooShort, NotFound
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.exemptions import AttestationBook, ExemptionBook
from appwarden.core.fleet import FleetIndex
from appwarden.core.fleet_assess import MatchCache, PolicyResult, assess_policy
from appwarden.core.matching import BarredApps
from appwarden.core.policy import Policy, PolicyVersion
from appwarden.core.policy_data import policy_digest, policy_to_data
from appwarden.core.timeutil import format_duration, iso
from appwarden.core.verdict import ByPolicy, Status, Verdict
from appwarden.services.assessment import AssessmentReport, Assessor
from appwarden.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class BlastRadius:
    in_scope: int
    employees_in_scope: int
    counts: Mapping[str, int]
    by_department: Mapping[str, Mapping[str, int]]
    by_platform: Mapping[str, Mapping[str, int]]
    failing: frozenset[str]  # device keys not compliant

    @property
    def affected(self) -> int:
        return len(self.failing)


def blast_radius(fleet: FleetIndex, result: PolicyResult) -> BlastRadius:
    by_dept: dict[str, Counter[str]] = {}
    by_platform: dict[str, Counter[str]] = {}
    for slot in result.scope:
        key = fleet.keys[slot]
        verdict = result.verdicts.get(key)
        status = verdict.status.value if verdict else Status.COMPLIANT.value
        owner = fleet.owner_of(slot)
        dept = (owner.department if owner else "") or "(none)"
        by_dept.setdefault(dept, Counter())[status] += 1
        by_platform.setdefault(fleet.platform_of(slot).value, Counter())[status] += 1
    failing = frozenset(k for k, v in result.verdicts.items() if v.status is not Status.COMPLIANT)
    return BlastRadius(
        result.in_scope,
        result.employees_in_scope,
        {s.value: n for s, n in result.counts().items()},
        {k: dict(v) for k, v in sorted(by_dept.items())},
        {k: dict(v) for k, v in sorted(by_platform.items())},
        failing,
    )


@dataclass
class PolicyDiff:
    slug: str
    old_version: int | None
    new_version: PolicyVersion
    unchanged: bool
    changes: list[tuple[str, Any, Any]]
    before: BlastRadius | None
    after: BlastRadius
    warnings: list[str] = field(default_factory=list)

    @property
    def added(self) -> list[str]:
        before = self.before.failing if self.before else frozenset()
        return sorted(self.after.failing - before)

    @property
    def dropped(self) -> list[str]:
        before = self.before.failing if self.before else frozenset()
        return sorted(before - self.after.failing)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def field_changes(old: Policy | None, new: Policy) -> list[tuple[str, Any, Any]]:
    before = flatten(policy_to_data(old)) if old else {}
    after = flatten(policy_to_data(new))
    return [
        (path, before.get(path), after.get(path))
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    ]


def draft_version(policy: Policy, current: PolicyVersion | None, now: datetime) -> PolicyVersion:
    return PolicyVersion(
        policy=policy,
        version=(current.version + 1) if current else 1,
        published_at=now,
        deadline_at=policy.deadline.resolve(now),
        digest=policy_digest(policy),
    )


def policy_warnings(
    pv: PolicyVersion,
    fleet: FleetIndex,
    catalog: Catalog,
    result: PolicyResult,
    now: datetime,
    min_lead: timedelta,
) -> list[str]:
    """Things worth a second look before applying; none of them stops `apply` by itself."""
    out = []
    if pv.deadline_at is not None and pv.deadline_at <= now:
        out.append(f"the deadline {iso(pv.deadline_at)} is in the past: failing devices block now")
    elif pv.deadline_at is not None and pv.deadline_at - now < min_lead:
        out.append(
            f"the deadline is closer than the minimum lead time ({format_duration(min_lead)}); "
            "apply needs --override-lead-time with a reason"
        )
    if result.in_scope == 0:
        out.append("the scope matches no device in the inventory")
    barred = BarredApps(pv.policy.rule.barred, catalog)
    if not barred.is_empty:
        in_catalog = barred.catalog_refs()
        installed = MatchCache(barred).refresh(fleet)
        if not in_catalog and not installed:
            out.append("the rule matches no app in the catalog and no installed app")
        if any(m.confidence.value == "low" for m in installed.values()):
            out.append(
                "some matches rest only on an app name or a reported publisher (low confidence)"
            )
    return out


class PolicyService:
    def __init__(self, catalog: Catalog, assessor: Assessor, min_lead: timedelta) -> None:
        self.catalog = catalog
        self.assessor = assessor
        self.min_lead = min_lead

    def _result(
        self, uow: UnitOfWork, fleet: FleetIndex, pv: PolicyVersion, now: datetime
    ) -> PolicyResult:
        previous: dict[str, Verdict] = uow.verdicts.for_policy(pv.slug)
        exemptions = ExemptionBook(uow.exemptions.all())
        attestations = AttestationBook(uow.exemptions.attestations())
        cache = MatchCache(BarredApps(pv.policy.rule.barred, self.catalog))
        return assess_policy(fleet, pv, cache, exemptions, attestations, previous, now)

    def diff(self, uow: UnitOfWork, fleet: FleetIndex, policy: Policy, now: datetime) -> PolicyDiff:
        stored = uow.policies.current(policy.slug)
        current = stored.version if stored and stored.active else None
        new = draft_version(policy, current, now)
        after = self._result(uow, fleet, new, now)
        before = self._result(uow, fleet, current, now) if current else None
        return PolicyDiff(
            slug=policy.slug,
            old_version=current.version if current else None,
            new_version=new,
            unchanged=current is not None and current.digest == new.digest,
            changes=field_changes(current.policy if current else None, policy),
            before=blast_radius(fleet, before) if before else None,
            after=blast_radius(fleet, after),
            warnings=policy_warnings(new, fleet, self.catalog, after, now, self.min_lead),
        )

    def apply(
        self,
        uow: UnitOfWork,
        fleet: FleetIndex,
        policy: Policy,
        source: str,
        actor: str,
        reason: str,
        now: datetime,
        override_lead_reason: str = "",
        previous: ByPolicy | None = None,
    ) -> tuple[PolicyVersion, AssessmentReport | None]:
        """Write a new version, audit it and re-assess, all in the caller's transaction."""
        stored = uow.policies.current(policy.slug)
        current = stored.version if stored else None
        new = draft_version(policy, current, now)
        if current is not None and current.digest == new.digest and stored and stored.active:
            return current, None
        if new.deadline_at is not None and new.deadline_at - now < self.min_lead:
            if not override_lead_reason.strip():
                raise LeadTimeTooShort(
                    f"the deadline {iso(new.deadline_at)} leaves less than the minimum lead time "
                    f"({format_duration(self.min_lead)}) from now ({iso(now)}). Move the deadline, "
                    "or pass --override-lead-time with a reason (it is audited)."
                )
            uow.audit.append(
                AuditEvent(
                    EventType.LEAD_TIME_OVERRIDDEN,
                    actor,
                    now,
                    subject=f"policy:{policy.slug}",
                    reason=override_lead_reason,
                    data={
                        "deadline": iso(new.deadline_at),
                        "min_lead": format_duration(self.min_lead),
                    },
                )
            )
        new = PolicyVersion(
            policy,
            new.version,
            now,
            new.deadline_at,
            applied_by=actor,
            reason=reason,
            digest=new.digest,
        )
        uow.policies.add_version(new, source)
        uow.audit.append(
            AuditEvent(
                EventType.POLICY_APPLIED,
                actor,
                now,
                subject=f"policy:{policy.slug}",
                reason=reason,
                before=_version_summary(current),
                after=_version_summary(new),
                data={
                    "changes": [
                        [p, a, b]
                        for p, a, b in field_changes(current.policy if current else None, policy)
                    ]
                },
            )
        )
        report = self.assessor.run_full(
            uow, fleet, now, f"policy_applied:{policy.slug}", actor, previous
        )
        return new, report

    def retire(
        self,
        uow: UnitOfWork,
        fleet: FleetIndex,
        slug: str,
        actor: str,
        reason: str,
        now: datetime,
        previous: ByPolicy | None = None,
    ) -> AssessmentReport:
        stored = uow.policies.current(slug)
        if stored is None or not stored.active:
            raise NotFound(f"no active policy {slug!r}; `appwarden policy list` shows them")
        uow.policies.retire(slug)
        uow.audit.append(
            AuditEvent(
                EventType.POLICY_RETIRED,
                actor,
                now,
                subject=f"policy:{slug}",
                reason=reason,
                before=_version_summary(stored.version),
            )
        )
        return self.assessor.run_full(uow, fleet, now, f"policy_retired:{slug}", actor, previous)


def _version_summary(pv: PolicyVersion | None) -> dict[str, Any] | None:
    if pv is None:
        return None
    return {
        "version": pv.version,
        "digest": pv.digest,
        "deadline": iso(pv.deadline_at),
        "action": pv.policy.action.value,
    }
