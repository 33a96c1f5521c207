"""A large synthetic fleet for benchmarks, built straight into the fleet index.

Same shape as the demo fleet (adapters/demo_fleet.py): Zipf-skewed app popularity over real
popular apps plus a long tail, barred apps at realistic rates, iOS/Android and corporate/personal
mixes, some devices whose apps cannot be seen. Generation works on app slots, not objects, so a
million devices x 80 apps takes tens of seconds, not many minutes.
"""

from __future__ import annotations

import random
import resource
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from appwarden.adapters.demo_fleet import BARRED_RATES, POPULAR, _employee
from appwarden.core.fleet import DeviceRow, FleetIndex
from appwarden.core.fleet_bulk import FleetBulkLoader
from appwarden.core.inventory import AppKey, AppPlatform, Ownership, Platform, Visibility


@dataclass
class BenchFleet:
    fleet: FleetIndex
    seconds: float
    apps_per_device: float


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _universe(
    fleet: FleetIndex, space: AppPlatform, pos: int, tail: int
) -> tuple[list[int], list[float]]:
    slots = [fleet.intern_app(AppKey(space, row[pos], ""), row[0], row[3]) for row in POPULAR]
    for i in range(tail):
        ident = (
            f"com.vendor{i % 997}.app{i}"
            if space is AppPlatform.ANDROID
            else f"com.vendor{i % 997}.ios.app{i}"
        )
        slots.append(fleet.intern_app(AppKey(space, ident, ""), f"App {i}", f"Vendor {i % 997}"))
    weights = [1.0 / (rank + 2.7) ** 1.08 for rank in range(len(slots))]
    return slots, list(accumulate(weights))


def build(
    devices: int,
    seed: int = 11,
    apps_per_device: int = 80,
    tail: int = 60_000,
    progress: Callable[[int], None] | None = None,
) -> BenchFleet:
    started = time.perf_counter()
    rng = random.Random(seed)
    fleet = FleetIndex()
    employees = max(1, int(devices / 1.4))
    for index in range(1, employees + 1):
        fleet.upsert_employee(_employee(rng, index))
    spaces = {
        AppPlatform.ANDROID: _universe(fleet, AppPlatform.ANDROID, 1, tail),
        AppPlatform.IOS: _universe(fleet, AppPlatform.IOS, 2, tail),
    }
    barred = {
        space: [
            (fleet.intern_app(AppKey(space, row[pos], ""), row[0]), row[3])
            for row in BARRED_RATES
            if row[pos]
        ]
        for space, pos in ((AppPlatform.ANDROID, 1), (AppPlatform.IOS, 2))
    }
    loader = FleetBulkLoader(fleet)
    total_apps = 0
    platforms = (Platform.IOS, Platform.ANDROID, Platform.IPADOS)
    for serial in range(1, devices + 1):
        platform = rng.choices(platforms, weights=(58, 38, 4))[0]
        space = platform.app_space
        slots, cum = spaces[space]
        personal = rng.random() < 0.45
        visibility = Visibility.ALL
        if personal:
            roll = rng.random()
            visibility = (
                Visibility.ALL
                if roll < 0.75
                else Visibility.MANAGED
                if roll < 0.93
                else Visibility.NONE
            )
        chosen: set[int] = set()
        if visibility is Visibility.ALL:
            count = rng.randint(apps_per_device - 30, apps_per_device + 30)
            while len(chosen) < count:
                chosen.update(rng.choices(slots, cum_weights=cum, k=count - len(chosen) + 8))
            while len(chosen) > count:
                chosen.pop()
            for slot, rate in barred[space]:
                if rng.random() < rate:
                    chosen.add(slot)
        total_apps += len(chosen)
        owner = rng.randint(1, employees)
        major = (
            rng.choice((16, 17, 18, 26))
            if space is AppPlatform.IOS
            else rng.choice((12, 13, 14, 15, 16))
        )
        loader.add(
            DeviceRow(
                key=f"dev-{serial:07d}",
                platform=platform,
                ownership=Ownership.PERSONAL if personal else Ownership.CORPORATE,
                visibility=visibility,
                reaches_mail=rng.random() < 0.93,
                os_version=f"{major}.{rng.randint(0, 5)}",
                android_patch=None,
                owner=f"user{owner:07d}@corp.example",
                identities=(f"eas:EAS{serial:010d}",),
            ),
            array("I", chosen),
        )
        if progress is not None and serial % 50_000 == 0:
            progress(50_000)
    loader.finish()
    return BenchFleet(fleet, time.perf_counter() - started, total_apps / devices)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
