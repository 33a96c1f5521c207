"""Small builders for tests: policies from dicts, devices from short specs, an engine on SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appwarden.adapters.catalog_file import load_catalog
from appwarden.adapters.db import SqliteStore
from appwarden.core.catalog import Catalog
from appwarden.core.inventory import (
    AppRef,
    Device,
    Employee,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
    Visibility,
)
from appwarden.core.policy import Policy, PolicyVersion
from appwarden.core.policy_data import policy_digest
from appwarden.core.policy_spec import policy_from_data
from appwarden.core.timeutil import parse_duration, parse_instant
from appwarden.services.compliance import Compliance, EngineLimits

T0 = datetime(2020, 7, 1, 16, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return parse_instant(text, "UTC")


def policy(**overrides: Any) -> Policy:
    """A valid policy (TikTok, block mail, deadline 2020-07-10 18:00 PT) with overrides."""
    data: dict[str, Any] = {
        "slug": "tiktok-mail",
        "title": {"en": "No TikTok", "ar": "لا تيك توك"},
        "reason": {"en": "Security risk", "ar": "خطر أمني"},
        "owner": "security@corp.example",
        "scope": {"platforms": ["ios", "ipados", "android"]},
        "rule": {"barred_apps": [{"id": "com.zhiliaoapp.musically"}]},
        "deadline": {"at": "2020-07-10T18:00", "timezone": "America/Los_Angeles"},
        "after_deadline": "block_mail",
        "unknown": "attest",
    }
    for key, value in overrides.items():
        data[key] = value
    return policy_from_data(data, "test")


def version(p: Policy, number: int = 1, published: datetime = T0) -> PolicyVersion:
    return PolicyVersion(
        p, number, published, p.deadline.resolve(published), digest=policy_digest(p)
    )


def app(ident: str, platform: str = "android", name: str = "") -> InstalledApp:
    return InstalledApp(
        AppRef.of(platform, ident), name or ident, space=AppRef.of(platform, ident).platform
    )


def device(
    key: str,
    apps: Iterable[str] = (),
    *,
    platform: str = "android",
    owner: str | None = "a@corp.example",
    ownership: str = "corporate",
    visibility: str = "all",
    eas: str | None = None,
    os_version: str = "",
    mail: bool = True,
    **extra: Any,
) -> Device:
    plat = Platform(platform)
    return Device(
        key=key,
        platform=plat,
        owner=owner,
        ownership=Ownership(ownership),
        visibility=Visibility(visibility),
        os_version=os_version,
        mail=MailIdentities((eas,) if eas else ()),
        has_mail_access=mail,
        apps=frozenset(app(a, plat.app_space.value) for a in apps),
        **extra,
    )


def employee(email: str = "a@corp.example", **fields: Any) -> Employee:
    return Employee(email=email, **fields)


_CATALOG: Catalog | None = None


def shipped_catalog() -> Catalog:
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = load_catalog()
    return _CATALOG


def engine(path: Path, min_lead: str = "P7D", requires_notice: bool = True) -> Compliance:
    store = SqliteStore(path)
    return Compliance(
        store,
        shipped_catalog(),
        EngineLimits(parse_duration(min_lead), parse_duration("P180D")),
        requires_notice=requires_notice,
    )


def as_mapping(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})
