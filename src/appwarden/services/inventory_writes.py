"""Inventory writes of the compliance engine: one transaction, then memory, then re-assessment.

Every inventory write (an import, a batch of check-ins, an enrolment, a directory sync, an
attestation) commits first; only then is the fleet index updated (from the merged devices the
write returned, from compact rows for bulk imports, or rebuilt from the store when too much
changed), and the devices it touched re-assessed and their decision entries swapped. A failed
transaction leaves memory untouched. `Compliance` (services/compliance.py) mixes this in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar, cast

from appwarden.core.fleet import FleetIndex, load_device, update_device
from appwarden.core.fleet_delta import FleetDelta
from appwarden.core.inventory import Device, Employee, InstalledApp
from appwarden.core.staleness import mark_seen
from appwarden.services.assessment import AssessmentReport
from appwarden.services.decisions import device_identity_keys
from appwarden.services.ingest import Ingest, ReportOutcome
from appwarden.services.ports import UnitOfWork

if TYPE_CHECKING:
    from appwarden.services.compliance import Compliance

R = TypeVar("R")
FULL_ASSESSMENT_ABOVE = 500  # re-assess the whole fleet when more devices than this changed


@dataclass
class InventoryChanges:
    """What a committed inventory write means for memory."""

    devices: list[Device] = field(default_factory=list)  # changed: load into the fleet
    seen: dict[str, datetime] = field(default_factory=dict)  # unchanged but alive
    employees: list[Employee] = field(default_factory=list)
    reload: list[str] = field(default_factory=list)  # changed in SQL: read back from the store
    delta: FleetDelta | None = None  # changed, kept compactly (bulk imports)
    reload_all: bool = False  # too much changed to keep: rebuild the index from the store
    # devices that existed before the write: the apps it added and removed (patch, not reload)
    app_changes: dict[str, tuple[tuple[InstalledApp, ...], tuple[InstalledApp, ...]]] = field(
        default_factory=dict
    )

    @classmethod
    def of(cls, outcomes: Iterable[ReportOutcome]) -> InventoryChanges:
        changes = cls()
        for outcome in outcomes:
            if outcome.device is None:
                continue
            if outcome.changed:
                changes.devices.append(outcome.device)
                change = outcome.change
                if change is not None and not change.created:
                    changes.app_changes[outcome.key] = (change.apps_added, change.apps_removed)
            elif outcome.device.last_seen is not None:
                changes.seen[outcome.key] = outcome.device.last_seen
        return changes


class InventoryWrites:
    def write_reports(
        self,
        work: Callable[[Ingest], R],
        outcomes: Callable[[R], Iterable[ReportOutcome]],
        now: datetime,
        trigger: str,
        actor: str,
    ) -> tuple[R, AssessmentReport | None]:
        """Run `work` with an ingest in one transaction; then memory, then re-assessment."""
        engine = cast("Compliance", self)
        with engine.lock:
            with engine.store.unit_of_work() as uow:
                result = work(Ingest(uow, engine.rules, now))
            changes = InventoryChanges.of(outcomes(result))
            return result, engine._after_inventory(changes, now, trigger, actor)

    def write_inventory(
        self,
        work: Callable[[UnitOfWork], R],
        changes: Callable[[R], InventoryChanges],
        now: datetime,
        trigger: str,
        actor: str,
    ) -> tuple[R, AssessmentReport | None]:
        """Any inventory write: one transaction, then the fleet, then re-assessment."""
        engine = cast("Compliance", self)
        with engine.lock:
            with engine.store.unit_of_work() as uow:
                result = work(uow)
            return result, engine._after_inventory(changes(result), now, trigger, actor)

    def write_and_reassess(
        self,
        work: Callable[[UnitOfWork], R],
        devices: Callable[[R], Iterable[str]],
        now: datetime,
        trigger: str,
        actor: str,
    ) -> tuple[R, AssessmentReport]:
        """A write that changes verdict inputs of some devices (attestations, credentials)."""
        engine = cast("Compliance", self)
        with engine.lock:
            with engine.store.unit_of_work() as uow:
                result = work(uow)
            return result, engine._reassess_devices(devices(result), now, trigger, actor)

    def _after_inventory(
        self, changes: InventoryChanges, now: datetime, trigger: str, actor: str
    ) -> AssessmentReport | None:
        """Bring memory up to a committed inventory write and re-assess what it touched."""
        engine = cast("Compliance", self)
        if changes.reload_all:
            engine.fleet = FleetIndex()  # let the old index go before the new one is built
            engine.load()
            return engine.assess(now, trigger, actor)
        fleet = engine.fleet
        for employee in changes.employees:
            fleet.upsert_employee(employee)
        if changes.reload:
            with engine.store.read() as uow:
                changes.devices += [d for d in map(uow.inventory.device, changes.reload) if d]
        old: dict[str, tuple[str, ...]] = {}
        for device in changes.devices:
            slot = fleet.slot_of.get(device.key)
            if slot is not None:
                old[device.key] = device_identity_keys(fleet, slot)
            delta = changes.app_changes.get(device.key)
            if delta is not None and slot is not None and slot in fleet.live:
                update_device(fleet, device, *delta)
            else:
                load_device(fleet, device)
        touched = {d.key for d in changes.devices}
        if changes.delta is not None and len(changes.delta) <= FULL_ASSESSMENT_ABOVE:
            for key in changes.delta.device_keys():
                slot = fleet.slot_of.get(key)
                if slot is not None:
                    old[key] = device_identity_keys(fleet, slot)
        if changes.delta is not None:
            touched.update(changes.delta.apply(fleet))
        cutoff = engine.staleness.cutoff(now) if engine.staleness else None
        for key, seen in changes.seen.items():
            was = fleet.last_seen_of(fleet.slot_of[key]) if key in fleet.slot_of else None
            mark_seen(fleet, key, seen)
            if cutoff is not None and was is not None and was < cutoff <= seen:
                touched.add(key)  # was stale, reports again
        if not touched and not changes.employees:
            return None
        if len(touched) > FULL_ASSESSMENT_ABOVE or changes.employees:
            return engine.assess(now, trigger, actor)
        return engine._reassess_devices(touched, now, trigger, actor, old)
