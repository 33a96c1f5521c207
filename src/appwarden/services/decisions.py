"""The decision service: owns the current decision index and swaps it atomically."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

from appwarden.core.decision import (
    Decision,
    DecisionIndex,
    Entry,
    EntryBuilder,
)
from appwarden.core.fleet import FleetIndex
from appwarden.core.verdict import Verdict
from appwarden.services.gc_control import gc_paused, keep_out_of_collections


def device_identity_keys(fleet: FleetIndex, slot: int) -> tuple[str, ...]:
    # device keys are validated at import, so "device:" + key is already the normal form
    return ("device:" + fleet.keys[slot], *fleet.identities[slot])


class DecisionService:
    def __init__(self, id_prefix: str = "d") -> None:
        self.index = DecisionIndex({}, 0)
        self.id_prefix = id_prefix
        self._ids = itertools.count(1)

    # -- the hot path ----------------------------------------------------------------------------
    def decide(self, identity: str, now: float) -> Decision:
        """The hot path: one dict probe (two with an overlay) and a comparison."""
        index = self.index
        entry = index.get(identity)
        if entry is None:
            return Decision(next(self._ids), index.revision, identity, None, None, now)
        times = entry.times
        outcome = entry.first if not times or now < times[0] else entry.at(now)
        return Decision(next(self._ids), index.revision, identity, entry.device, outcome, now)

    def decision_id(self, decision: Decision) -> str:
        return f"{self.id_prefix}-{decision.id:x}"

    # -- building --------------------------------------------------------------------------------
    def rebuild(
        self,
        fleet: FleetIndex,
        verdicts: Iterable[Verdict],
        titles: Mapping[str, str],
    ) -> None:
        by_device: dict[str, list[Verdict]] = {}
        for verdict in verdicts:
            by_device.setdefault(verdict.device, []).append(verdict)
        entries: dict[str, Entry] = {}
        builder = EntryBuilder(titles)
        with gc_paused():
            for slot in fleet.live:
                key = fleet.keys[slot]
                entry = builder.build(key, by_device.get(key, ()))
                for identity in device_identity_keys(fleet, slot):
                    entries[identity] = entry
        self.index = DecisionIndex(entries, self.index.revision + 1)
        keep_out_of_collections()

    def update_devices(
        self,
        fleet: FleetIndex,
        devices: Iterable[str],
        verdicts_by_device: Mapping[str, Iterable[Verdict]],
        titles: Mapping[str, str],
        old_identities: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Re-derive the entries of some devices; identities they no longer have are dropped."""
        changes: dict[str, Entry | None] = {}
        builder = EntryBuilder(titles)
        for key in devices:
            for old in (old_identities or {}).get(key, ()):
                changes[old] = None
            slot = fleet.slot_of.get(key)
            if slot is None or slot not in fleet.live:
                continue
            entry = builder.build(key, verdicts_by_device.get(key, ()))
            for identity in device_identity_keys(fleet, slot):
                changes[identity] = entry
        if changes:
            self.index = self.index.updated(changes, self.index.revision + 1)
