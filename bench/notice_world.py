"""Shared set-up of the notice benchmarks: a large fleet straight into the fleet index and
SQLite, one block_mail policy applied through the real path, and the notice service on top."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appwarden.adapters.catalog_file import load_catalog
from appwarden.adapters.db import SqliteStore
from appwarden.adapters.mail.wiring import message_builder
from appwarden.adapters.notice_templates import JinjaNoticeRenderer
from appwarden.core.fleet import DeviceRow
from appwarden.core.inventory import AppKey, AppPlatform, Employee, Ownership, Platform, Visibility
from appwarden.core.policy_spec import policy_from_data
from appwarden.services.accounts import save_account
from appwarden.services.campaign_plan import NoticeConfig
from appwarden.services.compliance import Compliance, EngineLimits
from appwarden.services.notices import NoticeService

T0 = datetime(2020, 7, 1, 16, 0, tzinfo=UTC)
AUTHOR, APPROVER = "author@bench.example", "approver@bench.example"
TIKTOK = AppKey(AppPlatform.ANDROID, "com.zhiliaoapp.musically", "")
COMMON = AppKey(AppPlatform.ANDROID, "com.whatsapp", "")
POLICY = {
    "slug": "tiktok-mail",
    "title": {"en": "No TikTok", "ar": "لا تيك توك"},
    "reason": {"en": "Security risk", "ar": "خطر أمني"},
    "owner": "security@corp.example",
    "scope": {"platforms": ["ios", "ipados", "android"]},
    "rule": {"barred_apps": [{"id": "com.zhiliaoapp.musically"}]},
    "deadline": {"at": "2020-07-10T18:00", "timezone": "America/Los_Angeles"},
    "after_deadline": "block_mail",
    "unknown": "allow",
}
ZONES = (
    ("en", "America/Los_Angeles", "US"),
    ("ar", "Asia/Riyadh", "SA"),
    ("en", "Europe/London", "GB"),
)
DEPTS = ("Sales", "Engineering", "Operations", "Support", "Finance", "HR")


def log(text: str) -> None:
    print(f"  .. {text}", flush=True)


def build_engine(db: Path) -> Compliance:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    store = SqliteStore(db)
    return Compliance(store, load_catalog(), EngineLimits(timedelta(days=7), timedelta(days=180)))


def fill_fleet(engine: Compliance, devices: int, affected: int) -> None:
    """`devices` devices of about devices/1.43 employees; `affected` employees carry TikTok."""
    fleet = engine.fleet
    tiktok, common = fleet.intern_app(TIKTOK, "TikTok"), fleet.intern_app(COMMON, "WhatsApp")
    employees = int(devices / 1.43)
    doubles = devices - employees
    step = max(employees // affected, 1)
    serial = 0
    with engine.store.unit_of_work() as uow:
        for i in range(employees):
            locale, tz, country = ZONES[i % 3]
            e = Employee(
                f"user{i:07d}@corp.example", f"User {i}", locale, tz, DEPTS[i % 6], country
            )
            fleet.upsert_employee(e)
            if i % step == 0 and i // step < affected:
                uow.inventory.upsert_employee(e, T0)  # the directory rows notices need
            for d in range(2 if i < doubles else 1):
                serial += 1
                row = DeviceRow(
                    f"dev-{serial:07d}",
                    Platform.ANDROID,
                    Ownership.CORPORATE if serial % 2 else Ownership.PERSONAL,
                    Visibility.ALL,
                    True,
                    "14",
                    None,
                    e.email,
                    (f"eas:E{serial}",),
                    f"{e.name}'s phone",
                )
                bad = d == 0 and i % step == 0 and i // step < affected
                fleet.upsert_device(row, [tiktok, common] if bad else [common])
    engine.loaded = True


def apply_policy(engine: Compliance) -> None:
    policy = policy_from_data(POLICY, "bench")
    engine.apply_policy(policy, "bench", AUTHOR, "bench", T0)


def service(engine: Compliance, transport, config: NoticeConfig | None = None) -> NoticeService:
    config = config or NoticeConfig(undo_window=timedelta(0), canary="100%", waves=1)
    renderer = JinjaNoticeRenderer()
    svc = NoticeService(engine, renderer, config, transport, message_builder(renderer, config))
    with engine.store.unit_of_work() as uow:
        save_account(uow, AUTHOR, "author", "bench", T0)
        save_account(uow, APPROVER, "approver", "bench", T0)
    return svc


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def with_rate(config: NoticeConfig, **kw: object) -> NoticeConfig:
    return replace(config, **kw)
