"""The decision service: owns the current decision index and swaps it atomically.

It also holds the `EnforcementBook` (core/enforcement.py) that every rebuild and update uses:
with a book (the setting `enforcement_requires_notice`, on by default), a block_mail verdict
denies only when its block was announced by an approved campaign; with none, every block_mail
verdict denies at its deadline. Whoever builds entries goes through here, so none can forget it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

from appwarden.core.decision import (
    Decision,
    DecisionIndex,
    Entry,
    EntryBuilder,
)
from appwarden.core.enforcement import EnforcementBook
from appwarden.core.fleet import FleetIndex
from appwarden.core.verdict import Verdict
from appwarden.services.gc_control import gc_paused, keep_out_of_collections

_NONE: frozenset[str] = frozenset()


def device_identity_keys(fleet: FleetIndex, slot: int) -> tuple[str, ...]:
    # device keys are validated at import, so "device:" + key is already the normal form
    return ("device:" + fleet.keys[slot], *fleet.identities[slot])


class DecisionService:
    def __init__(self, id_prefix: str = "d") -> None:
        self.index = DecisionIndex({}, 0)
        self.id_prefix = id_prefix
        self._ids = itertools.count(1)
        self.book: EnforcementBook | None = None  # set by the engine when notices are required

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
                mine = by_device.get(key, ())
                entry = builder.build(key, mine, self._unarmed(mine))
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
            mine = list(verdicts_by_device.get(key, ()))
            entry = builder.build(key, mine, self._unarmed(mine))
            for identity in device_identity_keys(fleet, slot):
                changes[identity] = entry
        if changes:
            self.index = self.index.updated(changes, self.index.revision + 1)

    def _unarmed(self, verdicts: Sequence[Verdict]) -> frozenset[str]:
        book = self.book
        return _NONE if book is None or not verdicts else book.unarmed_policies(verdicts)
