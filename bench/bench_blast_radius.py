"""Blast radius of a new ban: which devices in scope carry any of 3 apps (1 rare, 2 popular)?

Ours: bitmap union over the apps' device sets, intersected with the scope bitmap, plus the
per-department breakdown. Baseline, in the same run: SQLite asked the same question over the same
rows, with a covering (app_id, device_id) primary key. Budget: <= 100 ms and >= 10x faster.

    ./run bench blast_radius [--devices 1000000]
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from pyroaring import BitMap

from appwarden.core.fleet_assess import scope_bitmap
from appwarden.core.inventory import AppKey, AppPlatform, Platform
from appwarden.core.policy import Scope
from bench.fleet_data import build, median

CACHE = Path(__file__).parent / ".cache"
BAN = (
    ("TikTok", "com.zhiliaoapp.musically", "com.zhiliaoapp.musically"),
    ("WhatsApp", "com.whatsapp", "net.whatsapp.WhatsApp"),
    ("YouTube", "com.google.android.youtube", "com.google.ios.youtube"),
)
SCOPE = Scope(platforms=frozenset({Platform.IOS, Platform.IPADOS, Platform.ANDROID}))


def ours(fleet, slots: list[int]) -> tuple[int, dict[str, int]]:
    affected = scope_bitmap(fleet, SCOPE) & BitMap.union(*(fleet.app_devices[s] for s in slots))
    by_dept = {
        name: affected.intersection_cardinality(bm) for name, bm in fleet.by_department.items()
    }
    return len(affected), by_dept


def build_sqlite(fleet, path: Path) -> None:
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    conn.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
        "CREATE TABLE devices (id INTEGER PRIMARY KEY, mail INTEGER, platform TEXT, department TEXT);"
        "CREATE TABLE device_apps (app_id INTEGER, device_id INTEGER,"
        " PRIMARY KEY (app_id, device_id)) WITHOUT ROWID;"
    )
    conn.execute("BEGIN")
    rows = []
    for slot in fleet.live:
        owner = fleet.owner_of(slot)
        rows.append(
            (
                slot,
                1 if slot in fleet.mail else 0,
                fleet.platform_of(slot).value,
                owner.department if owner else "",
            )
        )
    conn.executemany("INSERT INTO devices VALUES (?,?,?,?)", rows)
    for app, members in enumerate(fleet.app_devices):
        if members:
            conn.executemany("INSERT INTO device_apps VALUES (?,?)", ((app, d) for d in members))
    conn.execute("COMMIT")
    conn.close()
    tmp.rename(path)


QUERY = (
    "SELECT d.department, count(*) FROM devices d WHERE d.id IN ("
    " SELECT DISTINCT device_id FROM device_apps WHERE app_id IN ({marks}))"
    " AND d.mail = 1 AND d.platform IN ('ios', 'ipados', 'android') GROUP BY d.department"
)


def sqlite_answer(conn: sqlite3.Connection, slots: list[int]) -> tuple[int, dict[str, int]]:
    marks = ",".join("?" for _ in slots)
    rows = conn.execute(QUERY.format(marks=marks), slots).fetchall()
    return sum(n for _, n in rows), dict(rows)


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return median(times), result


def main(argv: list[str]) -> int:
    args = argparse.ArgumentParser(prog="bench blast_radius")
    args.add_argument("--devices", type=int, default=1_000_000)
    args.add_argument("--seed", type=int, default=11)
    opts = args.parse_args(argv)
    print(f"building a fleet of {opts.devices:,} devices ...", flush=True)
    data = build(opts.devices, opts.seed)
    fleet = data.fleet
    print(f"  built in {data.seconds:.1f} s, {data.apps_per_device:.1f} apps per device")
    slots = []
    for _, android, ios in BAN:
        slots.append(fleet.app_slot[AppKey(AppPlatform.ANDROID, android, "")])
        slots.append(fleet.app_slot[AppKey(AppPlatform.IOS, ios, "")])
    for (name, _, _), a, i in zip(BAN, slots[::2], slots[1::2], strict=True):
        print(f"  {name}: on {len(fleet.app_devices[a]) + len(fleet.app_devices[i]):,} devices")
    CACHE.mkdir(exist_ok=True)
    db = CACHE / f"blast-{opts.devices}-{opts.seed}.db"
    if not db.exists():
        print("building the SQLite baseline database (cached for later runs) ...", flush=True)
        start = time.perf_counter()
        build_sqlite(fleet, db)
        print(f"  {time.perf_counter() - start:.0f} s")
    conn = sqlite3.connect(db)
    t_ours, (n_ours, dept_ours) = timed(lambda: ours(fleet, slots), 50)
    sqlite_answer(conn, slots)  # warm the page cache
    t_sql, (n_sql, dept_sql) = timed(lambda: sqlite_answer(conn, slots), 5)
    assert n_ours == n_sql, f"answers differ: {n_ours} vs {n_sql}"
    assert {k: v for k, v in dept_ours.items() if v} == dept_sql, "department counts differ"
    print(f"\nblast radius: {n_ours:,} devices affected (same answer from both)")
    print(f"  bitmaps (ours)        median {t_ours * 1000:8.3f} ms   budget 100 ms")
    print(f"  SQLite (app,device)   median {t_sql * 1000:8.1f} ms")
    print(f"  ratio                 {t_sql / t_ours:8.0f}x faster   (needs >= 10x)")
    ok = t_ours <= 0.100 and t_sql / t_ours >= 10
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1
