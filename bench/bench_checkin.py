"""Device check-ins over HTTP against the 1,000,000-device database (issue 5).

    ./run bench checkin [--devices 1000000] [--enrolled 20000] [--rounds 3] [--connections 32]

Uses the database `./run bench import` leaves in bench/.cache/import-<devices>/ (80 apps per
device). Enrols `--enrolled` of its devices (real codes and credentials), then per round every
enrolled device reports its full list of ~80 apps, mostly unchanged: two version bumps, now and
then an app installed or removed, and TikTok appearing or leaving on a few percent.

Measured in the same run, per round:
  * baseline: SQLite applying exactly the same diffs (the app rows inserted, deleted, updated
    and the device's last-seen time) with plain executemany, 256 reports per transaction, on the
    same database; then undone, untimed
  * AppWarden: the same reports over HTTP (uvicorn + the admin API, a load generator process on
    loopback with keep-alive connections): validation, authentication, group commit, merge,
    diff writes, re-assessment and a new decision index before each answer. Every answer's
    decision is checked against the report it answers (TikTok in the list <=> a warning)
Printed: medians over rounds of both rates, their ratio, latency, the writer's batch sizes.
The server's clock is 8 days after the import: the import's reports are then outdated (the
merge window is 7 days) and the agent's check-ins alone decide each device's apps.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import Any

import msgspec
import uvicorn

from appwarden.adapters.demo_fleet import BARRED_RATES
from appwarden.adapters.policy_files import read_policy_text
from appwarden.bootstrap import App, build
from appwarden.core.inventory import Device, MailIdentities, Platform, Visibility
from appwarden.core.sources import SourceReport
from appwarden.core.timeutil import iso, parse_instant
from appwarden.entrypoints.api.admin import create_api
from appwarden.services.enrollment import CodeRequest, create_code, enroll
from appwarden.settings import Settings
from bench.fleet_cache import CACHE

CLOCK = "2020-07-09T16:00:00Z"
TIKTOK = "com.zhiliaoapp.musically"
BATCH = 256


@dataclass
class Agent:
    key: str
    device_id: int
    platform: Platform
    secret: str
    apps: dict[str, tuple[str, str]]  # identifier -> (name, version)
    sequence: int = 0


@dataclass
class Round:
    requests: list[tuple[int, bytes, bool]] = field(default_factory=list)
    diffs: list[tuple[Any, ...]] = field(default_factory=list)  # per report, with its undo
    final: dict[str, set[str]] = field(default_factory=dict)


def start_clock(home: Any) -> str:
    """8 days after the import, and after every check-in an earlier run of this benchmark made
    (the database is reused: reports must not look older than ones already applied)."""
    with sqlite3.connect(home / "appwarden.db") as conn:
        (latest,) = conn.execute(
            "SELECT max(observed_at) FROM device_sources WHERE source = 'checkin'"
        ).fetchone()
    if latest is None or latest < CLOCK:
        return CLOCK
    return iso(parse_instant(latest) + timedelta(hours=1)) or CLOCK


def open_app(home: Any) -> App:
    app = build(Settings.load({"home": str(home), "clock": start_clock(home)}))
    started = time.perf_counter()
    app.engine.load()
    print(
        f"fleet loaded: {len(app.engine.fleet):,} devices in {time.perf_counter() - started:,.0f} s"
    )
    with app.store.read() as uow:
        applied = uow.policies.current("tiktok-mail") is not None
    if not applied:
        text = (resources.files("appwarden") / "data" / "policies" / "tiktok-mail.yaml").read_text(
            encoding="utf-8"
        )
        app.engine.apply_policy(
            read_policy_text(text, "tiktok-mail.yaml"),
            text,
            "bench",
            "bench",
            parse_instant("2020-07-01T16:00:00Z"),
        )
    return app


def choose(app: App, count: int, rng: random.Random) -> list[str]:
    fleet = app.engine.fleet
    with app.store.read() as uow:
        failing = set(uow.verdicts.for_policy("tiktok-mail"))
    pool = [
        fleet.keys[s]
        for s in fleet.live
        if fleet.platform_of(s) in (Platform.ANDROID, Platform.IOS)
        and fleet.visibility_of(s) is Visibility.ALL
        and s in fleet.mail  # in scope of the policy: TikTok must show in its decision
        and fleet.keys[s] not in failing
    ]
    return rng.sample(pool, count)


def enroll_agents(app: App, keys: list[str]) -> list[Agent]:
    now = app.clock.now().replace(microsecond=0)
    fleet = app.engine.fleet

    def work(ingest: Any) -> list[Any]:
        done = []
        for key in keys:
            slot = fleet.slot_of[key]
            _, secret = create_code(
                ingest.uow,
                CodeRequest(None, device_key=key),
                "bench",
                now,
                app.checkins.limits.code_ttl,
            )
            mail = MailIdentities(
                tuple(i.split(":", 1)[1] for i in fleet.identities[slot] if i.startswith("eas:"))
            )
            device = Device(key="", platform=fleet.platform_of(slot), mail=mail)
            done.append(enroll(ingest, secret, SourceReport("checkin", device)))
        return done

    started = time.perf_counter()
    enrolled, _ = app.engine.write_reports(
        work, lambda rs: [r.outcome for r in rs], now, "bench enrolment", "bench"
    )
    print(f"enrolled {len(keys):,} devices in {time.perf_counter() - started:,.0f} s")
    agents = []
    with app.store.read() as uow:
        for done in enrolled:
            key = done.outcome.key
            device = uow.inventory.device(key)
            (device_id,) = uow.inventory.conn.execute(
                "SELECT id FROM devices WHERE key = ?", (key,)
            ).fetchone()
            apps = {a.ref.identifier: (a.name, a.version) for a in device.apps if a.ref}
            sequence = uow.sources.snapshots(key)["checkin"].sequence  # earlier runs' reports
            agents.append(Agent(key, device_id, device.platform, done.secret, apps, sequence))
    return agents


def app_ids(app: App) -> tuple[dict[tuple[str, str], int], dict[str, list[str]]]:
    with app.store.read() as uow:
        rows = uow.inventory.conn.execute(
            "SELECT platform, identifier, id FROM apps WHERE identifier != ''"
        ).fetchall()
    ids = {(p, i): n for p, i, n in rows}
    barred = {str(row[1]) for row in BARRED_RATES} | {str(row[2]) for row in BARRED_RATES}
    pool: dict[str, list[str]] = {}
    for p, i, _ in rows:
        if i not in barred and "ugc" not in i:  # TikTok and its kin stay out of the pool
            pool.setdefault(p, []).append(i)
    return ids, pool


def next_report(agent: Agent, rng: random.Random, pool: list[str]) -> dict[str, tuple[str, str]]:
    apps = dict(agent.apps)
    for ident in rng.sample(sorted(apps), min(2, len(apps))):
        name, version = apps[ident]
        apps[ident] = (name, f"{version}.{agent.sequence + 1}")
    roll = rng.random()
    if roll < 0.3:
        ident = rng.choice(pool)
        apps.setdefault(ident, (ident.rsplit(".", 1)[-1], "1.0"))
    elif roll < 0.5 and len(apps) > 40:
        apps.pop(rng.choice(sorted(a for a in apps if a != TIKTOK)))
    if TIKTOK in apps and rng.random() < 0.5:
        apps.pop(TIKTOK)
    elif rng.random() < 0.04:
        apps[TIKTOK] = ("TikTok", "16.1.0")
    return apps


def build_round(
    agents: list[Agent], rng: random.Random, ids: dict, pool: dict, connections: int
) -> Round:
    round_ = Round()
    for n, agent in enumerate(agents):
        space = "android" if agent.platform is Platform.ANDROID else "ios"
        before, after = agent.apps, next_report(agent, rng, pool[space])
        agent.sequence += 1
        body = msgspec.json.encode(
            {
                "sequence": agent.sequence,
                "device": {"platform": agent.platform.value},
                "apps": [
                    {"id": i, "name": n_v[0], "version": n_v[1]} for i, n_v in sorted(after.items())
                ],
            }
        )
        request = (
            b"POST /v1/checkin HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer "
            + agent.secret.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        round_.requests.append((n % connections, request, TIKTOK in after))
        add = [(ids[(space, i)], after[i][1]) for i in after if i not in before]
        drop = [ids[(space, i)] for i in before if i not in after]
        bump = [
            (after[i][1], ids[(space, i)])
            for i in after
            if i in before and before[i][1] != after[i][1]
        ]
        round_.diffs.append(
            (
                agent.device_id,
                add,
                drop,
                bump,
                [(ids[(space, i)], before[i][1]) for i in before if i not in after],
                [
                    (before[i][1], ids[(space, i)])
                    for i in after
                    if i in before and before[i][1] != after[i][1]
                ],
            )
        )
        round_.final[agent.key] = set(after)
        agent.apps = after
    return round_


def sqlite_apply(db: Any, diffs: list, undo: bool = False) -> float:
    """SQLite's own rate for the same diffs: executemany, BATCH reports per transaction."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 15000")
    started = time.perf_counter()
    for start in range(0, len(diffs), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        for device_id, add, drop, bump, re_add, un_bump in diffs[start : start + BATCH]:
            if undo:
                add, drop, bump = re_add, [a for a, _ in add], un_bump
            conn.executemany(
                "INSERT INTO device_apps (device_id, app_id, version, first_seen_at) VALUES (?,?,?,'2020-07-09T16:00:00Z')",
                [(device_id, a, v) for a, v in add],
            )
            conn.executemany(
                "DELETE FROM device_apps WHERE device_id = ? AND app_id = ?",
                [(device_id, a) for a in drop],
            )
            conn.executemany(
                "UPDATE device_apps SET version = ? WHERE device_id = ? AND app_id = ?",
                [(v, device_id, a) for v, a in bump],
            )
            conn.execute(
                "UPDATE devices SET last_seen_at = '2020-07-09T16:00:00Z' WHERE id = ?",
                (device_id,),
            )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(diffs) / elapsed


class Server:
    def __init__(self, app: App) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            create_api(app), log_level="warning", lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench checkin")
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--enrolled", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    home = CACHE / f"import-{args.devices}"
    if not (home / "appwarden.db").exists():
        print(
            f"no {home}; run `./run bench import --devices {args.devices}` first", file=sys.stderr
        )
        return 2
    rng = random.Random(5)
    app = open_app(home)
    agents = enroll_agents(app, choose(app, args.enrolled, rng))
    ids, pool = app_ids(app)
    server = Server(app)
    sqlite_rates, e2e, batches = [], [], []
    try:
        for number in range(1, args.rounds + 1):
            round_ = build_round(agents, rng, ids, pool, args.connections)
            sqlite_rates.append(sqlite_apply(app.settings.database, round_.diffs))
            sqlite_apply(app.settings.database, round_.diffs, undo=True)
            path = CACHE / "checkin-requests.pickle"
            path.write_bytes(pickle.dumps(round_.requests))
            # the round's requests and diffs live in this process, which is also the server's:
            # settle them now, or the server's first collection of the round walks them
            gc.collect()
            gc.freeze()
            stats_before = (app.checkins.writer.stats.batches, app.checkins.writer.stats.jobs)
            cpu_before = time.process_time()  # the server's threads: this one only waits
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.checkin_load",
                    "127.0.0.1",
                    str(server.port),
                    str(path),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            result = msgspec.json.decode(done.stdout)
            result["cpu_us"] = (time.process_time() - cpu_before) / len(round_.requests) * 1e6
            jobs = app.checkins.writer.stats.jobs - stats_before[1]
            batches.append(jobs / max(1, app.checkins.writer.stats.batches - stats_before[0]))
            wrong = verify(app, round_)
            e2e.append(result)
            print(
                f"  round {number}: sqlite {sqlite_rates[-1]:,.0f} reports/s; appwarden {result['rate']:,.0f} reports/s, "
                f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.0f} ms, "
                f"server CPU {result['cpu_us']:,.0f} us/report, mean batch {batches[-1]:.0f}, statuses {result['status']}, errors {result['errors'] or 'none'}, "
                f"decisions checked {result['checked']:,} (stale {result['stale_decisions']}), fleet mismatches {wrong}"
            )
    finally:
        server.stop()
        app.close()
    sqlite_rate = statistics.median(sqlite_rates)
    rate = statistics.median(r["rate"] for r in e2e)
    stale = sum(r["stale_decisions"] for r in e2e)
    print(
        f"\n{args.enrolled:,} devices x {args.rounds} rounds, ~80 apps per report, {args.connections} connections; medians:"
    )
    print(
        f"  SQLite applying the same diffs (executemany, {BATCH}/txn)  {sqlite_rate:>9,.0f} reports/s"
    )
    print(
        f"  appwarden end to end over HTTP                         {rate:>9,.0f} reports/s  (target >= 1,000)"
    )
    print(
        f"  server CPU per report (all its threads)                {statistics.median(r['cpu_us'] for r in e2e):>9,.0f} us"
    )
    print(
        f"  ratio appwarden / sqlite                               {rate / sqlite_rate:>9.2f}  (aim >= 0.5)"
    )
    print(
        f"  latency p50 {statistics.median(r['p50_ms'] for r in e2e):.1f} ms, p99 {statistics.median(r['p99_ms'] for r in e2e):.1f} ms, worst {max(r['max_ms'] for r in e2e):.0f} ms"
    )
    print(
        f"  decision in every answer matched its report: {'yes' if stale == 0 else f'NO ({stale} stale)'}"
    )
    return 0 if rate >= 1000 and stale == 0 else 1


def verify(app: App, round_: Round, sample: int = 300) -> int:
    """The fleet index holds exactly what each device last reported."""
    wrong = 0
    for key in list(round_.final)[:sample]:
        facts = app.engine.fleet.facts(key)
        have = {a.ref.identifier for a in facts.device.apps if a.ref} if facts else set()
        wrong += have != round_.final[key]
    return wrong
