"""The compliance engine: one place that keeps the database, the fleet index and the decision
index consistent with each other.

Every write goes: open a transaction -> write inventory/policy/exemption rows -> assess -> write
verdicts, transitions and audit events -> commit -> only then update the in-memory fleet index
and swap in a new decision index. A failed transaction leaves memory untouched.

With `requires_notice` (setting `enforcement_requires_notice`, default on) the decision index is
built with the armed enforcement records read in the same transaction: a block denies mail only
once its announcement left (core/enforcement.py). The book of armed records lives in the
decision service, so every rebuild honours it; campaign steps that arm or disarm records call
`apply_enforcement` after their commit, and other processes' changes arrive through `sync`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appwarden.core.catalog import Catalog
from appwarden.core.decision import Decision, titles_of
from appwarden.core.enforcement import EnforcementBook, EnforcementKey
from appwarden.core.errors import AppWardenError, NotFound
from appwarden.core.exemptions import Attestation, Exemption, TargetKind
from appwarden.core.fleet import FleetIndex, load_device
from appwarden.core.inventory import DeviceFacts, identity_key
from appwarden.core.policy import Policy, PolicyVersion
from appwarden.core.sources import MergeRules
from appwarden.core.staleness import Staleness
from appwarden.core.timeutil import to_epoch
from appwarden.core.verdict import Verdict, by_policy
from appwarden.services.assessment import AssessmentReport, Assessor
from appwarden.services.decisions import DecisionService, device_identity_keys
from appwarden.services.exemptions import grant_exemption, revoke_exemption
from appwarden.services.gc_control import keep_out_of_collections
from appwarden.services.inventory import ImportBatch, ImportSummary, check_batch, import_batch
from appwarden.services.inventory_writes import InventoryChanges, InventoryWrites
from appwarden.services.policies import PolicyDiff, PolicyService
from appwarden.services.ports import Progress, Store, UnitOfWork
from appwarden.services.sync import ENFORCEMENT_CHANGE, MAX_ENTRIES, SyncReport, apply_changes

PolicyHook = Callable[[UnitOfWork, FleetIndex, PolicyVersion, str, datetime], None]
FULL_ASSESSMENT_ABOVE = 500  # re-assess the whole fleet when more devices than this changed


class _DryRun(Exception):
    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary


@dataclass(frozen=True, slots=True)
class EngineLimits:
    min_lead: timedelta
    max_exemption: timedelta


class Compliance(InventoryWrites):
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        limits: EngineLimits,
        decisions: DecisionService | None = None,
        *,
        requires_notice: bool = True,
        rules: MergeRules | None = None,
        staleness: Staleness | None = None,
        accept_attestation: Callable[[Attestation], bool] | None = None,
    ) -> None:
        self.store = store
        self.rules = rules or MergeRules()
        self.staleness = staleness
        self.requires_notice = requires_notice
        # called inside the transaction of every policy apply that made a new version
        # (notices: it drafts a campaign; applying a policy never emails anyone by itself)
        self.policy_hooks: list[PolicyHook] = []
        self.catalog = catalog
        self.limits = limits
        self.fleet = FleetIndex()
        self.assessor = Assessor(catalog, staleness, accept_attestation)
        self.policies = PolicyService(catalog, self.assessor, limits.min_lead)
        self.decisions = decisions or DecisionService()
        self.lock = threading.RLock()
        self.loaded = False
        self.last_assessment: AssessmentReport | None = None
        # The stored verdicts, mirrored in memory (policy -> device -> verdict), so that a full
        # assessment does not re-read a million rows. Updated only after a commit.
        self.verdicts: dict[str, dict[str, Verdict]] = {}
        self.change_seq = 0  # the last change-log entry reflected in memory

    # -- loading ---------------------------------------------------------------------------------
    def load(self, progress: Progress | None = None) -> None:
        """Fill the fleet index and decision index from the database."""
        with self.lock, self.store.read() as uow:
            self.change_seq = uow.changes.head()
            fleet = FleetIndex()
            uow.inventory.load_fleet(fleet, progress)
            verdicts = by_policy(uow.verdicts.all())
            titles = titles_of(s.version for s in uow.policies.active())
            self._load_book(uow)
            self.fleet = fleet
            self.verdicts = verdicts
            self.decisions.rebuild(fleet, self._all_verdicts(), titles)
            self.loaded = True
        keep_out_of_collections()  # the fleet lives as long as the process

    def sync(self) -> SyncReport:
        """Pick up what other processes committed since the last sync (or load)."""
        with self.lock:
            if not self.loaded:
                return SyncReport()
            with self.store.read() as uow:
                head = uow.changes.head()
                if head <= self.change_seq:
                    return SyncReport()
                entries = uow.changes.since(self.change_seq, MAX_ENTRIES)
                if any(kind == ENFORCEMENT_CHANGE for _, kind, _ in entries):
                    self._load_book(uow)
                if len(entries) >= MAX_ENTRIES:
                    full = True
                else:
                    full = False
                    report = apply_changes(self.fleet, self.decisions, self.verdicts, uow, entries)
            if full:
                self.load()
                return SyncReport(entries=len(entries), full_reload=True)
            self.change_seq = head
            return report

    def _titles(self, uow: UnitOfWork) -> dict[str, str]:
        return titles_of(s.version for s in uow.policies.active())

    def _load_book(self, uow: UnitOfWork) -> None:
        """Re-read the armed enforcement; none when blocks need no announcement."""
        armed = uow.campaigns.armed_keys() if self.requires_notice else None
        self.decisions.book = EnforcementBook(armed) if armed is not None else None

    def apply_enforcement(
        self, armed: Iterable[EnforcementKey] = (), disarmed: Iterable[EnforcementKey] = ()
    ) -> None:
        """After a commit that armed or disarmed enforcement: update the book and re-derive the
        decisions of the devices concerned (no assessment, no database read)."""
        armed, disarmed = list(armed), list(disarmed)
        keys = sorted({k[0] for k in armed} | {k[0] for k in disarmed})
        if not keys:
            return
        with self.lock:
            book = self.decisions.book
            if book is not None:
                book.arm(armed)
                book.disarm(disarmed)
            by_device: dict[str, list[Verdict]] = {k: [] for k in keys}
            for verdicts in self.verdicts.values():
                for key in keys:
                    found = verdicts.get(key)
                    if found is not None:
                        by_device[key].append(found)
            with self.store.read() as uow:
                titles = self._titles(uow)
            self.decisions.update_devices(self.fleet, keys, by_device, titles)

    def _all_verdicts(self) -> Iterator[Verdict]:
        for verdicts in self.verdicts.values():
            yield from verdicts.values()

    def _remember(self, report: AssessmentReport) -> None:
        """Mirror what the committed assessment wrote."""
        if report.assessed_devices is None:
            self.verdicts = report.by_policy
            return
        for verdicts in self.verdicts.values():
            for device in report.assessed_devices:
                verdicts.pop(device, None)
        for slug, verdicts in report.by_policy.items():
            self.verdicts.setdefault(slug, {}).update(verdicts)

    # -- assessment ------------------------------------------------------------------------------
    def assess(
        self, now: datetime, trigger: str = "manual", actor: str = "system"
    ) -> AssessmentReport:
        with self.lock:
            with self.store.unit_of_work() as uow:
                report = self.assessor.run_full(
                    uow, self.fleet, now, trigger, actor, self.verdicts if self.loaded else None
                )
                titles = self._titles(uow)
                self._load_book(uow)
            self._remember(report)
            if self.loaded:  # same policies: only devices whose verdicts changed need new entries
                self._update_entries(report.changed_devices, titles)
            else:
                self.decisions.rebuild(self.fleet, self._all_verdicts(), titles)
            self.last_assessment = report
            return report

    def _update_entries(self, devices: frozenset[str], titles: dict[str, str]) -> None:
        by_device: dict[str, list[Verdict]] = {d: [] for d in devices}
        for per_policy in self.verdicts.values():
            for device in devices:
                verdict = per_policy.get(device)
                if verdict is not None:
                    by_device[device].append(verdict)
        self.decisions.update_devices(self.fleet, devices, by_device, titles)

    def _reassess_devices(
        self,
        devices: Iterable[str],
        now: datetime,
        trigger: str,
        actor: str,
        old_identities: dict[str, tuple[str, ...]] | None = None,
    ) -> AssessmentReport:
        keys = sorted(set(devices))
        with self.store.unit_of_work() as uow:
            report = self.assessor.run_devices(uow, self.fleet, keys, now, trigger, actor)
            titles = self._titles(uow)
        self._remember(report)
        by_device: dict[str, list[Verdict]] = {k: [] for k in keys}
        for verdict in report.all_verdicts():
            by_device[verdict.device].append(verdict)
        self.decisions.update_devices(self.fleet, keys, by_device, titles, old_identities)
        return report

    # -- policies --------------------------------------------------------------------------------
    def diff_policy(self, policy: Policy, now: datetime) -> PolicyDiff:
        with self.lock, self.store.read() as uow:
            return self.policies.diff(uow, self.fleet, policy, now)

    def apply_policy(
        self,
        policy: Policy,
        source: str,
        actor: str,
        reason: str,
        now: datetime,
        override_lead_reason: str = "",
    ) -> tuple[PolicyVersion, AssessmentReport | None]:
        with self.lock:
            with self.store.unit_of_work() as uow:
                version, report = self.policies.apply(
                    uow,
                    self.fleet,
                    policy,
                    source,
                    actor,
                    reason,
                    now,
                    override_lead_reason,
                    previous=self.verdicts if self.loaded else None,
                )
                if report is not None:
                    for hook in self.policy_hooks:
                        hook(uow, self.fleet, version, actor, now)
                titles = self._titles(uow)
                self._load_book(uow)
            if report is not None:
                self._remember(report)
                self.decisions.rebuild(self.fleet, self._all_verdicts(), titles)
                self.last_assessment = report
            return version, report

    def retire_policy(self, slug: str, actor: str, reason: str, now: datetime) -> AssessmentReport:
        with self.lock:
            with self.store.unit_of_work() as uow:
                report = self.policies.retire(
                    uow,
                    self.fleet,
                    slug,
                    actor,
                    reason,
                    now,
                    self.verdicts if self.loaded else None,
                )
                titles = self._titles(uow)
                self._load_book(uow)
            self._remember(report)
            self.decisions.rebuild(self.fleet, self._all_verdicts(), titles)
            return report

    # -- inventory -------------------------------------------------------------------------------
    def import_inventory(
        self,
        batch: ImportBatch,
        actor: str,
        now: datetime,
        *,
        skip_bad: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> tuple[ImportSummary, AssessmentReport | None]:
        """All or nothing: a bad row rejects the file unless `skip_bad`.

        A dry run computes the summary inside a transaction and rolls it back.
        """
        check_batch(batch, skip_bad)
        with self.lock:
            try:
                with self.store.unit_of_work() as uow:
                    summary, outcomes = import_batch(uow, batch, now, actor, progress, self.rules)
                    if dry_run:
                        summary.dry_run = True
                        raise _DryRun(summary)
            except _DryRun as stop:
                return stop.summary, None
            changes = InventoryChanges.of(outcomes)
            changes.employees = list(batch.employees)
            report = self._after_inventory(changes, now, f"import:{batch.origin}", actor)
            return summary, report

    def refresh_devices(
        self, keys: Iterable[str], now: datetime, trigger: str, actor: str
    ) -> AssessmentReport:
        """Reload some devices from the database into memory and re-assess them."""
        keys = list(keys)
        with self.lock:
            old = {}
            with self.store.read() as uow:
                devices = {k: uow.inventory.device(k) for k in keys}
            for key, device in devices.items():
                slot = self.fleet.slot_of.get(key)
                if slot is not None:
                    old[key] = device_identity_keys(self.fleet, slot)
                if device is None:
                    self.fleet.remove_device(key)
                else:
                    load_device(self.fleet, device)
            report = self._reassess_devices(keys, now, trigger, actor)
            for key, identities in old.items():
                slot = self.fleet.slot_of[key]
                gone = set(identities) - set(device_identity_keys(self.fleet, slot))
                if gone:
                    self.decisions.index = self.decisions.index.updated(
                        dict.fromkeys(gone), self.decisions.index.revision + 1
                    )
            return report

    # -- exemptions ------------------------------------------------------------------------------
    def grant_exemption(self, now: datetime, **kwargs: Any) -> tuple[Exemption, AssessmentReport]:
        with self.lock:
            with self.store.unit_of_work() as uow:
                exemption = grant_exemption(
                    uow, now=now, max_duration=self.limits.max_exemption, **kwargs
                )
            report = self._reassess_devices(
                self._devices_of(exemption), now, f"exemption:{exemption.id}", exemption.created_by
            )
            return exemption, report

    def revoke_exemption(
        self, exemption_id: str, actor: str, reason: str, now: datetime
    ) -> tuple[Exemption, AssessmentReport]:
        with self.lock:
            with self.store.unit_of_work() as uow:
                exemption = revoke_exemption(uow, exemption_id, actor, reason, now)
            report = self._reassess_devices(
                self._devices_of(exemption), now, f"exemption_revoked:{exemption_id}", actor
            )
            return exemption, report

    def _devices_of(self, exemption: Exemption) -> list[str]:
        if exemption.target_kind is TargetKind.DEVICE:
            return [exemption.target]
        slot = self.fleet.employee_slot.get(exemption.target.lower())
        if slot is None:
            return []
        return [self.fleet.keys[s] for s in self.fleet.employee_devices.get(slot, ())]

    # -- reading ---------------------------------------------------------------------------------
    def decide(self, kind: str, value: str, now: datetime) -> Decision:
        try:
            key = identity_key(kind, value)
        except ValueError as exc:
            raise AppWardenError(str(exc)) from exc
        return self.decisions.decide(key, to_epoch(now))

    def device_facts(self, key: str) -> DeviceFacts:
        facts = self.fleet.facts(key)
        if facts is None:
            raise NotFound(f"no device {key!r} in the inventory")
        return facts

    def device_verdicts(self, key: str) -> list[Verdict]:
        with self.store.read() as uow:
            return uow.verdicts.for_device(key)
