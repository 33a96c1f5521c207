"""Bulk import of 1,000,000 devices x 80 apps from our JSON Lines format (issue 5).

    ./run bench import [--devices 1000000] [--sample 100000] [--rounds 3] [--skip-full]

Measured in one run, on the same generated file (bench/.cache/, seeded demo fleet):
  * baseline: SQLite's own bulk load of the same rows (decode each line, insert the device and
    its app rows with executemany, one transaction): no validation, no merge, no index
  * AppWarden: `appwarden import FILE` (the real CLI, as a child process) on a sample, rounds
    times, and once on the whole file, with its progress bar; peak RSS of each child
Printed: medians of the sample rates and their ratio; the full import's time against the
10-minute budget and its peak RSS (memory bounded: it must not grow with the file's size).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import msgspec

from appwarden.adapters.db.connection import PRAGMAS, migrate
from bench.fleet_cache import CACHE, fleet_file

BUDGET_S = 600


def head(path: Path, devices: int) -> Path:
    """The first `devices` device lines of `path` (with their employees), cached."""
    out = CACHE / f"{path.stem}-head-{devices}.jsonl"
    if out.exists():
        return out
    seen = 0
    with path.open("rb") as src, out.with_suffix(".part").open("wb") as dst:
        for line in src:
            if b'"employee"' not in line:
                if seen == devices:
                    break
                seen += 1
            dst.write(line)
    out.with_suffix(".part").rename(out)
    return out


def raw_sqlite_load(path: Path, db: Path) -> tuple[float, int]:
    """The floor: the same rows into the same tables with plain executemany."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    migrate(conn)
    app_ids: dict[tuple[str, str], int] = {}
    devices = 0
    started = time.perf_counter()
    conn.execute("BEGIN")
    with path.open("rb") as handle:
        for line in handle:
            record = msgspec.json.decode(line)
            if record.get("type") == "employee":
                continue
            devices += 1
            (device_id,) = conn.execute(
                "INSERT INTO devices (key, owner_email, platform, ownership, visibility,"
                " os_version, updated_at, last_seen_at) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                (record["key"], record.get("owner"), record["platform"], record["ownership"],
                 record["visibility"], record.get("os_version", ""), "2020-07-01T16:00:00Z",
                 "2020-07-01T16:00:00Z"),
            ).fetchone()  # fmt: skip
            rows = []
            for app in record["apps"]:
                key = (record["platform"], app["id"])
                app_id = app_ids.get(key)
                if app_id is None:
                    (app_id,) = conn.execute(
                        "INSERT INTO apps (platform, identifier, name_folded, name) VALUES"
                        " (?,?,'',?) RETURNING id",
                        (key[0], key[1], app["name"]),
                    ).fetchone()
                    app_ids[key] = app_id
                rows.append((device_id, app_id, app["version"], "2020-07-01T16:00:00Z"))
            conn.executemany(
                "INSERT INTO device_apps (device_id, app_id, version, first_seen_at)"
                " VALUES (?,?,?,?)",
                rows,
            )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, devices


def appwarden_import(path: Path, home: Path, show_progress: bool) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (MB) and summary of `appwarden import` as a child process."""
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "APPWARDEN_CLOCK": "2020-07-01T16:00:00Z", "PYTHONUNBUFFERED": "1"}
    if show_progress:
        env["APPWARDEN_PROGRESS"] = "1"
    cmd = [sys.executable, "-m", "appwarden", "--home", str(home), "import", str(path), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=None if show_progress else subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    output = proc.stdout.read().decode() if proc.stdout else ""
    if proc.stdout:
        proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, msgspec.json.decode(output)[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench import")
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args(argv)
    full = fleet_file(args.devices)
    sample = head(full, min(args.sample, args.devices))
    size_mb = full.stat().st_size / 1e6
    print(f"data: {full} ({size_mb:,.0f} MB, {args.devices:,} devices); sample {args.sample:,}")
    raw_rates, aw_rates, aw_rss = [], [], []
    for round_ in range(1, args.rounds + 1):
        seconds, count = raw_sqlite_load(sample, CACHE / "raw-sample.db")
        raw_rates.append(count / seconds)
        aw_seconds, rss, _ = appwarden_import(sample, CACHE / "import-sample", False)
        aw_rates.append(args.sample / aw_seconds)
        aw_rss.append(rss)
        print(
            f"  round {round_}: sqlite {raw_rates[-1]:,.0f} devices/s, "
            f"appwarden {aw_rates[-1]:,.0f} devices/s (peak RSS {rss:,.0f} MB)"
        )
    raw, aw = statistics.median(raw_rates), statistics.median(aw_rates)
    print(f"\nsample of {args.sample:,} devices x ~80 apps, median of {args.rounds} rounds:")
    print(f"  SQLite bulk load (executemany, no validation)   {raw:>10,.0f} devices/s")
    print(f"  appwarden import (validate, match, merge, diff) {aw:>10,.0f} devices/s")
    print(f"  ratio appwarden / sqlite                         {aw / raw:>10.2f}")
    if args.skip_full:
        return 0
    print(f"\nfull import of {args.devices:,} devices (progress on stderr):")
    seconds, rss, summary = appwarden_import(full, CACHE / f"import-{args.devices}", True)
    devices = summary["devices"]
    apps = summary["apps"]["installed"] / max(1, devices["added"])
    print(f"  {devices['added']:,} devices added, {apps:.1f} apps per device on average")
    verdict = "within" if seconds <= BUDGET_S else "OVER"
    print(
        f"  {seconds:,.0f} s ({args.devices / seconds:,.0f} devices/s): {verdict} the {BUDGET_S} s budget"
    )
    print(
        f"  peak RSS {rss:,.0f} MB (sample of {args.sample:,}: {statistics.median(aw_rss):,.0f} MB)"
    )
    print(f"  database kept for `./run bench checkin`: {CACHE / f'import-{args.devices}'}")
    return 0 if seconds <= BUDGET_S else 1
