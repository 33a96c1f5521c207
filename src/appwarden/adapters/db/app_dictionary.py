"""The app dictionary: one row per app (platform, identifier or folded name), ids cached."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from appwarden.core.inventory import AppKey, InstalledApp

OBJECT_CACHE_LIMIT = 500_000


class AppIds:
    """Process-wide cache of app dictionary ids; entries become visible only after commit.

    `by_object` maps id(app object) to (the object, its id) for committed ids: parsers hand out
    the same object for the same row, so most lookups never build an AppKey. Holding the object
    keeps its id() from being reused.
    """

    def __init__(self) -> None:
        self.committed: dict[AppKey, int] = {}
        self.by_object: dict[int, tuple[InstalledApp, int]] = {}


class AppDictionary:
    """App ids for one unit of work: new ids stay pending until the transaction commits."""

    def __init__(self, conn: sqlite3.Connection, app_ids: AppIds) -> None:
        self.conn = conn
        self.app_ids = app_ids
        self.pending: dict[AppKey, int] = {}
        # id(app object) -> (the object, its app id): imports and check-ins reuse app objects
        # across devices, and computing an AppKey and its hash is the costly part of a lookup
        self._by_object: dict[int, tuple[InstalledApp, int]] = {}

    def id_of(self, app: InstalledApp) -> int:
        hit = self._by_object.get(id(app)) or self.app_ids.by_object.get(id(app))
        if hit is not None and hit[0] is app:
            return hit[1]
        key = app.key
        found = self.app_ids.committed.get(key) or self.pending.get(key)
        if found is None:
            row = self.conn.execute(
                "INSERT INTO apps (platform, identifier, name_folded, name, publisher)"
                " VALUES (?,?,?,?,?) ON CONFLICT (platform, identifier, name_folded)"
                " DO UPDATE SET name = CASE WHEN apps.name = '' THEN excluded.name"
                " ELSE apps.name END, publisher = CASE WHEN apps.publisher = ''"
                " THEN excluded.publisher ELSE apps.publisher END RETURNING id",
                (key.platform.value, key.identifier, key.name_folded, app.name, app.publisher),
            ).fetchone()
            found = self.pending[key] = int(row[0])
        self._by_object[id(app)] = (app, found)
        return found

    def ids_of(self, apps: Iterable[InstalledApp]) -> dict[int, InstalledApp]:
        """app id -> app for a device's list: `id_of` inlined for the cached case, which is
        nearly every app of a check-in (the last of two apps with one id wins)."""
        shared = self.app_ids.by_object.get  # committed: nearly every hit (id_of checks both)
        out: dict[int, InstalledApp] = {}
        for app in apps:
            hit = shared(id(app))
            if hit is not None and hit[0] is app:
                out[hit[1]] = app
            else:
                out[self.id_of(app)] = app
        return out

    def commit(self) -> None:
        shared = self.app_ids
        shared.committed.update(self.pending)
        if len(shared.by_object) + len(self._by_object) > OBJECT_CACHE_LIMIT:
            shared.by_object.clear()
        shared.by_object.update(self._by_object)
        self.pending.clear()
        self._by_object.clear()

    def forget_since(self, known: set[AppKey]) -> None:
        """App rows inserted after `known` were rolled back: forget their ids."""
        for key in set(self.pending) - known:
            del self.pending[key]
        self._by_object.clear()
