"""Validation of one employee or device record, shared by every importer and the check-in API.

Each function returns the domain object or raises `RecordError` naming the field and the fix;
importers attach the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

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
)
from appwarden.core.timeutil import TimeFormatError, is_zone, parse_instant

MAX_APPS_PER_DEVICE = 10_000
MAX_GROUPS = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOCALE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
DEVICE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


class RecordError(ValueError):
    def __init__(self, field: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.fix = fix


def _text(data: Mapping[str, Any], key: str, default: str = "", limit: int = 512) -> str:
    value = data.get(key)
    if value is None:
        return default
    text = str(value).strip()
    if len(text) > limit:
        raise RecordError(key, f"is longer than {limit} characters", "shorten it")
    return text


def _choice(data: Mapping[str, Any], key: str, enum: type[Any], default: str) -> Any:
    raw = _text(data, key, default).lower() or default
    aliases = {"company": "corporate", "corp": "corporate", "byod": "personal", "iphone": "ios"}
    raw = aliases.get(raw, raw)
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise RecordError(key, f"{raw!r} is not allowed", f"use one of: {allowed}") from None


def employee_from(data: Mapping[str, Any]) -> Employee:
    email = _text(data, "email").lower()
    if not EMAIL.match(email):
        raise RecordError("email", f"{email!r} is not an email address", "write name@company.com")
    locale = _text(data, "locale", "en") or "en"
    if not LOCALE.match(locale):
        raise RecordError("locale", f"{locale!r} is not a locale", "use codes like en, ar, fr-CA")
    zone = _text(data, "timezone", "UTC") or "UTC"
    if not is_zone(zone):
        raise RecordError("timezone", f"{zone!r} is not an IANA time zone", "e.g. Asia/Riyadh")
    groups = data.get("groups") or []
    if isinstance(groups, str):
        groups = [g for g in re.split(r"[;|]", groups) if g.strip()]
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise RecordError("groups", "must be a list of at most 500 names", "separate with ;")
    return Employee(
        email=email,
        name=_text(data, "name"),
        locale=locale,
        timezone=zone,
        department=_text(data, "department"),
        country=_text(data, "country").upper(),
        groups=frozenset(str(g).strip() for g in groups),
        manager=_text(data, "manager").lower(),
    )


def app_from(data: Mapping[str, Any], platform: Platform) -> InstalledApp:
    ident = _text(data, "id", limit=255)
    name = _text(data, "name", limit=255)
    if not ident and not name:
        raise RecordError("apps", "an app needs an id or at least a name", "add `id`")
    space = platform.app_space
    ref = None
    if ident:
        try:
            ref = AppRef.of(space, ident)
        except ValueError as exc:
            raise RecordError("apps.id", str(exc), "use the package name or bundle id") from None
    return InstalledApp(
        ref, name, _text(data, "version", limit=64), _text(data, "publisher", limit=255), space
    )


def _patch(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RecordError(
            "android_patch", f"{value!r} is not a date", "write the patch level like 2024-05-05"
        ) from None


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = [v for v in re.split(r"[;|]", value) if v.strip()]
    if not isinstance(value, list) or len(value) > 32:
        raise RecordError(field, "must be a list of at most 32 values")
    return tuple(str(v).strip() for v in value if str(v).strip())


def device_from(
    data: Mapping[str, Any],
    apps: Iterable[Mapping[str, Any]] = (),
    installed: frozenset[InstalledApp] | None = None,
) -> Device:
    """A device record; `installed` gives apps already validated (the streaming reader)."""
    key = _text(data, "key", limit=128)
    if not DEVICE_KEY.match(key):
        raise RecordError("key", f"{key!r} is not a device key", "letters, digits and ._:@- only")
    platform = _choice(data, "platform", Platform, "")
    owner = _text(data, "owner").lower() or None
    if owner is not None and not EMAIL.match(owner):
        raise RecordError("owner", f"{owner!r} is not an email address", "use the owner's email")
    mail = data.get("mail") or {}
    if not isinstance(mail, Mapping):
        raise RecordError("mail", "must be a mapping with eas, cert and imap lists")
    identities = MailIdentities(
        _strings(mail.get("eas"), "mail.eas"),
        _strings(mail.get("cert"), "mail.cert"),
        _strings(mail.get("imap"), "mail.imap"),
    )
    if installed is None:
        app_rows = list(apps)
        if len(app_rows) > MAX_APPS_PER_DEVICE:
            raise RecordError(
                "apps",
                f"lists {len(app_rows)} apps, more than {MAX_APPS_PER_DEVICE}",
                "check the export",
            )
        installed = frozenset(app_from(row, platform) for row in app_rows)
    mail_access = data.get("mail_access")
    return Device(
        key=key,
        platform=platform,
        owner=owner,
        ownership=_choice(data, "ownership", Ownership, "unknown"),
        visibility=_choice(data, "visibility", Visibility, "all"),
        os_version=_text(data, "os_version", limit=64),
        android_patch=_patch(data.get("android_patch")),
        mail=identities,
        has_mail_access=bool(identities) if mail_access in (None, "") else _truthy(mail_access),
        apps=installed,
        name=_text(data, "name"),
        model=_text(data, "model"),
        serial=_text(data, "serial"),
        last_seen=_seen(data.get("last_seen")),
    )


def _seen(value: Any) -> datetime | None:
    """When the device last reported (ISO 8601 with a zone); empty means now."""
    if value in (None, ""):
        return None
    try:
        return parse_instant(str(value).strip())
    except TimeFormatError:
        raise RecordError(
            "last_seen", f"{value!r} is not an instant", "like 2026-11-29T08:00:00Z"
        ) from None


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    raise RecordError("mail_access", f"{value!r} is not yes/no", "write true or false")


@lru_cache(maxsize=1 << 17)
def cached_app(
    space: AppPlatform, ident: str, name: str, version: str, publisher: str
) -> InstalledApp:
    """`app_from` for rows that repeat across devices: each distinct row is validated once."""
    return app_from(
        {"id": ident, "name": name, "version": version, "publisher": publisher}, _ANY[space]
    )


_ANY = {
    AppPlatform.ANDROID: Platform.ANDROID,
    AppPlatform.IOS: Platform.IOS,
    AppPlatform.MACOS: Platform.MACOS,
    AppPlatform.WINDOWS: Platform.WINDOWS,
    AppPlatform.OTHER: Platform.OTHER,
}


def app_platform(value: str) -> AppPlatform:
    return Platform(value).app_space
