"""Inserting many new devices in a few set-based statements (bulk imports).

Per chunk: one INSERT for the devices (ids come back by key), one for their mail identities and
one for all their app rows, each reading a JSON array through `json_each`: the per-statement
cost is paid per chunk, not per device or per app.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import msgspec

from appwarden.adapters.db.app_dictionary import AppDictionary
from appwarden.adapters.db.codec import d, t
from appwarden.core.inventory import Device
from appwarden.services.ports import DeviceChange

_JSON = msgspec.json.Encoder()


def create_devices(
    conn: sqlite3.Connection,
    dictionary: AppDictionary,
    devices: list[Device],
    at: datetime,
    source: str,
) -> list[DeviceChange]:
    if not devices:
        return []
    stamp = t(at)
    rows = [_row(device, source, stamp) for device in devices]
    ids = dict(
        conn.execute(
            "INSERT INTO devices (key, owner_email, platform, ownership, visibility, os_version,"
            " android_patch, mail_access, name, model, serial, source, last_seen_at, updated_at)"
            " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,"
            " value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10,"
            " value ->> 11, value ->> 12, value ->> 13 FROM json_each(?) RETURNING key, id",
            (_JSON.encode(rows).decode(),),
        ).fetchall()
    )
    identities = [
        [*key.split(":", 1), ids[device.key]]
        for device in devices
        for key in device.mail.identity_keys()
    ]
    if identities:
        conn.execute(
            "INSERT INTO device_identities (kind, value, device_id)"
            " SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)"
            " WHERE true ON CONFLICT (kind, value) DO UPDATE SET device_id = excluded.device_id",
            (_JSON.encode(identities).decode(),),
        )
    id_of = dictionary.id_of
    apps: list[tuple[int, int, str, str | None]] = []
    for device in devices:
        device_id = ids[device.key]
        seen = t(device.last_seen) if device.last_seen else stamp
        apps.extend((device_id, id_of(app), app.version, seen) for app in device.apps)
    conn.execute(
        "INSERT INTO device_apps (device_id, app_id, version, first_seen_at)"
        " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)"
        " WHERE true ON CONFLICT (device_id, app_id) DO NOTHING",
        (_JSON.encode(apps).decode(),),
    )
    return [DeviceChange(True, False, tuple(device.apps), ()) for device in devices]


def device_values(device: Device) -> dict[str, Any]:
    """The `devices` columns of a device that a report sets."""
    return {
        "owner_email": device.owner.lower() if device.owner else None,
        "platform": device.platform.value,
        "ownership": device.ownership.value,
        "visibility": device.visibility.value,
        "os_version": device.os_version,
        "android_patch": d(device.android_patch),
        "mail_access": 1 if device.reaches_mail else 0,
        "name": device.name,
        "model": device.model,
        "serial": device.serial,
    }


def _row(device: Device, source: str, stamp: str | None) -> list[Any]:
    seen = t(device.last_seen) if device.last_seen else stamp
    return [device.key, *device_values(device).values(), source, seen, stamp]
