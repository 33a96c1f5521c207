"""Applying one source's report about one device, in the caller's transaction.

    match (source id, device key, serial, IMEI, EAS DeviceId) -> the device, or a new one
    -> keep the source's facts (overlaying what it said before)
    -> merge with the other sources' facts (core.sources) -> write the merged device as diffs
    -> record conflicts

A device with one source (the common case) takes a short path: its facts are the device. Only
when a second source reports does each source's app list get kept beside its facts, so the
union can be recomputed when either reports again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from appwarden.core.errors import Conflict, InvalidInput, Problem
from appwarden.core.inventory import AppKey, Device, InstalledApp
from appwarden.core.sources import (
    FieldConflict,
    Merged,
    MergeRules,
    SourceFacts,
    SourceReport,
    device_of,
    facts_of,
    merge_apps,
    merge_facts,
    merge_one,
    overlay,
    with_visibility,
)
from appwarden.core.timeutil import iso
from appwarden.services.ports import DeviceChange, StoredSource, UnitOfWork

NATIVE_SOURCES = frozenset({"csv", "json", "jsonl", "native"})
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]+")


def source_name(batch_source: str) -> str:
    """Our own formats are one source, whichever file type carried them."""
    return "native" if batch_source in NATIVE_SOURCES else batch_source


@dataclass(frozen=True, slots=True)
class AppDelta:
    installed: frozenset[InstalledApp] = frozenset()
    removed: frozenset[AppKey] = frozenset()


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    key: str
    change: DeviceChange | None = None  # None: nothing written (skipped)
    device: Device | None = None  # the merged device as written
    skipped: str = ""
    conflicts: tuple[FieldConflict, ...] = ()
    other_sources: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.change is not None and self.change.changed


@dataclass
class Ingest:
    """Applies reports in one unit of work; caches owner aliases for the transaction."""

    uow: UnitOfWork
    rules: MergeRules
    at: datetime
    _owners: dict[str, str] = field(default_factory=dict)
    _first_apps: bool = False
    _aliases: bool | None = None
    _known: dict[tuple[str, str], str] | None = None  # prefetched probes (bulk imports)
    _probe_cache: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    _device_apps: frozenset[InstalledApp] | None = None  # the current device's, once read

    def owner(self, address: str | None) -> str | None:
        if not address:
            return None
        if self._aliases is None:
            self._aliases = self.uow.sources.has_aliases()
        if not self._aliases:
            return address.lower()
        found = self._owners.get(address)
        if found is None:
            found = self._owners[address] = self.uow.sources.resolve_owner(address)
        return found

    def apply(
        self,
        report: SourceReport,
        *,
        key: str | None = None,
        sequence: int | None = None,
        delta: AppDelta | None = None,
    ) -> ReportOutcome:
        observed = min(report.observed_at or self.at, self.at)
        notes: list[FieldConflict] = []
        self._device_apps = None
        exists = key is not None
        if key is None:
            found, notes = self.match(report)
            exists = found is not None
            key = found or new_key(report)
        stored = self.uow.sources.snapshots(key) if exists else {}
        if exists and not stored:
            stored = self._legacy(key)
        mine = stored.get(report.source)
        skip = _stale_or_duplicate(report.source, mine, observed, sequence, delta)
        if skip:
            return ReportOutcome(key, skipped=skip)
        if delta is not None:
            report = self._with_delta(key, report, mine, delta)
        owner = self.owner(report.device.owner)
        if owner != report.device.owner:
            report = replace(report, device=replace(report.device, owner=owner))
        facts = overlay(mine.facts if mine else None, facts_of(report, observed))
        facts = with_visibility(facts, report)
        seq = sequence if sequence is not None else (mine.sequence if mine else 0)
        others = {s: v for s, v in stored.items() if s != report.source}
        self._first_apps = report.apps_known and all(
            v.facts.visibility is None for v in stored.values()
        )
        if others:
            outcome = self._multi(key, report, facts, mine, others, seq, notes)
        else:
            outcome = self._single(key, report, facts, seq, exists, notes)
        if mine is None or facts.values != mine.facts.values:
            self.uow.sources.add_keys(key, _keys_of(report))
        if self._known is not None:  # later reports of this chunk may name this device
            self._known.update(dict.fromkeys(self._probes(report), key))
        return outcome

    # -- matching --------------------------------------------------------------------------------
    def prefetch(self, reports: Iterable[SourceReport]) -> None:
        """Look up the identifiers of many reports in a few queries (a bulk import's chunk).
        The reports must stay alive until the chunk is done (their probes are cached by id)."""
        self._probe_cache = {id(r): _probes(r) for r in reports}
        self._known = self.uow.sources.find_many(
            p for probes in self._probe_cache.values() for p in probes
        )

    def _probes(self, report: SourceReport) -> list[tuple[str, str]]:
        cached = self._probe_cache.get(id(report))
        return cached if cached is not None else _probes(report)

    def is_new(self, report: SourceReport) -> bool:
        """After `prefetch`: no identifier of this report names a known or pending device."""
        known = self._known
        return known is not None and not any(p in known for p in self._probes(report))

    def remember(self, report: SourceReport, key: str) -> None:
        """Later reports of this chunk that name `report`'s device match `key`."""
        if self._known is not None:
            self._known.update(dict.fromkeys(self._probes(report), key))

    def create_many(self, reports: list[SourceReport]) -> list[ReportOutcome]:
        """New devices (see `is_new`) written in a few statements: the bulk-import path.

        The same facts, merge and device as `apply` would write for a device's first report.
        """
        if not reports:
            return []
        devices, stored, keys = [], [], []
        for report in reports:
            key = new_key(report)
            owner = self.owner(report.device.owner)
            if owner != report.device.owner:
                report = replace(report, device=replace(report.device, owner=owner))
            observed = min(report.observed_at or self.at, self.at)
            facts = with_visibility(facts_of(report, observed), report)
            apps = report.device.apps if report.apps_known else frozenset()
            devices.append(device_of(key, merge_one(facts), apps))
            stored.append((key, StoredSource(facts)))
            keys.append((key, _keys_of(report)))
            self.remember(report, key)
        changes = self.uow.inventory.create_devices(devices, self.at, reports[0].source)
        self.uow.sources.put_many(stored)
        self.uow.sources.add_keys_many(keys)
        return [
            ReportOutcome(device.key, change, device)
            for device, change in zip(devices, changes, strict=True)
        ]

    def match(self, report: SourceReport) -> tuple[str | None, list[FieldConflict]]:
        """The known device this report is about (None: a new one), and identifier conflicts."""
        probes = self._probes(report)
        if self._known is not None:
            found = [self._known.get(p) for p in probes]
        else:
            found = self.uow.sources.find(probes)
        hits = [(probe, k) for probe, k in zip(probes, found, strict=True) if k is not None]
        if not hits:
            return None, []
        chosen = hits[0][1]
        elsewhere = tuple(
            (report.source, f"{kind} {value} is device {k}")
            for (kind, value), k in hits
            if k != chosen
        )
        notes = [FieldConflict("identity", chosen, report.source, elsewhere)] if elsewhere else []
        return chosen, notes

    def _legacy(self, key: str) -> dict[str, StoredSource]:
        """A device written before sources were kept: its row is its only source's report."""
        device = self.uow.inventory.device(key)
        if device is None:
            return {}
        seen = device.last_seen or self.at
        facts = facts_of(SourceReport("native", device), seen)
        return {"native": StoredSource(facts)}

    def _with_delta(
        self,
        key: str,
        report: SourceReport,
        mine: StoredSource | None,
        delta: AppDelta,
    ) -> SourceReport:
        if mine is None or mine.facts.visibility is None:
            raise Conflict("no full app list from this device yet; send `apps` in full")
        base = self._list_of(key, mine)
        kept = {a for a in base if a.key not in delta.removed}
        apps = frozenset(kept | delta.installed)
        return replace(report, device=replace(report.device, apps=apps), apps_known=True)

    def _list_of(self, key: str, stored: StoredSource) -> frozenset[InstalledApp]:
        """A source's last app list: kept beside its facts, or (not kept) the device's own."""
        if stored.kept:
            return self.uow.sources.app_list(key, stored.facts.source) or frozenset()
        if self._device_apps is None:
            current = self.uow.inventory.device(key)
            self._device_apps = current.apps if current else frozenset()
        return self._device_apps

    # -- writing ---------------------------------------------------------------------------------
    def _single(
        self,
        key: str,
        report: SourceReport,
        facts: SourceFacts,
        sequence: int,
        exists: bool,
        notes: list[FieldConflict],
    ) -> ReportOutcome:
        merged = merge_one(facts)
        apps = report.device.apps if report.apps_known else None
        if apps is None:
            current = self.uow.inventory.device(key) if exists else None
            known = current.apps if current else frozenset()
        device = device_of(key, merged, apps if apps is not None else known)
        change = self.uow.inventory.upsert_device(
            device, self.at, report.source, apps is not None, self._first_apps
        )
        self.uow.sources.put(key, StoredSource(facts, None, sequence))
        if notes:
            self.uow.sources.set_conflicts(key, notes, self.at)
        return ReportOutcome(key, change, device, conflicts=tuple(notes))

    def _multi(
        self,
        key: str,
        report: SourceReport,
        facts: SourceFacts,
        mine: StoredSource | None,
        others: dict[str, StoredSource],
        sequence: int,
        notes: list[FieldConflict],
    ) -> ReportOutcome:
        everyone = {report.source: facts} | {s: v.facts for s, v in others.items()}
        merged = merge_facts(list(everyone.values()), self.rules)
        own = report.device.apps if report.apps_known else None
        if own is None and mine is not None and mine.facts.visibility is not None:
            own = self._list_of(key, mine)
        mine_counts = own is not None and facts.visibility is not None
        lists = self._app_lists(key, others, merged, fall_back=not mine_counts)
        if mine_counts and own is not None:
            lists[report.source] = own
        apps, app_conflict = merge_apps(
            _current_lists(lists, merged),
            _sees_all(everyone, merged),
            self.rules,
            {s: f.observed_at for s, f in everyone.items()},
            report.source,
        )
        device = device_of(key, merged, apps)
        change = self.uow.inventory.upsert_device(
            device, self.at, report.source, True, self._first_apps
        )
        shared = len(lists) > 1  # keep lists only while they may differ from the device's
        for source, stored in others.items():
            if shared and not stored.kept and source in lists:
                self.uow.sources.put(key, replace(stored, apps=lists[source]))
        self.uow.sources.put(key, StoredSource(facts, own if shared else None, sequence))
        conflicts = [*notes, *merged.conflicts, *([app_conflict] if app_conflict else [])]
        if conflicts or shared:
            self.uow.sources.set_conflicts(key, conflicts, self.at)
        return ReportOutcome(key, change, device, "", tuple(conflicts), tuple(sorted(others)))

    def _app_lists(
        self, key: str, others: dict[str, StoredSource], merged: Merged, fall_back: bool
    ) -> dict[str, frozenset[InstalledApp]]:
        """The other sources' app lists that count: the current ones; when none is current
        and this report brings no list either, the outdated ones (better than nothing)."""
        seen = {s: v for s, v in others.items() if v.facts.visibility is not None}
        pool = {s: v for s, v in seen.items() if s in merged.current}
        if not pool and fall_back:
            pool = seen
        return {source: self._list_of(key, stored) for source, stored in pool.items()}


def _current_lists(
    lists: dict[str, frozenset[InstalledApp]], merged: Merged
) -> dict[str, frozenset[InstalledApp]]:
    current = {s: apps for s, apps in lists.items() if s in merged.current}
    return current or lists


def _sees_all(everyone: dict[str, SourceFacts], merged: Merged) -> list[str]:
    return [
        s
        for s, f in everyone.items()
        if s in merged.current and f.visibility is not None and f.visibility.sees_everything
    ]


def _stale_or_duplicate(
    source: str,
    mine: StoredSource | None,
    observed: datetime,
    sequence: int | None,
    delta: AppDelta | None,
) -> str:
    if mine is None:
        if delta is not None:
            raise Conflict("no full app list from this device yet; send `apps` in full")
        return ""
    if sequence is not None and sequence <= mine.sequence:
        return f"duplicate: sequence {sequence} was already applied (last {mine.sequence})"
    if delta is not None and sequence != mine.sequence + 1:
        raise InvalidInput(
            Problem(
                f"is {sequence}, but the last applied is {mine.sequence}",
                "sequence",
                f"send {mine.sequence + 1}, or send the full app list in `apps`",
            )
        )
    if observed < mine.facts.observed_at:
        return f"older than the last report from {source} ({iso(mine.facts.observed_at)})"
    return ""


def _probes(report: SourceReport) -> list[tuple[str, str]]:
    probes = []
    if report.source_id:
        probes.append(("source", f"{report.source}:{report.source_id}"))
    if report.device.key:
        probes.append(("key", report.device.key))
    probes += report.hardware_keys()
    probes += [("eas", e) for e in report.device.mail.eas_device_ids]
    return probes


def new_key(report: SourceReport) -> str:
    if report.device.key:
        return report.device.key
    ident = report.source_id or report.device.serial
    if not ident:
        raise InvalidInput(Problem("has no device id, key or serial", "device", "export the id"))
    ident = _KEY_UNSAFE.sub("-", ident).strip("-")
    return f"{report.source}-{ident}"[:128]


def _keys_of(report: SourceReport) -> list[tuple[str, str]]:
    keys = list(report.hardware_keys())
    if report.source_id:
        keys.append(("source", f"{report.source}:{report.source_id}"))
    return keys


def device_keys(outcomes: Iterable[ReportOutcome]) -> list[str]:
    return [o.key for o in outcomes if o.changed]
