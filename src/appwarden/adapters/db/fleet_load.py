"""Reading the whole inventory into the fleet index, and a device's app history."""

from __future__ import annotations

import sqlite3
from typing import Any

from appwarden.adapters.db.codec import from_d, from_t
from appwarden.core.fleet import DeviceRow, FleetIndex
from appwarden.core.fleet_bulk import FleetBulkLoader
from appwarden.core.inventory import (
    AppKey,
    AppPlatform,
    Ownership,
    Platform,
    Visibility,
    identity_key,
)
from appwarden.services.ports import Progress


def _app_slots(conn: sqlite3.Connection, index: FleetIndex) -> list[int]:
    """Index slot of every app id (app ids are dense: a list is the fastest map)."""
    slot_of_app: list[int] = []
    for app_id, plat, ident, folded, name, publisher in conn.execute(
        "SELECT id, platform, identifier, name_folded, name, publisher FROM apps ORDER BY id"
    ):
        key = AppKey(AppPlatform(plat), ident, folded)
        slot_of_app.extend([-1] * (app_id + 1 - len(slot_of_app)))
        slot_of_app[app_id] = index.intern_app(key, name, publisher)
    return slot_of_app


def load_devices(
    conn: sqlite3.Connection, index: FleetIndex, progress: Progress | None = None
) -> None:
    """Devices with their identities and apps, by merge-joining three scans in device order.
    Each device's apps come as one `group_concat` row: per-app work stays in C."""
    slot = _app_slots(conn, index).__getitem__
    idents = conn.cursor().execute(
        "SELECT device_id, kind, value FROM device_identities ORDER BY device_id"
    )
    apps = conn.cursor().execute(
        "SELECT device_id, group_concat(app_id) FROM device_apps GROUP BY device_id"
        " ORDER BY device_id"
    )
    next_ident = next(idents, None)
    next_apps = next(apps, None)
    done = 0
    bulk = FleetBulkLoader(index) if not index.keys else None  # an empty index fills faster
    add = bulk.add if bulk is not None else index.upsert_device
    for row in conn.cursor().execute(
        "SELECT id, key, platform, ownership, visibility, mail_access, os_version,"
        " android_patch, owner_email, name, last_seen_at FROM devices ORDER BY id"
    ):
        device_id = row[0]
        keys: list[str] = []
        while next_ident is not None and next_ident[0] <= device_id:
            if next_ident[0] == device_id:
                keys.append(identity_key(next_ident[1], next_ident[2]))
            next_ident = next(idents, None)
        slots: list[int] = []
        while next_apps is not None and next_apps[0] <= device_id:
            if next_apps[0] == device_id:
                slots = list(map(slot, map(int, next_apps[1].split(","))))
            next_apps = next(apps, None)
        add(_row(row, tuple(keys)), slots)
        done += 1
        if progress is not None and done % 10000 == 0:
            progress(10000)
    if bulk is not None:
        bulk.finish()
    if progress is not None:
        progress(done % 10000)


def _row(row: Any, identities: tuple[str, ...]) -> DeviceRow:
    return DeviceRow(
        key=row[1],
        platform=Platform(row[2]),
        ownership=Ownership(row[3]),
        visibility=Visibility(row[4]),
        reaches_mail=bool(row[5]),
        os_version=row[6],
        android_patch=from_d(row[7]),
        owner=row[8],
        identities=identities,
        name=row[9],
        last_seen=from_t(row[10]),
    )


def app_history(conn: sqlite3.Connection, key: str) -> list[dict[str, Any]]:
    """Install and removal events of a device, oldest first.

    Apps the device already had at its first report have no install event of their own (stored
    as `first_seen` once removed); they appear as `installed` at the time of that report with
    `first_report: true`: known to be there since then, the real install date is unknown.
    """
    rows = conn.execute(
        "SELECT e.event, e.at, e.source, a.platform, a.identifier, a.name_folded, a.name"
        " FROM app_events e JOIN apps a ON a.id = e.app_id"
        " JOIN devices d ON d.id = e.device_id WHERE d.key = ?"
        " UNION ALL"
        " SELECT 'first_seen', da.first_seen_at, '', a.platform, a.identifier, a.name_folded,"
        " a.name FROM device_apps da JOIN apps a ON a.id = da.app_id"
        " JOIN devices d ON d.id = da.device_id WHERE d.key = ? AND NOT EXISTS"
        " (SELECT 1 FROM app_events e WHERE e.device_id = da.device_id"
        " AND e.app_id = da.app_id AND e.event IN ('installed', 'first_seen'))",
        (key, key),
    ).fetchall()
    order = {"first_seen": 0, "installed": 1, "removed": 2}
    rows.sort(key=lambda r: (r[1], order[r[0]], r[4], r[5]))
    return [
        {
            "event": "installed" if r[0] == "first_seen" else r[0],
            "at": r[1],
            "source": r[2],
            "app": f"{r[3]}:{r[4]}" if r[4] else f"name:{r[5]}",
            "name": r[6],
            "first_report": r[0] == "first_seen",
        }
        for r in rows
    ]
