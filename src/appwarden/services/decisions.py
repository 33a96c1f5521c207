"""The decision service: owns the current decision index and swaps it atomically.

Besides one entry per device identity, the index holds one `user:<email>` entry per person with
devices, combined by the configured `UserRule` (see core/decision_users.py), for gateways that
can only name the user.

It also holds the `EnforcementBook` (core/enforcement.py) that every rebuild and update uses:
with a book (the setting `enforcement_requires_notice`, on by default), a block_mail verdict
denies only when its block was announced by an approved campaign; with none, every block_mail
verdict denies at its deadline. Whoever builds entries goes through here, so none can forget it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

from appwarden.core.decision import (
    ALLOW,
    Decision,
    DecisionIndex,
    Entry,
    EntryBuilder,
)
from appwarden.core.decision_users import UserRule, combine_entries, is_plain_allow
from appwarden.core.enforcement import EnforcementBook
from appwarden.core.fleet import FleetIndex
from appwarden.core.verdict import Verdict
from appwarden.services.gc_control import gc_paused, keep_new_structure, keep_out_of_collections

_NONE: frozenset[str] = frozenset()
_USER_ALLOW = Entry("", ALLOW)


def device_identity_keys(fleet: FleetIndex, slot: int) -> tuple[str, ...]:
    # device keys are validated at import, so "device:" + key is already the normal form
    return ("device:" + fleet.keys[slot], *fleet.identities[slot])


def _owner_email(fleet: FleetIndex, slot: int) -> str | None:
    owner = fleet.owner[slot]
    return fleet.employees[owner].email.lower() if owner >= 0 else None


class DecisionService:
    def __init__(self, id_prefix: str = "d", user_rule: UserRule = UserRule.ANY) -> None:
        self.index = DecisionIndex({}, 0)
        self.id_prefix = id_prefix
        self.user_rule = user_rule
        self._ids = itertools.count(1)
        self._owner: dict[str, str] = {}  # device key -> owner email, as last indexed
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

    def new_id(self) -> int:
        """An id for a decision answered without the index (exempt logins, open methods)."""
        return next(self._ids)

    def owner_of(self, device: str) -> str | None:
        return self._owner.get(device)

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
        owners: dict[str, str] = {}
        per_user: dict[str, list[Entry]] = {}
        builder = EntryBuilder(titles)
        with gc_paused():
            for slot in fleet.live:
                key = fleet.keys[slot]
                mine = by_device.get(key, ())
                entry = builder.build(key, mine, self._unarmed(mine))
                for identity in device_identity_keys(fleet, slot):
                    entries[identity] = entry
                email = _owner_email(fleet, slot)
                if email is not None:
                    owners[key] = email
                    per_user.setdefault(email, []).append(entry)
            for email, devices in per_user.items():
                entries["user:" + email] = self._user_entry(devices)
        self._owner = owners
        self.index = DecisionIndex(entries, self.index.revision + 1)
        keep_out_of_collections()

    def _user_entry(self, devices: list[Entry]) -> Entry:
        if all(is_plain_allow(e) for e in devices):
            return _USER_ALLOW
        return combine_entries(devices, self.user_rule)

    def _user_changes(
        self, index: DecisionIndex, fleet: FleetIndex, emails: set[str]
    ) -> dict[str, Entry | None]:
        changes: dict[str, Entry | None] = {}
        for email in emails:
            slot = fleet.employee_slot.get(email)
            devices = [] if slot is None else sorted(fleet.employee_devices.get(slot, ()))
            entries = [
                e
                for d in devices
                if d in fleet.live and (e := index.get("device:" + fleet.keys[d])) is not None
            ]
            changes["user:" + email] = self._user_entry(entries) if entries else None
        return changes

    def update_devices(
        self,
        fleet: FleetIndex,
        devices: Iterable[str],
        verdicts_by_device: Mapping[str, Iterable[Verdict]],
        titles: Mapping[str, str],
        old_identities: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Re-derive the entries of some devices (and their owners'); identities they no longer
        have are dropped."""
        devices = list(devices)
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
        emails = {e for k in devices if (e := self._owner.pop(k, None))}
        for key in devices:
            slot = fleet.slot_of.get(key)
            email = None if slot is None or slot not in fleet.live else _owner_email(fleet, slot)
            if email is not None:
                self._owner[key] = email
                emails.add(email)
        if not changes and not emails:
            return
        before = self.index
        index = before.updated(changes, self.index.revision)
        self.index = index.updated(self._user_changes(index, fleet, emails), index.revision + 1)
        if not self.index.shares_base(before):
            keep_new_structure()  # a new base of millions of entries: no collection walks it

    def _unarmed(self, verdicts: Sequence[Verdict]) -> frozenset[str]:
        book = self.book
        return _NONE if book is None or not verdicts else book.unarmed_policies(verdicts)
