"""Devices to put into a fleet index later, kept compactly.

A bulk import must not touch the fleet index before its transaction commits, and must not hold
a million domain `Device` objects (80 app objects each) until then. A `FleetDelta` keeps each
device as its index row and an array of small app numbers; `apply` moves them into the index
after the commit, freeing them as it goes.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from appwarden.core.fleet import DeviceRow, FleetIndex, row_of
from appwarden.core.inventory import AppKey, Device, InstalledApp


class FleetDelta:
    def __init__(self) -> None:
        self._app_number: dict[AppKey, int] = {}
        self._by_object: dict[int, tuple[InstalledApp, int]] = {}  # reused app objects
        self._apps: list[tuple[AppKey, str, str]] = []
        self._rows: list[DeviceRow] = []
        self._lists: list[array[int]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, device: Device) -> None:
        numbers = array("I")
        by_object = self._by_object
        for app in device.apps:
            hit = by_object.get(id(app))
            if hit is not None and hit[0] is app:
                numbers.append(hit[1])
                continue
            key = app.key
            number = self._app_number.get(key)
            if number is None:
                number = self._app_number[key] = len(self._apps)
                self._apps.append((key, app.name, app.publisher))
            by_object[id(app)] = (app, number)
            numbers.append(number)
        self._rows.append(row_of(device))
        self._lists.append(numbers)

    def device_keys(self) -> Iterator[str]:
        return (row.key for row in self._rows)

    def apply(self, fleet: FleetIndex) -> list[str]:
        """Move every device into `fleet`; returns their keys. The delta is empty afterwards."""
        slots = [fleet.intern_app(key, name, publisher) for key, name, publisher in self._apps]
        keys = []
        rows, lists = self._rows, self._lists
        self._rows, self._lists = [], []
        rows.reverse()
        lists.reverse()
        while rows:
            row, numbers = rows.pop(), lists.pop()
            fleet.upsert_device(row, [slots[n] for n in numbers])
            keys.append(row.key)
        return keys
