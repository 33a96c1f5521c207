"""What every MDM importer shares: reading the export, typed field access, building reports.

Importers read one vendor format each and produce `SourceReport`s. A record that cannot be
used is rejected with the vendor's own field name and a fix; a record that is usable but thin
(no owner, no app list) is imported and reported as a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from appwarden.adapters.importers.records import EMAIL, MAX_APPS_PER_DEVICE, RecordError
from appwarden.adapters.importers.text_files import read_text
from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.inventory import (
    AppPlatform,
    AppRef,
    Device,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
)
from appwarden.core.sources import SourceReport
from appwarden.core.timeutil import TimeFormatError, parse_instant
from appwarden.core.visibility import Enrollment
from appwarden.services.inventory import ImportBatch

_PLATFORMS = {
    "ios": Platform.IOS,
    "iphone": Platform.IOS,
    "ios_apps": Platform.IOS,
    "ipados": Platform.IPADOS,
    "ipad": Platform.IPADOS,
    "android": Platform.ANDROID,
    "androidforwork": Platform.ANDROID,
    "androidworkprofile": Platform.ANDROID,
    "androiddeviceadministrator": Platform.ANDROID,
    "androiddedicatedandfullymanaged": Platform.ANDROID,
    "androidosp": Platform.ANDROID,
    "androidenterprise": Platform.ANDROID,
    "macos": Platform.MACOS,
    "darwin": Platform.MACOS,
    "windows": Platform.WINDOWS,
}
_VERSION = re.compile(r"\d+(?:\.\d+)*")
_APP_ID = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$")


def load_json(path: Path) -> Any:
    """The parsed file; a truncated or malformed file is rejected with its line and column."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        rest = text[exc.pos :]
        truncated = "}" not in rest and "]" not in rest  # nothing closes what was opened
        hint = "the file looks truncated: export it again" if truncated else "fix the JSON"
        raise ImportRejected(
            Problem(
                f"is not valid JSON ({exc.msg}, column {exc.colno})",
                "",
                hint,
                str(path),
                exc.lineno,
            )
        ) from exc


def records_in(data: Any, keys: Iterable[str], origin: str) -> list[Any]:
    """The record list of an export: a bare list, a single record, or a list under one of `keys`."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in keys:
            if isinstance(data.get(key), list):
                return list(data[key])
        return [data]
    raise ImportRejected(Problem("must hold a JSON object or a list of records", file=origin))


def platform_of(text: str | None) -> Platform | None:
    if not text:
        return None
    value = re.sub(r"[^a-z]", "", text.lower())
    for prefix, platform in _PLATFORMS.items():
        if value == prefix or value.startswith(prefix):
            return platform
    return None


def version_of(text: str | None) -> str:
    """'iOS 17.0.1' -> '17.0.1', 'Android 14' -> '14'."""
    match = _VERSION.search(text or "")
    return match.group(0) if match else ""


def instant_of(value: Any, name: str) -> datetime | None:
    """ISO 8601 text, or epoch milliseconds (Headwind, some Google fields)."""
    if value in (None, "", 0):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    try:
        return parse_instant(str(value).replace(" ", "T"), "UTC")
    except TimeFormatError:
        raise RecordError(name, f"{value!r} is not a date and time", "ISO 8601") from None


def patch_of(value: Any, name: str) -> date | None:
    """An Android security patch level: '2024-05-01', or epoch milliseconds (Admin SDK)."""
    if value in (None, "", "0", 0):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, UTC).date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise RecordError(name, f"{value!r} is not a patch level", "like 2024-05-01") from None


def email_of(*candidates: Any) -> str | None:
    for value in candidates:
        text = str(value or "").strip().lower()
        if EMAIL.match(text):
            return text
    return None


def text(record: Mapping[str, Any], name: str, limit: int = 256) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise RecordError(name, "must be text, not a structure")
    result = str(value).strip()
    if len(result) > limit:
        raise RecordError(name, f"is longer than {limit} characters")
    return result


def section(record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = record.get(name) or {}
    if not isinstance(value, dict):
        raise RecordError(name, "must be an object")
    return value


def app_of(
    space: AppPlatform, ident: str, name: str, version: str = "", publisher: str = ""
) -> InstalledApp:
    """An app row; ids that are not package names or bundle ids make a name-only row."""
    ident = ident.strip()
    ref = AppRef(space, ident) if ident and _APP_ID.match(ident) else None
    name = name.strip()
    if ref is None and not name:
        raise RecordError("apps", "an app needs an id or a name")
    return InstalledApp(ref, name[:255], version.strip()[:64], publisher.strip()[:255], space)


def app_list(
    rows: Any, name: str, build: Callable[[Mapping[str, Any]], InstalledApp | None]
) -> frozenset[InstalledApp]:
    if not isinstance(rows, list):
        raise RecordError(name, "must be a list")
    if len(rows) > MAX_APPS_PER_DEVICE:
        raise RecordError(
            name,
            f"lists {len(rows)} apps, more than {MAX_APPS_PER_DEVICE}",
            "check the export: no device has that many apps",
        )
    apps = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RecordError(f"{name}[{i}]", "must be an object")
        try:
            app = build(row)
        except RecordError as err:
            raise RecordError(f"{name}[{i}].{err.field}", err.message, err.fix) from None
        if app is not None:
            apps.add(app)
    return frozenset(apps)


@dataclass
class ReportParts:
    """The vendor-independent parts of one device record."""

    source: str
    source_id: str
    platform: Platform
    ownership: Ownership = Ownership.UNKNOWN
    enrollment: Enrollment = Enrollment.UNKNOWN
    owner: str | None = None
    os_version: str = ""
    android_patch: date | None = None
    name: str = ""
    model: str = ""
    serial: str = ""
    imei: tuple[str, ...] = ()
    eas: tuple[str, ...] = ()
    mail_access: bool = False
    observed_at: datetime | None = None
    apps: frozenset[InstalledApp] | None = None  # None: the record has no app section

    def report(self) -> SourceReport:
        device = Device(
            key="",
            platform=self.platform,
            owner=self.owner,
            ownership=self.ownership,
            os_version=self.os_version[:64],
            android_patch=self.android_patch,
            mail=MailIdentities(self.eas),
            has_mail_access=self.mail_access or bool(self.eas),
            apps=self.apps or frozenset(),
            name=self.name[:256],
            model=self.model[:128],
            serial=self.serial[:64],
            last_seen=self.observed_at,
        )
        return SourceReport(
            self.source,
            device,
            self.source_id,
            self.observed_at,
            self.imei,
            apps_known=self.apps is not None,
            enrollment=self.enrollment,
        )


@dataclass
class BatchBuilder:
    """Collects reports, rejects and warnings for one file; rejects duplicate device ids."""

    source: str
    origin: str
    batch: ImportBatch = field(init=False)
    _seen: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.batch = ImportBatch(self.source, self.origin)

    def add(self, where: str, build: Callable[[], ReportParts | None]) -> None:
        self.batch.rows += 1
        try:
            parts = build()
        except RecordError as err:
            self.reject(where, err.field, err.message, err.fix)
            return
        if parts is None:
            return
        first = self._seen.get(parts.source_id)
        if first is not None:
            self.reject(
                where, "id", f"device {parts.source_id} is also at {first}", "export it once"
            )
            return
        self._seen[parts.source_id] = where
        if parts.owner is None:
            self.warn(where, "owner", f"device {parts.source_id} has no owner", _NO_OWNER_FIX)
        self.batch.reports.append(parts.report())

    def reject(self, where: str, name: str, message: str, fix: str = "") -> None:
        self.batch.rejected.append(Problem(message, name, fix, f"{self.origin} {where}"))

    def warn(self, where: str, name: str, message: str, fix: str = "") -> None:
        self.batch.warnings.append(Problem(message, name, fix, f"{self.origin} {where}"))


_NO_OWNER_FIX = "imported without an owner; sync the directory (aliases) or fix it in the MDM"


def require_id(record: Mapping[str, Any], name: str) -> str:
    ident = text(record, name, 200)
    if not ident:
        raise RecordError(name, "is missing", "every device record needs its id")
    return ident


def require_platform(value: str | None, name: str) -> Platform:
    platform = platform_of(value)
    if platform is None:
        raise RecordError(name, f"{value!r} is not a platform we know", "iOS, iPadOS or Android")
    return platform
