"""Per-source reports, cross-source identifiers, merge conflicts and employee aliases."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from appwarden.adapters.db.codec import js, must_t, t
from appwarden.core.inventory import AppPlatform, AppRef, InstalledApp, Visibility, identity_key
from appwarden.core.sources import FieldConflict, SourceFacts
from appwarden.services.ports import ChangeRecorder, StoredConflict, StoredSource

_FACTS = msgspec.json.Encoder(order="sorted")
# probe kind -> the query that finds (value, device key) for a JSON array of values
_FIND_MANY = {
    "key": "SELECT key, key FROM devices WHERE key IN (SELECT value FROM json_each(?))",
    "eas": "SELECT i.value, d.key FROM device_identities i JOIN devices d ON d.id = i.device_id"
    " WHERE i.kind = 'eas' AND i.value IN (SELECT value FROM json_each(?))",
}
_FIND_KEYS = (
    "SELECT k.value, d.key FROM device_keys k JOIN devices d ON d.id = k.device_id"
    " WHERE k.kind = ? AND k.value IN (SELECT value FROM json_each(?))"
)
# probe kind -> the query that finds the device key for a value of that kind
_FIND = {
    "key": "SELECT key FROM devices WHERE key = ?",
    "source": "SELECT d.key FROM device_keys k JOIN devices d ON d.id = k.device_id"
    " WHERE k.kind = 'source' AND k.value = ?",
    "serial": "SELECT d.key FROM device_keys k JOIN devices d ON d.id = k.device_id"
    " WHERE k.kind = 'serial' AND k.value = ?",
    "imei": "SELECT d.key FROM device_keys k JOIN devices d ON d.id = k.device_id"
    " WHERE k.kind = 'imei' AND k.value = ?",
    "eas": "SELECT d.key FROM device_identities i JOIN devices d ON d.id = i.device_id"
    " WHERE i.kind = 'eas' AND i.value = ?",
}


class SqliteSources:
    def __init__(self, conn: sqlite3.Connection, changes: ChangeRecorder) -> None:
        self.conn = conn
        self.changes = changes

    def _device_id(self, key: str) -> int:
        row = self.conn.execute("SELECT id FROM devices WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return int(row[0])

    # -- matching --------------------------------------------------------------------------------
    def find(self, probes: Sequence[tuple[str, str]]) -> list[str | None]:
        """The device key each (kind, value) probe names, or None, in probe order."""
        found: list[str | None] = []
        for kind, value in probes:
            if kind == "eas":
                value = identity_key("eas", value).split(":", 1)[1]
            row = self.conn.execute(_FIND[kind], (value,)).fetchone()
            found.append(None if row is None else str(row[0]))
        return found

    def find_many(self, probes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """`find` for many probes at once: {probe: device key} for those that name a device."""
        by_kind: dict[str, dict[str, str]] = {}
        for kind, value in probes:
            norm = identity_key("eas", value).split(":", 1)[1] if kind == "eas" else value
            by_kind.setdefault(kind, {})[norm] = value
        found = {}
        for kind, values in by_kind.items():
            if kind in _FIND_MANY:
                rows = self.conn.execute(_FIND_MANY[kind], (json.dumps(list(values)),))
            else:
                rows = self.conn.execute(_FIND_KEYS, (kind, json.dumps(list(values))))
            for value, key in rows:
                found[(kind, values[value])] = str(key)
        return found

    def has_aliases(self) -> bool:
        row = self.conn.execute("SELECT EXISTS (SELECT 1 FROM employee_aliases)").fetchone()
        return bool(row[0])

    def add_keys(self, key: str, keys: Sequence[tuple[str, str]]) -> None:
        if not keys:
            return
        device_id = self._device_id(key)
        self.conn.executemany(
            "INSERT INTO device_keys (kind, value, device_id) VALUES (?,?,?)"
            " ON CONFLICT (kind, value) DO NOTHING",
            [(kind, value, device_id) for kind, value in keys],
        )

    # -- per-source snapshots --------------------------------------------------------------------
    def snapshots(self, key: str) -> dict[str, StoredSource]:
        rows = self.conn.execute(
            "SELECT s.source, s.source_id, s.observed_at, s.facts, s.apps IS NOT NULL,"
            " s.sequence FROM device_sources s JOIN devices d ON d.id = s.device_id"
            " WHERE d.key = ?",
            (key,),
        ).fetchall()
        return {row[0]: _stored(row) for row in rows}

    def app_list(self, key: str, source: str) -> frozenset[InstalledApp] | None:
        row = self.conn.execute(
            "SELECT s.apps FROM device_sources s JOIN devices d ON d.id = s.device_id"
            " WHERE d.key = ? AND s.source = ?",
            (key, source),
        ).fetchone()
        return None if row is None or row[0] is None else _apps_from(json.loads(row[0]))

    def put_many(self, items: Sequence[tuple[str, StoredSource]]) -> None:
        """First snapshots of new devices, one statement for all."""
        rows = [[key, *_snapshot_values(stored)] for key, stored in items]
        self.conn.execute(
            "INSERT INTO device_sources (device_id, source, source_id, observed_at, facts, apps,"
            " sequence) SELECT d.id, value ->> 1, value ->> 2, value ->> 3, value ->> 4,"
            " value ->> 5, value ->> 6 FROM json_each(?) JOIN devices d ON d.key = value ->> 0",
            (_FACTS.encode(rows).decode(),),
        )

    def add_keys_many(self, items: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None:
        rows = [[kind, value, key] for key, keys in items for kind, value in keys]
        if rows:
            self.conn.execute(
                "INSERT INTO device_keys (kind, value, device_id) SELECT value ->> 0,"
                " value ->> 1, d.id FROM json_each(?) JOIN devices d ON d.key = value ->> 2"
                " WHERE true ON CONFLICT (kind, value) DO NOTHING",
                (_FACTS.encode(rows).decode(),),
            )

    def put(self, key: str, stored: StoredSource) -> None:
        source, source_id, observed, facts, apps, sequence = _snapshot_values(stored)
        self.conn.execute(
            "INSERT INTO device_sources (device_id, source, source_id, observed_at, facts, apps,"
            " sequence) VALUES ((SELECT id FROM devices WHERE key = ?),?,?,?,?,?,?)"
            " ON CONFLICT (device_id, source) DO UPDATE SET source_id = excluded.source_id,"
            " observed_at = excluded.observed_at, facts = excluded.facts, apps = excluded.apps,"
            " sequence = excluded.sequence",
            (key, source, source_id, observed, facts, apps, sequence),
        )

    # -- conflicts -------------------------------------------------------------------------------
    def conflicts(self, key: str | None = None, limit: int = 1000) -> list[StoredConflict]:
        sql = (
            "SELECT d.key, c.field, c.chosen, c.chosen_source, c.others, c.first_seen_at,"
            " c.last_seen_at FROM device_conflicts c JOIN devices d ON d.id = c.device_id"
        )
        args: tuple[Any, ...] = (limit,)
        if key is not None:
            sql += " WHERE d.key = ?"
            args = (key, limit)
        rows = self.conn.execute(sql + " ORDER BY d.key, c.field LIMIT ?", args).fetchall()
        return [
            StoredConflict(
                r[0],
                FieldConflict(r[1], r[2], r[3], tuple(tuple(o) for o in json.loads(r[4]))),
                must_t(r[5]),
                must_t(r[6]),
            )
            for r in rows
        ]

    def set_conflicts(self, key: str, conflicts: Sequence[FieldConflict], at: datetime) -> bool:
        """Replace the device's conflicts; True when they changed (first_seen kept)."""
        device_id = self._device_id(key)
        have = {
            row[0]: (row[1], row[2], row[3])
            for row in self.conn.execute(
                "SELECT field, chosen, chosen_source, others FROM device_conflicts"
                " WHERE device_id = ?",
                (device_id,),
            )
        }
        want = {
            c.field: (c.chosen, c.chosen_source, js([list(o) for o in c.others])) for c in conflicts
        }
        if have == want:
            return False
        gone = [(device_id, name) for name in have if name not in want]
        self.conn.executemany(
            "DELETE FROM device_conflicts WHERE device_id = ? AND field = ?", gone
        )
        stamp = t(at)
        self.conn.executemany(
            "INSERT INTO device_conflicts (device_id, field, chosen, chosen_source, others,"
            " first_seen_at, last_seen_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (device_id, field)"
            " DO UPDATE SET chosen = excluded.chosen, chosen_source = excluded.chosen_source,"
            " others = excluded.others, last_seen_at = excluded.last_seen_at",
            [(device_id, name, *value, stamp, stamp) for name, value in want.items()],
        )
        return True

    # -- owners ----------------------------------------------------------------------------------
    def resolve_owner(self, address: str) -> str:
        row = self.conn.execute(
            "SELECT email FROM employee_aliases WHERE alias = ?", (address.lower(),)
        ).fetchone()
        return str(row[0]) if row else address.lower()

    def set_aliases(self, email: str, aliases: Sequence[str]) -> None:
        email = email.lower()
        self.conn.execute("DELETE FROM employee_aliases WHERE email = ?", (email,))
        self.conn.executemany(
            "INSERT INTO employee_aliases (alias, email) VALUES (?, ?)"
            " ON CONFLICT (alias) DO UPDATE SET email = excluded.email",
            [(a.lower(), email) for a in sorted(set(aliases)) if a.lower() != email],
        )

    def relink_owners(self) -> list[str]:
        """Devices whose owner is an alias get the employee's email; returns their keys."""
        rows = self.conn.execute(
            "UPDATE devices SET owner_email = (SELECT email FROM employee_aliases"
            " WHERE alias = devices.owner_email) WHERE owner_email IN"
            " (SELECT alias FROM employee_aliases) RETURNING key"
        ).fetchall()
        keys = [str(r[0]) for r in rows]
        self.changes.record("device", keys)
        return keys


def _snapshot_values(stored: StoredSource) -> list[Any]:
    f = stored.facts
    facts = _FACTS.encode(
        {
            "values": dict(f.values),
            "identities": list(f.identities),
            "visibility": f.visibility.value if f.visibility else None,
        }
    ).decode()
    apps = None if stored.apps is None else _apps_json(stored.apps)
    return [f.source, f.source_id, t(f.observed_at), facts, apps, stored.sequence]


def _stored(row: Any) -> StoredSource:
    facts = json.loads(row[3])
    visibility = facts.get("visibility")
    return StoredSource(
        SourceFacts(
            source=row[0],
            observed_at=must_t(row[2]),
            values={k: v for k, v in (facts.get("values") or {}).items() if v},
            identities=tuple(facts.get("identities") or ()),
            visibility=Visibility(visibility) if visibility else None,
            source_id=row[1],
        ),
        None,
        int(row[5]),
        bool(row[4]),
    )


def _apps_json(apps: Iterable[InstalledApp]) -> str:
    rows = []
    for app in apps:
        key = app.key
        rows.append(
            [
                key.platform.value,
                key.identifier,
                key.name_folded,
                app.name,
                app.version,
                app.publisher,
            ]
        )
    rows.sort()
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _apps_from(rows: list[list[str]]) -> frozenset[InstalledApp]:
    out = set()
    for platform, ident, folded, name, version, publisher in rows:
        space = AppPlatform(platform)
        ref = AppRef(space, ident) if ident else None
        out.add(InstalledApp(ref, name or folded, version, publisher, space))
    return frozenset(out)
