"""Generated benchmark data, cached under bench/.cache/ (gitignored): the seeded demo fleet as our
JSON Lines import format, and the database the bulk-import benchmark builds from it."""

from __future__ import annotations

import sys
import time
from itertools import islice
from pathlib import Path

from appwarden.adapters.demo_fleet import DemoShape, generate
from appwarden.adapters.native_export import device_record, employee_record, write_lines

CACHE = Path(__file__).parent / ".cache"
SEED = 11
# 60-120 apps where every app can be seen: with the demo's personal phones that show only managed
# apps or none, about 80 apps per device on average (the "1,000,000 devices x 80 apps")
SHAPE = {"min_apps": 60, "max_apps": 120}


def fleet_file(devices: int) -> Path:
    """bench/.cache/fleet-<devices>.jsonl, generated once (about 5 KB per device)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"fleet-{devices}-a80.jsonl"
    done = path.with_suffix(".done")
    if done.exists() and path.exists():
        return path
    started = time.perf_counter()
    written = 0
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as handle:
        people = generate(DemoShape(employees=devices, seed=SEED, **SHAPE))
        for employee, owned in people:
            if written >= devices:
                break
            owned = list(islice(owned, devices - written))
            write_lines(handle, [employee_record(employee)])
            written += write_lines(handle, (device_record(d) for d in owned))
            if written % 50_000 < len(owned):
                rate = written / (time.perf_counter() - started)
                print(
                    f"  generating {written:,}/{devices:,} devices ({rate:,.0f}/s)", file=sys.stderr
                )
    tmp.rename(path)
    done.write_text(f"{written}\n")
    return path


if __name__ == "__main__":
    print(fleet_file(int(sys.argv[1])))
