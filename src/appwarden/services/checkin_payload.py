"""The check-in and enrolment request bodies: decoded, validated, and turned into reports.

    {"sequence": 42, "observed_at": "2026-11-29T10:00:00Z", "visibility": "all",
     "device": {"platform": "android", "os_version": "14", "android_patch": "2026-10-05",
                "model": "Pixel 9", "name": "Anna's Pixel", "serial": "...", "imei": ["..."]},
     "mail": {"eas": ["..."], "cert": ["..."], "imap": ["..."]},
     "apps": [{"id": "com.whatsapp", "name": "WhatsApp", "version": "2.24.1"}, ...]}

or, instead of `apps`, `"apps_delta": {"installed": [...], "removed": [{"id": "..."}]}` with the
next `sequence`. Unknown fields, wrong types and too many apps are refused with the field's path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TypeVar

import msgspec

from appwarden.core.errors import InvalidInput, Problem
from appwarden.core.inventory import (
    AppKey,
    AppPlatform,
    AppRef,
    Device,
    InstalledApp,
    MailIdentities,
    Platform,
    Visibility,
    app_key,
    installed_app,
)
from appwarden.core.sources import SourceReport
from appwarden.core.timeutil import TimeFormatError, parse_instant
from appwarden.services.ingest import AppDelta

AGENT_VISIBILITY = ("all", "managed")


class AppIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Frozen: hashable in C, so a decoded row is its own cache key (see `_apps`)."""

    id: str = ""
    name: str = ""
    version: str = ""
    publisher: str = ""


class DeltaIn(msgspec.Struct, forbid_unknown_fields=True):
    installed: list[AppIn] = msgspec.field(default_factory=list)
    removed: list[AppIn] = msgspec.field(default_factory=list)


class MailIn(msgspec.Struct, forbid_unknown_fields=True):
    eas: list[str] = msgspec.field(default_factory=list)
    cert: list[str] = msgspec.field(default_factory=list)
    imap: list[str] = msgspec.field(default_factory=list)


class DeviceIn(msgspec.Struct, forbid_unknown_fields=True):
    platform: str
    os_version: str = ""
    android_patch: str = ""
    model: str = ""
    name: str = ""
    serial: str = ""
    imei: list[str] = msgspec.field(default_factory=list)


class CheckinIn(msgspec.Struct, forbid_unknown_fields=True):
    device: DeviceIn
    sequence: int | None = None
    observed_at: str | None = None
    visibility: str = "all"
    mail: MailIn = msgspec.field(default_factory=MailIn)
    apps: list[AppIn] | None = None
    apps_delta: DeltaIn | None = None


class EnrollIn(msgspec.Struct, forbid_unknown_fields=True):
    device: DeviceIn
    mail: MailIn = msgspec.field(default_factory=MailIn)


_CHECKIN = msgspec.json.Decoder(CheckinIn)
_ENROLL = msgspec.json.Decoder(EnrollIn)
_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.S)


@dataclass(frozen=True, slots=True)
class Checkin:
    report: SourceReport
    sequence: int | None
    delta: AppDelta | None


T = TypeVar("T")


def _decode(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        match = _PATH.match(str(exc))
        message, path = (match["msg"], match["path"] or "body") if match else (str(exc), "body")
        raise InvalidInput(Problem(message, path, "see docs/inventory.md for the format")) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput(Problem(f"is not valid JSON ({exc})", "body")) from exc


def parse_checkin(body: bytes, max_apps: int, source: str) -> Checkin:
    data = _decode(_CHECKIN, body)
    platform = _platform(data.device.platform)
    if data.apps is not None and data.apps_delta is not None:
        raise InvalidInput(Problem("send `apps` or `apps_delta`, not both", "apps_delta"))
    if data.visibility not in AGENT_VISIBILITY:
        raise InvalidInput(Problem(f"{data.visibility!r} is not all or managed", "visibility"))
    if data.sequence is not None and data.sequence < 1:
        raise InvalidInput(Problem("must be 1 or more", "sequence"))
    listed = len(data.apps or ()) + (
        len(data.apps_delta.installed) + len(data.apps_delta.removed) if data.apps_delta else 0
    )
    if listed > max_apps:
        raise InvalidInput(
            Problem(
                f"lists {listed} apps; at most {max_apps} are accepted",
                "apps",
                "report installed apps only, or raise the checkin_max_apps setting",
            )
        )
    delta = None
    apps: frozenset[InstalledApp] = frozenset()
    if data.apps is not None:
        apps = _apps(data.apps, platform, "apps")
    elif data.apps_delta is not None:
        if data.sequence is None:
            raise InvalidInput(Problem("is required with apps_delta", "sequence"))
        installed = _apps(data.apps_delta.installed, platform, "apps_delta.installed")
        removed = _apps(data.apps_delta.removed, platform, "apps_delta.removed")
        delta = AppDelta(installed, frozenset(a.key for a in removed))
    device = _device(data.device, data.mail, platform, Visibility(data.visibility), apps)
    report = SourceReport(
        source,
        device,
        observed_at=_instant(data.observed_at),
        imei=tuple(data.device.imei),
        apps_known=data.apps is not None,
    )
    return Checkin(report, data.sequence, delta)


def parse_enroll(body: bytes, source: str) -> SourceReport:
    data = _decode(_ENROLL, body or b"{}")
    platform = _platform(data.device.platform)
    device = _device(data.device, data.mail, platform, Visibility.ALL, frozenset())
    return SourceReport(source, device, imei=tuple(data.device.imei), apps_known=False)


def _device(
    d: DeviceIn,
    mail: MailIn,
    platform: Platform,
    visibility: Visibility,
    apps: frozenset[InstalledApp],
) -> Device:
    for name, value, limit in (
        ("device.os_version", d.os_version, 64),
        ("device.model", d.model, 128),
        ("device.name", d.name, 128),
        ("device.serial", d.serial, 64),
    ):
        if len(value) > limit:
            raise InvalidInput(Problem(f"is longer than {limit} characters", name))
    identities = MailIdentities(
        _ids(mail.eas, "mail.eas"), _ids(mail.cert, "mail.cert"), _ids(mail.imap, "mail.imap")
    )
    return Device(
        key="",
        platform=platform,
        visibility=visibility,
        os_version=d.os_version.strip(),
        android_patch=_patch(d.android_patch),
        mail=identities,
        has_mail_access=bool(identities),
        apps=apps,
        name=d.name.strip(),
        model=d.model.strip(),
        serial=d.serial.strip(),
    )


def _ids(values: list[str], where: str) -> tuple[str, ...]:
    if len(values) > 16 or any(len(v) > 256 for v in values):
        raise InvalidInput(Problem("at most 16 values of at most 256 characters", where))
    return tuple(v.strip() for v in values if v.strip())


def _platform(text: str) -> Platform:
    value = text.strip().lower()
    try:
        return Platform("ios" if value == "iphone" else value)
    except ValueError:
        allowed = ", ".join(p.value for p in Platform)
        raise InvalidInput(
            Problem(f"{text!r} is not a platform", "device.platform", allowed)
        ) from None


def _patch(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            Problem(f"{text!r} is not a date", "device.android_patch", "like 2026-10-05")
        ) from None


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_instant(text)
    except TimeFormatError as exc:
        raise InvalidInput(Problem(str(exc), "observed_at")) from None


# Decoded rows -> validated apps, one table per identifier space. Apps and their versions repeat
# across devices: a hit is one C-level dict lookup per row. Cleared when full (cheap to refill).
_ROW_CACHE: dict[str, dict[AppIn, InstalledApp]] = {}
ROW_CACHE_LIMIT = 1 << 18


def _apps(rows: list[AppIn], platform: Platform, where: str) -> frozenset[InstalledApp]:
    space = platform.app_space.value
    cache = _ROW_CACHE.get(space)
    if cache is None or len(cache) > ROW_CACHE_LIMIT:
        cache = _ROW_CACHE[space] = {}
    get = cache.get
    out = []
    for i, row in enumerate(rows):
        app = get(row)
        if app is None:
            try:
                app = cache[row] = _app(space, row.id, row.name, row.version, row.publisher)
            except ValueError as exc:
                raise InvalidInput(
                    Problem(str(exc), f"{where}[{i}]", "give the package or bundle id")
                ) from None
        out.append(app)
    return frozenset(out)


def _app(space_name: str, ident: str, name: str, version: str, publisher: str) -> InstalledApp:
    if len(ident) > 255 or len(name) > 255 or len(version) > 64 or len(publisher) > 255:
        raise ValueError("id and name at most 255 characters, version at most 64")
    if not ident.strip() and not name.strip():
        raise ValueError("an app needs an id or at least a name")
    ident, name = ident.strip(), name.strip()
    space, ref, key = _identity(space_name, ident, "" if ident else name)
    return installed_app(ref, name, version.strip(), publisher.strip(), space, key)


@lru_cache(maxsize=1 << 16)
def _identity(space_name: str, ident: str, name: str) -> tuple[AppPlatform, AppRef | None, AppKey]:
    """The ref and dictionary key of an app (many versions and devices share one)."""
    space = AppPlatform(space_name)
    ref = AppRef.of(space, ident) if ident else None
    return space, ref, app_key(ref, name if ref is None else "", space)
