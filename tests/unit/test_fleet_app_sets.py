"""A device's app set is stored two bytes per app while slots fit, four bytes after: both widths
compare, patch and answer alike."""

from __future__ import annotations

from appwarden.core.fleet import FleetIndex, app_set, load_device
from appwarden.core.inventory import AppKey, AppPlatform
from tests.support.builders import device


def test_narrow_while_slots_fit_wide_after_and_equal_by_value() -> None:
    assert app_set([3, 1, 3, 65535]).typecode == "H"
    wide = app_set([1, 65536])
    assert wide.typecode == "I" and list(wide) == [1, 65536]
    assert app_set([2, 1]) == app_set([1, 2, 2])
    assert app_set([]).typecode == "H" and len(app_set([])) == 0


def test_a_device_moves_between_widths_and_the_inverted_index_follows() -> None:
    fleet = FleetIndex()
    load_device(fleet, device("d1", ["com.a", "com.b"]))
    slot = fleet.slot_of["d1"]
    assert fleet.device_apps[slot].typecode == "H"
    for n in range(65_600):  # a fleet that has seen more distinct apps than two bytes hold
        fleet.intern_app(AppKey(AppPlatform.ANDROID, f"com.filler{n}", ""))
    late = fleet.app_slot[AppKey(AppPlatform.ANDROID, "com.filler65599", "")]
    assert late > 65535
    first = list(fleet.device_apps[slot])
    fleet.set_apps(slot, [*first, late])
    assert fleet.device_apps[slot].typecode == "I"
    assert slot in fleet.devices_with([late]) and slot in fleet.devices_with(first[:1])
    fleet.set_apps(slot, first)  # back to the first two apps: narrow again, late app dropped
    assert fleet.device_apps[slot].typecode == "H" and slot not in fleet.devices_with([late])
