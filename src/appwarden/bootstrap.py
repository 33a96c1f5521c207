"""The composition root: settings -> adapters -> services. Nothing is built at import time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from appwarden.adapters.catalog_file import load_catalog
from appwarden.adapters.clock import Clock, clock_from_setting
from appwarden.adapters.db import SqliteStore
from appwarden.core.catalog import Catalog
from appwarden.services.compliance import Compliance, EngineLimits
from appwarden.services.decisions import DecisionService
from appwarden.settings import Settings


@dataclass
class App:
    settings: Settings
    store: SqliteStore
    catalog: Catalog
    clock: Clock
    engine: Compliance

    def close(self) -> None:
        self.store.close()


def build(settings: Settings, clock: Clock | None = None) -> App:
    store = SqliteStore(settings.database)
    local = settings.get("catalog_local")
    catalog = load_catalog(Path(local) if local else None)
    engine = Compliance(
        store,
        catalog,
        EngineLimits(settings.duration("min_lead_time"), settings.duration("max_exemption")),
        DecisionService(id_prefix=secrets.token_hex(3)),
    )
    return App(
        settings=settings,
        store=store,
        catalog=catalog,
        clock=clock or clock_from_setting(settings.raw("clock")),
        engine=engine,
    )
