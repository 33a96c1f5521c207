"""Filling an empty fleet index fast: columns are appended, bitmaps are built once at the end.

Adding a device to a live index touches one bitmap per app (about 80 `BitMap.add` calls); for a
million devices that is most of the load time. The bulk loader instead appends device slots to
plain arrays per app and per attribute value, and turns each array into a bitmap in one call.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from pyroaring import BitMap

from appwarden.core.fleet import (
    _NO_OWNER,
    _OWNERSHIPS,
    _PLATFORMS,
    _VISIBILITIES,
    DeviceRow,
    FleetIndex,
    app_set,
)
from appwarden.core.timeutil import to_epoch


class FleetBulkLoader:
    def __init__(self, fleet: FleetIndex) -> None:
        if fleet.keys:
            raise ValueError("the bulk loader fills an empty fleet index only")
        self.fleet = fleet
        self._apps: list[array[int]] = []
        self._mail = array("I")
        self._by_platform: dict[int, array[int]] = {}
        self._by_ownership: dict[int, array[int]] = {}
        self._by_visibility: dict[int, array[int]] = {}
        self._by_owner: dict[int, array[int]] = {}

    def add(self, row: DeviceRow, app_slots: Iterable[int]) -> int:
        fleet = self.fleet
        if row.key in fleet.slot_of:
            raise ValueError(f"device {row.key!r} added twice")
        slot = fleet._new_slot(row.key)
        platform = _PLATFORMS.index(row.platform)
        ownership = _OWNERSHIPS.index(row.ownership)
        visibility = _VISIBILITIES.index(row.visibility)
        fleet.platform[slot] = platform
        fleet.ownership[slot] = ownership
        fleet.visibility[slot] = visibility
        fleet.os_code[slot] = fleet._os_code(row.os_version)
        fleet.patch[slot] = row.android_patch.toordinal() if row.android_patch else 0
        fleet.last_seen[slot] = int(to_epoch(row.last_seen)) if row.last_seen else 0
        fleet.identities[slot] = row.identities
        fleet.names[slot] = row.name
        owner = fleet.owner_slot(row.owner)
        fleet.owner[slot] = owner if owner is not None else _NO_OWNER
        apps = app_set(app_slots)
        fleet.device_apps[slot] = apps
        members = self._apps
        if len(members) < fleet.app_count:
            members.extend(array("I") for _ in range(fleet.app_count - len(members)))
        for app in apps:
            members[app].append(slot)
        if row.reaches_mail:
            self._mail.append(slot)
        self._by_platform.setdefault(platform, array("I")).append(slot)
        self._by_ownership.setdefault(ownership, array("I")).append(slot)
        self._by_visibility.setdefault(visibility, array("I")).append(slot)
        if owner is not None:
            self._by_owner.setdefault(owner, array("I")).append(slot)
        return slot

    def finish(self) -> FleetIndex:
        fleet = self.fleet
        while len(self._apps) < fleet.app_count:
            self._apps.append(array("I"))
        for app, members in enumerate(self._apps):
            fleet.app_devices[app] = BitMap(members)
        fleet.live = BitMap(range(len(fleet.keys)))
        fleet.mail = BitMap(self._mail)
        for code, slots in self._by_platform.items():
            fleet.by_platform[_PLATFORMS[code]] = BitMap(slots)
        for code, slots in self._by_ownership.items():
            fleet.by_ownership[_OWNERSHIPS[code]] = BitMap(slots)
        for code, slots in self._by_visibility.items():
            fleet.by_visibility[_VISIBILITIES[code]] = BitMap(slots)
        departments: dict[str, list[array[int]]] = {}
        groups: dict[str, list[array[int]]] = {}
        for owner, slots in self._by_owner.items():
            fleet.employee_devices[owner] = tuple(slots)
            employee = fleet.employees[owner]
            departments.setdefault(employee.department, []).append(slots)
            for group in employee.groups:
                groups.setdefault(group, []).append(slots)
        for name, parts in departments.items():
            fleet.by_department[name] = BitMap.union(*(BitMap(p) for p in parts))
        for name, parts in groups.items():
            fleet.by_group[name] = BitMap.union(*(BitMap(p) for p in parts))
        fleet.revision += 1
        return fleet
