"""The fleet in memory: columnar device attributes and an inverted index app -> device bitmap.

Devices, employees and apps each get a dense integer slot. For every app the index keeps a
roaring bitmap of the device slots that have it, and for every attribute value (platform,
ownership, visibility, department, group, mail access) a bitmap of devices. "Which devices in
scope carry any of these three apps?" is then a handful of bitmap operations, answered in well
under a millisecond for a million devices.

The index is a mutable data structure with no I/O; services own one and feed it.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime

from pyroaring import BitMap

from appwarden.core.inventory import (
    AppKey,
    Device,
    DeviceFacts,
    Employee,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
    Visibility,
    parse_version,
)
from appwarden.core.timeutil import from_epoch, to_epoch

_PLATFORMS = list(Platform)
_OWNERSHIPS = list(Ownership)
_VISIBILITIES = list(Visibility)
_NO_OWNER = -1


@dataclass(frozen=True, slots=True)
class AppDiff:
    added: tuple[int, ...]
    removed: tuple[int, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """What the index keeps per device (no app versions: those live in the database)."""

    key: str
    platform: Platform
    ownership: Ownership
    visibility: Visibility
    reaches_mail: bool
    os_version: str
    android_patch: date | None
    owner: str | None
    identities: tuple[str, ...]
    name: str = ""
    last_seen: datetime | None = None


class FleetIndex:
    def __init__(self) -> None:
        # devices (columnar, by slot)
        self.keys: list[str] = []
        self.slot_of: dict[str, int] = {}
        self.platform = bytearray()
        self.ownership = bytearray()
        self.visibility = bytearray()
        self.os_code = array("I")
        self.patch = array("i")  # date ordinal, 0 = not reported
        self.last_seen = array("q")  # epoch seconds of the newest report, 0 = not known
        self.owner = array("i")
        self.identities: list[tuple[str, ...]] = []
        self.names: list[str] = []
        self.device_apps: list[array[int]] = []
        self.live = BitMap()
        self.mail = BitMap()
        self.by_platform: dict[Platform, BitMap] = {p: BitMap() for p in Platform}
        self.by_ownership: dict[Ownership, BitMap] = {o: BitMap() for o in Ownership}
        self.by_visibility: dict[Visibility, BitMap] = {v: BitMap() for v in Visibility}
        self.by_department: dict[str, BitMap] = {}
        self.by_group: dict[str, BitMap] = {}
        # OS versions, interned
        self.os_texts: list[str] = [""]
        self.os_parsed: list[tuple[int, ...] | None] = [None]
        self._os_slot: dict[str, int] = {"": 0}
        # employees
        self.employees: list[Employee] = []
        self.employee_slot: dict[str, int] = {}
        self.employee_devices: dict[int, tuple[int, ...]] = {}  # few devices each: tuples
        self._group_sets: dict[frozenset[str], frozenset[str]] = {}  # one object per distinct set
        # apps
        self.app_keys: list[AppKey] = []
        self.app_names: list[str] = []
        self.app_publishers: list[str] = []
        self.app_slot: dict[AppKey, int] = {}
        self.app_devices: list[BitMap] = []
        self.app_log: list[int] = []  # slots created or re-described, in order (match caches)
        self.apps_by_name: dict[str, list[int]] = {}  # casefolded reported name -> slots
        self.apps_by_publisher: dict[str, list[int]] = {}  # casefolded publisher -> slots
        self.revision = 0

    # -- sizes -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.live)

    @property
    def app_count(self) -> int:
        return len(self.app_keys)

    # -- apps ------------------------------------------------------------------------------------
    def intern_app(self, key: AppKey, name: str = "", publisher: str = "") -> int:
        slot = self.app_slot.get(key)
        if slot is None:
            slot = len(self.app_keys)
            self.app_slot[key] = slot
            self.app_keys.append(key)
            self.app_names.append(name)
            self.app_publishers.append(publisher)
            self.app_devices.append(BitMap())
            self.app_log.append(slot)
            self._index_app_labels(slot, name or key.name_folded, publisher)
        elif (name and not self.app_names[slot]) or (publisher and not self.app_publishers[slot]):
            self._index_app_labels(
                slot,
                name if not self.app_names[slot] else "",
                publisher if not self.app_publishers[slot] else "",
            )
            self.app_names[slot] = self.app_names[slot] or name
            self.app_publishers[slot] = self.app_publishers[slot] or publisher
            self.app_log.append(slot)
        return slot

    def app_slots(self, apps: Iterable[InstalledApp]) -> list[int]:
        """`intern_app` for each app, inlined for apps already known with their labels (nearly
        every app of a device that reports again)."""
        known, names, publishers = self.app_slot.get, self.app_names, self.app_publishers
        slots = []
        for app in apps:
            key = app.key
            slot = known(key)
            if (
                slot is None
                or (app.name and not names[slot])
                or (app.publisher and not publishers[slot])
            ):
                slot = self.intern_app(key, app.name, app.publisher)
            slots.append(slot)
        return slots

    def _index_app_labels(self, slot: int, name: str, publisher: str) -> None:
        if name:
            self.apps_by_name.setdefault(name.casefold(), []).append(slot)
        if publisher:
            self.apps_by_publisher.setdefault(publisher.casefold(), []).append(slot)

    def devices_with(self, app_slots: Iterable[int]) -> BitMap:
        return BitMap.union(BitMap(), *(self.app_devices[a] for a in app_slots))

    # -- employees -------------------------------------------------------------------------------
    def upsert_employee(self, employee: Employee) -> int:
        shared = self._group_sets.setdefault(employee.groups, employee.groups)
        if shared is not employee.groups:
            employee = replace(employee, groups=shared)
        email = employee.email.lower()
        if email == employee.email:
            email = employee.email  # str.lower() copies: keep one object per address
        slot = self.employee_slot.get(email)
        if slot is None:
            slot = len(self.employees)
            self.employee_slot[email] = slot
            self.employees.append(employee)
            return slot
        old = self.employees[slot]
        self.employees[slot] = employee
        if old.department != employee.department or old.groups != employee.groups:
            for device in self.employee_devices.get(slot, ()):
                self._unlink_org(device, old)
                self._link_org(device, employee)
        return slot

    def owner_slot(self, email: str | None) -> int | None:
        """The employee slot of a device owner; an owner not in the directory yet gets a
        placeholder (email only), so employee-level exemptions and counts still find them."""
        if not email:
            return None
        slot = self.employee_slot.get(email.lower())
        if slot is None:
            slot = self.upsert_employee(Employee(email=email.lower()))
        return slot

    def employee(self, email: str | None) -> Employee | None:
        if not email:
            return None
        slot = self.employee_slot.get(email.lower())
        return self.employees[slot] if slot is not None else None

    def _link_org(self, device: int, employee: Employee) -> None:
        self.by_department.setdefault(employee.department, BitMap()).add(device)
        for group in employee.groups:
            self.by_group.setdefault(group, BitMap()).add(device)

    def _unlink_org(self, device: int, employee: Employee) -> None:
        self.by_department.get(employee.department, BitMap()).discard(device)
        for group in employee.groups:
            self.by_group.get(group, BitMap()).discard(device)

    # -- devices ---------------------------------------------------------------------------------
    def _os_code(self, text: str) -> int:
        code = self._os_slot.get(text)
        if code is None:
            code = len(self.os_texts)
            self._os_slot[text] = code
            self.os_texts.append(text)
            self.os_parsed.append(parse_version(text))
        return code

    def _new_slot(self, key: str) -> int:
        slot = len(self.keys)
        self.keys.append(key)
        self.slot_of[key] = slot
        self.platform.append(0)
        self.ownership.append(0)
        self.visibility.append(0)
        self.os_code.append(0)
        self.patch.append(0)
        self.last_seen.append(0)
        self.owner.append(_NO_OWNER)
        self.identities.append(())
        self.names.append("")
        self.device_apps.append(array("H"))
        return slot

    def upsert_device(self, row: DeviceRow, app_slots: Iterable[int] | None = None) -> AppDiff:
        """Insert or update a device; when `app_slots` is given it replaces the app set."""
        slot = self.slot_of.get(row.key)
        if slot is None:
            slot = self._new_slot(row.key)
        else:
            self._unindex_attributes(slot)
        self.platform[slot] = _PLATFORMS.index(row.platform)
        self.ownership[slot] = _OWNERSHIPS.index(row.ownership)
        self.visibility[slot] = _VISIBILITIES.index(row.visibility)
        self.os_code[slot] = self._os_code(row.os_version)
        self.patch[slot] = row.android_patch.toordinal() if row.android_patch else 0
        self.last_seen[slot] = int(to_epoch(row.last_seen)) if row.last_seen else 0
        self.identities[slot] = row.identities
        self.names[slot] = row.name
        owner = self.owner_slot(row.owner)
        self.owner[slot] = owner if owner is not None else _NO_OWNER
        self._index_attributes(slot, row.reaches_mail)
        self.revision += 1
        if app_slots is None:
            return AppDiff((), ())
        return self.set_apps(slot, app_slots)

    def set_apps(self, slot: int, app_slots: Iterable[int]) -> AppDiff:
        new = app_set(app_slots)
        old = self.device_apps[slot]
        if old == new:
            return AppDiff((), ())
        if old:
            old_set, new_set = set(old), set(new)
            added, removed = tuple(sorted(new_set - old_set)), tuple(sorted(old_set - new_set))
        else:  # a device's first apps (loading a fleet): nothing to compare or take away
            added, removed = tuple(new), ()
        for app in added:
            self.app_devices[app].add(slot)
        for app in removed:
            self.app_devices[app].discard(slot)
        self.device_apps[slot] = new
        self.revision += 1
        return AppDiff(added, removed)

    def remove_device(self, key: str) -> None:
        slot = self.slot_of.get(key)
        if slot is None or slot not in self.live:
            return
        self._unindex_attributes(slot)
        self.set_apps(slot, ())
        self.live.discard(slot)
        self.revision += 1

    def _index_attributes(self, slot: int, reaches_mail: bool) -> None:
        self.live.add(slot)
        self.by_platform[_PLATFORMS[self.platform[slot]]].add(slot)
        self.by_ownership[_OWNERSHIPS[self.ownership[slot]]].add(slot)
        self.by_visibility[_VISIBILITIES[self.visibility[slot]]].add(slot)
        if reaches_mail:
            self.mail.add(slot)
        owner = self.owner[slot]
        if owner != _NO_OWNER:
            mine = self.employee_devices.get(owner, ())
            if slot not in mine:
                self.employee_devices[owner] = (*mine, slot)
            self._link_org(slot, self.employees[owner])

    def _unindex_attributes(self, slot: int) -> None:
        self.by_platform[_PLATFORMS[self.platform[slot]]].discard(slot)
        self.by_ownership[_OWNERSHIPS[self.ownership[slot]]].discard(slot)
        self.by_visibility[_VISIBILITIES[self.visibility[slot]]].discard(slot)
        self.mail.discard(slot)
        owner = self.owner[slot]
        if owner != _NO_OWNER:
            mine = self.employee_devices.get(owner, ())
            if slot in mine:
                self.employee_devices[owner] = tuple(s for s in mine if s != slot)
            self._unlink_org(slot, self.employees[owner])

    # -- reading back ----------------------------------------------------------------------------
    def platform_of(self, slot: int) -> Platform:
        return _PLATFORMS[self.platform[slot]]

    def ownership_of(self, slot: int) -> Ownership:
        return _OWNERSHIPS[self.ownership[slot]]

    def visibility_of(self, slot: int) -> Visibility:
        return _VISIBILITIES[self.visibility[slot]]

    def owner_of(self, slot: int) -> Employee | None:
        owner = self.owner[slot]
        return self.employees[owner] if owner != _NO_OWNER else None

    def patch_of(self, slot: int) -> date | None:
        value = self.patch[slot]
        return date.fromordinal(value) if value else None

    def os_of(self, slot: int) -> tuple[int, ...] | None:
        return self.os_parsed[self.os_code[slot]]

    def last_seen_of(self, slot: int) -> datetime | None:
        value = self.last_seen[slot]
        return from_epoch(value) if value else None

    def facts(self, key: str) -> DeviceFacts | None:
        """Rebuild the domain view of one device (for single-device assessment and display)."""
        slot = self.slot_of.get(key)
        if slot is None or slot not in self.live:
            return None
        apps = frozenset(
            InstalledApp(
                self.app_keys[a].ref,
                self.app_names[a] or self.app_keys[a].name_folded,
                publisher=self.app_publishers[a],
            )
            if self.app_keys[a].identifier
            else _name_only(self.app_keys[a], self.app_names[a])
            for a in self.device_apps[slot]
        )
        mail = _identities_to_mail(self.identities[slot])
        owner = self.owner_of(slot)
        device = Device(
            key=key,
            platform=self.platform_of(slot),
            owner=owner.email if owner else None,
            ownership=self.ownership_of(slot),
            visibility=self.visibility_of(slot),
            os_version=self.os_texts[self.os_code[slot]],
            android_patch=self.patch_of(slot),
            mail=mail,
            has_mail_access=slot in self.mail,
            apps=apps,
            name=self.names[slot],
            last_seen=self.last_seen_of(slot),
        )
        return DeviceFacts(device, owner)

    def iter_live(self) -> Iterator[int]:
        return iter(self.live)

    def employees_of(self, slots: BitMap) -> int:
        owners = {self.owner[s] for s in slots}
        owners.discard(_NO_OWNER)
        return len(owners)


def _name_only(key: AppKey, name: str) -> InstalledApp:
    app = InstalledApp(None, name or key.name_folded, space=key.platform)
    return app if app.key == key else InstalledApp(None, key.name_folded, space=key.platform)


def _identities_to_mail(keys: tuple[str, ...]) -> MailIdentities:
    eas: list[str] = []
    certs: list[str] = []
    imap: list[str] = []
    for key in keys:
        kind, _, value = key.partition(":")
        {"eas": eas, "cert": certs, "imap": imap}.get(kind, []).append(value)
    return MailIdentities(tuple(eas), tuple(certs), tuple(imap))


def row_of(device: Device) -> DeviceRow:
    return DeviceRow(
        key=device.key,
        platform=device.platform,
        ownership=device.ownership,
        visibility=device.visibility,
        reaches_mail=device.reaches_mail,
        os_version=device.os_version,
        android_patch=device.android_patch,
        owner=device.owner,
        identities=device.mail.identity_keys(),
        name=device.name,
        last_seen=device.last_seen,
    )


def app_set(app_slots: Iterable[int]) -> array[int]:
    """A device's app slots, sorted and unique, two bytes each while slots fit (fleets know a
    few thousand distinct apps: 160 bytes instead of 320 for 80 apps, 160 MB at 1,000,000
    devices), four bytes once a slot passes 65,535. Arrays compare by value across widths."""
    ordered = sorted(set(app_slots))
    return array("H" if not ordered or ordered[-1] < 65536 else "I", ordered)


def update_device(
    index: FleetIndex,
    device: Device,
    added: Iterable[InstalledApp],
    removed: Iterable[InstalledApp],
) -> AppDiff:
    """A device the index holds, whose apps changed by exactly `added` and `removed` since the
    index last saw it (what the store's diff wrote): its fields as given, its apps patched, so
    a report of 80 apps with one change costs one app lookup, not 80."""
    index.upsert_device(row_of(device))
    slot = index.slot_of[device.key]
    known = index.app_slot
    gone = {known[a.key] for a in removed if a.key in known}
    new = index.app_slots(added)
    if not gone and not new:
        return AppDiff((), ())
    return index.set_apps(slot, (set(index.device_apps[slot]) - gone).union(new))


def load_device(index: FleetIndex, device: Device) -> AppDiff:
    """Put a domain Device (with its apps) into the index."""
    return index.upsert_device(row_of(device), index.app_slots(device.apps))
