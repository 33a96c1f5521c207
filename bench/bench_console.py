"""Console pages against a large fleet: server time per page, with a baseline from the same run.

    ./run bench console [--devices 1000000] [--baseline 10000] [--repeat 15]

Builds (once, cached under .bench-cache/) a SQLite fleet of N devices with a few apps each and
TikTok on ~3 % of them, applies the scenario policy (a full assessment), signs in, then times
each console page over HTTP on loopback (campaign pages included: a campaign that sent its
canary, and the preview of a new policy version's campaign, both prepared per run and timed as
actions) (so the figure is server time plus a loopback round
trip: an upper bound). The baseline is the same pages on a small fleet in the same run: a page
that does not scan the fleet costs about the same on both. Target: every page <= 300 ms.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from datetime import timedelta
from pathlib import Path

import httpx
from tests.support.builders import T0
from tests.support.console_app import ConsoleWorld, LiveServer, scenario_source

from appwarden.adapters.clock import FixedClock
from appwarden.adapters.db.connection import connect, migrate
from appwarden.adapters.policy_files import read_policy_text
from appwarden.bootstrap import build
from appwarden.core.notice import NoticeState
from appwarden.services.accounts import save_account
from appwarden.services.campaign_console import drafted_for, preview_and_keep
from appwarden.services.notices import Actor
from appwarden.services.signin import open_session
from appwarden.settings import Settings

CACHE = Path(".bench-cache")
TARGET_MS = 300.0
DEPTS = ("Sales", "Stores", "Logistics", "Engineering", "Finance", "Legal", "HR", "Support")
APPS = [("android", "com.zhiliaoapp.musically", "TikTok")] + [
    (p, f"com.example.app{i}", f"App {i}") for i in range(60) for p in ("android", "ios")
]


def build_db(path: Path, devices: int) -> None:
    """Devices, employees and apps written straight into the schema (fast, deterministic)."""
    rng = random.Random(7)
    conn = connect(path)
    migrate(conn)
    stamp = "2020-06-01T00:00:00Z"
    people = max(devices * 10 // 14, 1)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO employees (email, name, locale, timezone, department, country, groups,"
        " manager, updated_at) VALUES (?,?,?,?,?,?,'[]','',?)",
        (
            (
                f"emp{i:07d}@corp.example",
                f"Person {i:07d}",
                "ar" if i % 5 == 0 else "en",
                "Asia/Riyadh" if i % 5 == 0 else "America/Los_Angeles",
                DEPTS[i % len(DEPTS)],
                "SA" if i % 5 == 0 else "US",
                stamp,
            )
            for i in range(people)
        ),
    )
    conn.executemany(
        "INSERT INTO apps (id, platform, identifier, name_folded, name, publisher)"
        " VALUES (?,?,?,'',?,'')",
        ((i + 1, p, ident, name) for i, (p, ident, name) in enumerate(APPS)),
    )
    tiktok_ios = len(APPS) + 1
    conn.execute(
        "INSERT INTO apps (id, platform, identifier, name_folded, name, publisher)"
        " VALUES (?, 'ios', 'com.zhiliaoapp.musically', '', 'TikTok', '')",
        (tiktok_ios,),
    )
    rows, links = [], []
    for d in range(devices):
        android = rng.random() < 0.45
        visibility = "none" if rng.random() < 0.03 else "all"
        rows.append(
            (
                d + 1,
                f"dev-{d:07d}",
                f"emp{rng.randrange(people):07d}@corp.example",
                "android" if android else "ios",
                "corporate" if rng.random() < 0.6 else "personal",
                visibility,
                "14" if android else "17.5",
                "Phone",
                stamp,
            )
        )
        if visibility == "all":
            platform_apps = [
                i + 1 for i, a in enumerate(APPS) if a[0] == ("android" if android else "ios")
            ]
            chosen = rng.sample(platform_apps[1:] if android else platform_apps, 3)
            if rng.random() < 0.03:
                chosen.append(1 if android else tiktok_ios)
            links.extend((d + 1, a) for a in chosen)
        if len(rows) >= 50_000:
            _flush(conn, rows, links, stamp)
    _flush(conn, rows, links, stamp)
    conn.execute("COMMIT")
    conn.close()


def _flush(conn: sqlite3.Connection, rows: list, links: list, stamp: str) -> None:
    conn.executemany(
        "INSERT INTO devices (id, key, owner_email, platform, ownership, visibility, os_version,"
        " mail_access, name, updated_at) VALUES (?,?,?,?,?,?,?,1,?,?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO device_apps (device_id, app_id, first_seen_at) VALUES (?,?,?)",
        ((d, a, stamp) for d, a in links),
    )
    rows.clear()
    links.clear()


def prepare(devices: int) -> tuple[ConsoleWorld, dict[str, str]]:
    home = CACHE / f"console-{devices}"
    db = home / "appwarden.db"
    fresh = not db.exists()
    if fresh:
        home.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        build_db(db, devices)
        print(f"  built {devices:,} devices in {time.perf_counter() - started:.0f} s ({db})")
    clock = FixedClock(T0)
    app = build(Settings.load({"home": str(home), "verify_per_minute": "0"}, env={}), clock)
    started = time.perf_counter()
    app.engine.load()
    print(f"  loaded the fleet index in {time.perf_counter() - started:.1f} s")
    if fresh:
        source = scenario_source()
        app.engine.apply_policy(read_policy_text(source, "b"), source, "bench", "bench", T0)
    with app.store.unit_of_work() as uow:
        for role in ("viewer", "admin", "approver"):
            save_account(uow, f"{role}@corp.example", role, "bench", T0)
        verdict = next(iter(uow.console.devices_with_status("tiktok-mail", "pending", "", 1).rows))
        owner = verdict["owner"]
    world = ConsoleWorld(app, clock, owner, verdict["key"], "")
    return world, {"device": verdict["key"], "owner": owner, **campaigns(world)}


def timed(label: str, fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    took = time.perf_counter() - started
    ACTIONS.setdefault(label, []).append(took)
    print(f"  {label}: {took:.2f} s")
    return result


ACTIONS: dict[str, list[float]] = {}


def campaigns(world: ConsoleWorld) -> dict[str, str]:
    """A campaign that reached its canary (first run: approved and sent to the file sink), then
    a new policy version whose campaign is previewed: the two states the campaign page shows.
    The database keeps growing a version per run; that is what a real deployment does too."""
    app, slug = world.app, "tiktok-mail"
    with app.store.read() as uow:
        sending = uow.campaigns.find(slug, ["sending", "halted"])
    if not sending:
        draft = drafted_for_any(app) or app.notices.draft(slug, "bench", T0)
        timed(
            "preview (POST, once per run)",
            preview_and_keep,
            app.notices,
            app.store,
            draft.id,
            "bench",
            T0,
        )
        digest = app.notices.status(draft.id)["campaign"].previewed_digest
        timed(
            "approve (first run)",
            app.notices.approve,
            draft.id,
            Actor("approver@corp.example", True),
            T0,
            digest,
        )
        timed("send the canary (first run)", app.notices.tick, T0 + timedelta(minutes=11))
        sending = [app.notices.status(draft.id)["campaign"]]
    with app.store.read() as uow:
        current = uow.policies.current(slug)
        sent = uow.campaigns.notices(sending[-1].id, [NoticeState.SENT], with_data=False)
    source = current.source
    late, later = "2020-07-10T18:00", "2020-07-11T18:00"
    source = source.replace(late, later) if late in source else source.replace(later, late)
    version, _ = timed(
        "apply a new version",
        app.engine.apply_policy,
        read_policy_text(source, "b"),
        source,
        "bench",
        "bench",
        T0,
    )
    with app.store.read() as uow:
        fresh = drafted_for(uow, slug, version.version)
    timed(
        "preview (POST, once per run)",
        preview_and_keep,
        app.notices,
        app.store,
        fresh.id,
        "bench",
        T0,
    )
    return {"previewed": fresh.id, "sending": sending[-1].id, "token": sent[0].token}


def drafted_for_any(app):
    with app.store.read() as uow:
        found = uow.campaigns.find("tiktok-mail", ["draft", "previewed"])
    return found[-1] if found else None


def sessions(world: ConsoleWorld) -> tuple[str, str]:
    ttl = world.app.settings.duration("session_ttl")
    with world.app.store.unit_of_work() as uow:
        admin, _ = open_session(uow, "account", "admin@corp.example", T0, ttl)
        employee, _ = open_session(uow, "employee", world.employee_email, T0, ttl)
    return admin, employee


def pages(facts: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("overview", "/console/"),
        ("policies", "/console/policies"),
        ("policy", "/console/policies/tiktok-mail"),
        ("devices", "/console/devices"),
        ("devices search", "/console/devices?q=dev-00042"),
        ("devices by owner", f"/console/devices?q={facts['owner'][:9]}"),
        ("devices pending", "/console/devices?policy=tiktok-mail&status=pending"),
        ("device", f"/console/devices/{facts['device']}"),
        ("employees", "/console/employees"),
        ("employees by name", "/console/employees?q=Person%2000012"),
        ("employee", f"/console/employees/{facts['owner']}"),
        ("exemptions", "/console/exemptions"),
        ("audit", "/console/audit"),
        ("audit filtered", "/console/audit?type=policy_applied"),
        ("tokens", "/console/tokens"),
        ("edit policy", "/console/policies/tiktok-mail/edit"),
        ("me (employee)", "/me"),
        ("campaigns", "/console/campaigns"),
        ("campaign (previewed)", f"/console/campaigns/{facts['previewed']}"),
        ("campaign (sent, halted)", f"/console/campaigns/{facts['sending']}"),
        ("campaign sample frame", f"/console/campaigns/{facts['previewed']}/samples/en.announce"),
        ("campaign (ar)", f"/console/campaigns/{facts['previewed']}?lang=ar"),
        ("verify a notice", f"/verify/{facts['token']}"),
        ("me: check a notice", f"/me/notice?token={facts['token']}"),
    ]


def measure(devices: int, repeat: int) -> dict[str, float]:
    world, facts = prepare(devices)
    live = LiveServer(world)
    admin, employee = sessions(world)
    out: dict[str, float] = {}
    try:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            for name, path in pages(facts):
                cookie = {"aw_me": employee} if path.startswith("/me") else {"aw_console": admin}
                client.cookies.clear()
                client.cookies.update(cookie)
                times = []
                for _ in range(repeat + 1):
                    started = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    if response.status_code not in (200, 303):
                        raise SystemExit(f"{path}: HTTP {response.status_code}")
                out[name] = statistics.median(times[1:])  # the first request warms caches
                out[name + " (first)"] = times[0]
    finally:
        live.stop()
        world.app.close()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench console")
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"baseline fleet: {args.baseline:,} devices")
    small = measure(args.baseline, args.repeat)
    print(f"large fleet: {args.devices:,} devices")
    large = measure(args.devices, args.repeat)
    print(
        f"\n{'page':<28}{'small ms':>10}{'large ms':>10}{'ratio':>8}{'first ms':>10}  target {TARGET_MS:.0f} ms"
    )
    worst = 0.0
    for name in small:
        if name.endswith("(first)"):
            continue
        first = large[name + " (first)"]
        ratio = large[name] / small[name] if small[name] else 0.0
        worst = max(worst, large[name])
        flag = "ok" if large[name] <= TARGET_MS else "SLOW"
        print(
            f"{name:<28}{small[name]:>10.1f}{large[name]:>10.1f}{ratio:>8.2f}{first:>10.1f}  {flag}"
        )
    print(f"\nslowest page (median) on {args.devices:,} devices: {worst:.1f} ms")
    for label, took in ACTIONS.items():
        print(
            f"action {label}: "
            + ", ".join(f"{t:.2f} s" for t in took)
            + " (in order; baseline fleet first)"
        )
    return 0 if worst <= TARGET_MS else 1
