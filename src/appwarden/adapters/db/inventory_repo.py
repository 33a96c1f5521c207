"""Employees, devices, mail identities and installed apps, written as diffs."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from appwarden.adapters.db.app_dictionary import AppDictionary, AppIds
from appwarden.adapters.db.bulk_create import create_devices, device_values
from appwarden.adapters.db.codec import from_d, from_js, from_t, js, t
from appwarden.adapters.db.fleet_load import app_history, load_devices
from appwarden.core.fleet import FleetIndex
from appwarden.core.inventory import (
    AppPlatform,
    AppRef,
    Device,
    Employee,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
    Visibility,
    identity_key,
)
from appwarden.services.ports import ChangeRecorder, DeviceChange, Progress

_ROWS = msgspec.json.Encoder()
_DEVICE_FIELDS = (
    "owner_email",
    "platform",
    "ownership",
    "visibility",
    "os_version",
    "android_patch",
    "mail_access",
    "name",
    "model",
    "serial",
)


class SqliteInventory:
    def __init__(self, conn: sqlite3.Connection, app_ids: AppIds, changes: ChangeRecorder) -> None:
        self.conn = conn
        self.dictionary = AppDictionary(conn, app_ids)
        self.changes = changes  # other processes follow what a transaction changed

    # -- employees -------------------------------------------------------------------------------
    def upsert_employee(self, employee: Employee, at: datetime) -> bool:
        row = (
            employee.email.lower(),
            employee.name,
            employee.locale,
            employee.timezone,
            employee.department,
            employee.country,
            js(sorted(employee.groups)),
            employee.manager.lower(),
            t(at),
        )
        cur = self.conn.execute(
            "INSERT INTO employees (email, name, locale, timezone, department, country, groups,"
            " manager, updated_at) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(email) DO UPDATE SET name=excluded.name, locale=excluded.locale,"
            " timezone=excluded.timezone, department=excluded.department,"
            " country=excluded.country, groups=excluded.groups, manager=excluded.manager,"
            " updated_at=excluded.updated_at"
            " WHERE (name, locale, timezone, department, country, groups, manager) IS NOT"
            " (excluded.name, excluded.locale, excluded.timezone, excluded.department,"
            " excluded.country, excluded.groups, excluded.manager)",
            row,
        )
        if cur.rowcount > 0:
            self.changes.record("employee", [employee.email.lower()])
        return cur.rowcount > 0

    def employee(self, email: str) -> Employee | None:
        row = self.conn.execute(
            "SELECT email, name, locale, timezone, department, country, groups, manager"
            " FROM employees WHERE email = ?",
            (email.lower(),),
        ).fetchone()
        return _employee(row) if row else None

    def employees(self) -> Iterator[Employee]:
        cur = self.conn.execute(
            "SELECT email, name, locale, timezone, department, country, groups, manager"
            " FROM employees ORDER BY id"
        )
        return (_employee(row) for row in cur)

    def count_employees(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM employees").fetchone()[0])

    # -- apps dictionary -------------------------------------------------------------------------
    def app_id(self, app: InstalledApp) -> int:
        return self.dictionary.id_of(app)

    # -- devices ---------------------------------------------------------------------------------
    def upsert_device(
        self,
        device: Device,
        at: datetime,
        source: str,
        replace_apps: bool = True,
        first_apps: bool = False,
    ) -> DeviceChange:
        """Write a device as diffs. `first_apps`: its first app list (no install events)."""
        values = device_values(device)
        existing = self.conn.execute(
            f"SELECT id, {', '.join(_DEVICE_FIELDS)} FROM devices WHERE key = ?",  # noqa: S608
            (device.key,),
        ).fetchone()
        created = existing is None
        seen = device.last_seen or at
        if created:
            device_id = self._insert_device(device.key, values, at, seen, source)
            changed = True
        else:
            device_id = int(existing[0])
            old = dict(zip(_DEVICE_FIELDS, existing[1:], strict=True))
            changed = old != values
            self._touch_device(device_id, values if changed else None, at, seen, source)
        changed |= self._sync_identities(device_id, device.mail, created)
        added: tuple[InstalledApp, ...] = ()
        removed: tuple[InstalledApp, ...] = ()
        bumped = 0
        if replace_apps:
            if created:
                added, removed, bumped = self._first_apps(device_id, device.apps, seen)
            else:
                added, removed, bumped = self._sync_apps(
                    device_id, device.apps, seen, source, first_apps
                )
        if created or changed or added or removed:
            self.changes.record("device", [device.key])
        return DeviceChange(created, changed and not created, added, removed, bumped)

    def create_devices(
        self, devices: list[Device], at: datetime, source: str
    ) -> list[DeviceChange]:
        """Insert devices known to be new, a chunk at a time (bulk imports)."""
        created = create_devices(self.conn, self.dictionary, devices, at, source)
        self.changes.record("device", (device.key for device in devices))
        return created

    def _insert_device(
        self, key: str, values: dict[str, Any], at: datetime, seen: datetime, source: str
    ) -> int:
        cols = ", ".join(_DEVICE_FIELDS)
        marks = ", ".join("?" for _ in _DEVICE_FIELDS)
        row = self.conn.execute(
            f"INSERT INTO devices (key, {cols}, source, last_seen_at, updated_at)"  # noqa: S608
            f" VALUES (?, {marks}, ?, ?, ?) RETURNING id",
            (key, *values.values(), source, t(seen), t(at)),
        ).fetchone()
        return int(row[0])

    def _touch_device(
        self,
        device_id: int,
        values: dict[str, Any] | None,
        at: datetime,
        seen: datetime,
        source: str,
    ) -> None:
        """Newest report time never goes backwards; fields are written only when they changed."""
        if values is None:
            self.conn.execute(
                "UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, ''), ?) WHERE id = ?",
                (t(seen), device_id),
            )
            return
        sets = ", ".join(f"{c} = ?" for c in _DEVICE_FIELDS)
        self.conn.execute(
            f"UPDATE devices SET {sets}, source = ?,"  # noqa: S608
            " last_seen_at = max(coalesce(last_seen_at, ''), ?), updated_at = ? WHERE id = ?",
            (*values.values(), source, t(seen), t(at), device_id),
        )

    def _sync_identities(self, device_id: int, mail: MailIdentities, created: bool) -> bool:
        wanted = {tuple(k.split(":", 1)) for k in mail.identity_keys()}
        have = (
            set()
            if created
            else {
                (row[0], row[1])
                for row in self.conn.execute(
                    "SELECT kind, value FROM device_identities WHERE device_id = ?", (device_id,)
                )
            }
        )
        if wanted == have:
            return False
        self.conn.executemany(
            "DELETE FROM device_identities WHERE kind = ? AND value = ?", sorted(have - wanted)
        )
        self.conn.executemany(
            "INSERT INTO device_identities (kind, value, device_id) VALUES (?,?,?)"
            " ON CONFLICT (kind, value) DO UPDATE SET device_id = excluded.device_id",
            [(k, v, device_id) for k, v in sorted(wanted - have)],
        )
        return True

    def _sync_apps(
        self,
        device_id: int,
        apps: frozenset[InstalledApp],
        at: datetime,
        source: str,
        quiet: bool,
    ) -> tuple[tuple[InstalledApp, ...], tuple[InstalledApp, ...], int]:
        """Write only what changed. History events start after a device's first report: what
        it had then is `first_seen_at` of its rows, not an install we saw happen."""
        wanted = self.dictionary.ids_of(apps)
        versions = {app_id: app.version for app_id, app in wanted.items()}
        have: dict[int, str] = dict(
            self.conn.execute(
                "SELECT app_id, version FROM device_apps WHERE device_id = ?", (device_id,)
            ).fetchall()
        )
        # a report is mostly what the device had: compare in C (dict views), walk only the rest
        differ = versions.items() - have.items()
        add = sorted(a for a, _ in differ if a not in have)
        bump = sorted(a for a, _ in differ if a in have)
        drop = sorted(have.keys() - versions.keys())
        stamp = t(at)
        if add:
            self.conn.executemany(
                "INSERT INTO device_apps (device_id, app_id, version, first_seen_at)"
                " VALUES (?,?,?,?)",
                [(device_id, a, wanted[a].version, stamp) for a in add],
            )
        if drop:
            self.conn.executemany(  # keep since when an app known from the first report was there
                "INSERT INTO app_events (device_id, app_id, event, at, source)"
                " SELECT device_id, app_id, 'first_seen', first_seen_at, '' FROM device_apps"
                " WHERE device_id = ? AND app_id = ? AND NOT EXISTS (SELECT 1 FROM app_events e"
                " WHERE e.device_id = device_apps.device_id AND e.app_id = device_apps.app_id"
                " AND e.event IN ('installed', 'first_seen'))",
                [(device_id, a) for a in drop],
            )
            self.conn.executemany(
                "DELETE FROM device_apps WHERE device_id = ? AND app_id = ?",
                [(device_id, a) for a in drop],
            )
        if bump:
            self.conn.executemany(
                "UPDATE device_apps SET version = ? WHERE device_id = ? AND app_id = ?",
                [(wanted[a].version, device_id, a) for a in bump],
            )
        events = [] if quiet else [(device_id, a, "installed", stamp, source) for a in add]
        events += [(device_id, a, "removed", stamp, source) for a in drop]
        if events:
            self.conn.executemany(
                "INSERT INTO app_events (device_id, app_id, event, at, source) VALUES (?,?,?,?,?)",
                events,
            )
        removed = tuple(self._app_by_id(a) for a in drop)
        return tuple(wanted[a] for a in add), removed, len(bump)

    def _first_apps(
        self, device_id: int, apps: frozenset[InstalledApp], at: datetime
    ) -> tuple[tuple[InstalledApp, ...], tuple[InstalledApp, ...], int]:
        """A device's first app list: one statement, one pass (bulk imports live here)."""
        rows = [(self.app_id(app), app.version) for app in apps]
        if len({app_id for app_id, _ in rows}) < len(rows):  # one app listed twice: last wins
            rows = list(dict(rows).items())
        if rows:
            self.conn.execute(
                "INSERT INTO device_apps (device_id, app_id, version, first_seen_at)"
                " SELECT ?, value ->> 0, value ->> 1, ? FROM json_each(?)",
                (device_id, t(at), _ROWS.encode(rows)),
            )
        return tuple(apps), (), 0

    def _app_by_id(self, app_id: int) -> InstalledApp:
        row = self.conn.execute(
            "SELECT platform, identifier, name_folded, name, publisher FROM apps WHERE id = ?",
            (app_id,),
        ).fetchone()
        return _app(row[0], row[1], row[2], row[3], row[4], "")

    def device(self, key: str) -> Device | None:
        row = self.conn.execute(
            "SELECT id, key, owner_email, platform, ownership, visibility, os_version,"
            " android_patch, mail_access, name, model, serial, last_seen_at"
            " FROM devices WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        device_id = row[0]
        idents = self.conn.execute(
            "SELECT kind, value FROM device_identities WHERE device_id = ? ORDER BY kind, value",
            (device_id,),
        ).fetchall()
        apps = self.conn.execute(
            "SELECT a.platform, a.identifier, a.name_folded, a.name, a.publisher, da.version"
            " FROM device_apps da JOIN apps a ON a.id = da.app_id WHERE da.device_id = ?",
            (device_id,),
        ).fetchall()
        return Device(
            key=row[1],
            owner=row[2],
            platform=Platform(row[3]),
            ownership=Ownership(row[4]),
            visibility=Visibility(row[5]),
            os_version=row[6],
            android_patch=from_d(row[7]),
            has_mail_access=bool(row[8]),
            name=row[9],
            model=row[10],
            serial=row[11],
            last_seen=from_t(row[12]),
            mail=_mail(idents),
            apps=frozenset(_app(*a) for a in apps),
        )

    def device_key_for_identity(self, kind: str, value: str) -> str | None:
        if kind == "device":
            row = self.conn.execute("SELECT key FROM devices WHERE key = ?", (value,)).fetchone()
        else:
            norm = identity_key(kind, value).split(":", 1)[1]
            row = self.conn.execute(
                "SELECT d.key FROM device_identities i JOIN devices d ON d.id = i.device_id"
                " WHERE i.kind = ? AND i.value = ?",
                (kind, norm),
            ).fetchone()
        return str(row[0]) if row else None

    def count_devices(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM devices").fetchone()[0])

    def app_history(self, key: str) -> list[dict[str, Any]]:
        return app_history(self.conn, key)

    # -- the fleet index ------------------------------------------------------------------------
    def load_fleet(self, index: FleetIndex, progress: Progress | None = None) -> None:
        """Fill `index` from the database: employees, the app dictionary, devices and their apps."""
        for employee in self.employees():
            index.upsert_employee(employee)
        load_devices(self.conn, index, progress)


def _employee(row: Any) -> Employee:
    # locale, zone, department and country repeat across a directory: one string object each
    # instead of one per row (about 140 MB for 700,000 employees in the fleet index)
    return Employee(
        email=row[0],
        name=row[1],
        locale=sys.intern(row[2]),
        timezone=sys.intern(row[3]),
        department=sys.intern(row[4]),
        country=sys.intern(row[5]),
        groups=frozenset(from_js(row[6]) or ()),
        manager=row[7],
    )


def _mail(idents: list[Any]) -> MailIdentities:
    by_kind: dict[str, list[str]] = {"eas": [], "cert": [], "imap": []}
    for kind, value in idents:
        by_kind.setdefault(kind, []).append(value)
    return MailIdentities(tuple(by_kind["eas"]), tuple(by_kind["cert"]), tuple(by_kind["imap"]))


def _app(
    platform: str, identifier: str, folded: str, name: str, publisher: str, version: str
) -> InstalledApp:
    space = AppPlatform(platform)
    ref = AppRef(space, identifier) if identifier else None
    return InstalledApp(ref, name or folded, version, publisher, space)
