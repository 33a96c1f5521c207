"""Microsoft Intune: Graph `managedDevices` / `detectedApps` JSON and the `AppInvRawData` CSV.

* `GET /deviceManagement/managedDevices?$expand=detectedApps` (or one device by id): a
  `{"value": [managedDevice, ...]}` page. Device fields as documented for `managedDevice`;
  apps from `detectedApps` when expanded (no `detectedApps` key: the file says nothing about
  apps, and apps already known are kept).
* `GET /deviceManagement/detectedApps?$expand=managedDevices`: app-centric; each detectedApp
  lists the `managedDevices` it was found on. Gives every device's full app list.
* The `AppInvRawData` report export (CSV, often UTF-16): one row per (device, app).

Graph's `detectedApp` has no bundle id, so its apps are name-only (low-confidence matches). In the
CSV, `ApplicationKey` is used as the id when it looks like a package name or bundle id.
Intune shows unmanaged apps only for corporate devices, so a personal device's list counts as
managed apps only (core.visibility).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from appwarden.adapters.importers.records import RecordError
from appwarden.adapters.importers.text_files import read_text
from appwarden.adapters.importers.vendor import (
    BatchBuilder,
    ReportParts,
    app_list,
    app_of,
    email_of,
    instant_of,
    load_json,
    patch_of,
    platform_of,
    records_in,
    require_id,
    require_platform,
    text,
    version_of,
)
from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.inventory import InstalledApp, Ownership, Platform
from appwarden.core.visibility import Enrollment
from appwarden.services.inventory import ImportBatch

SOURCE = "intune"
OWNER_TYPES = {"company": Ownership.CORPORATE, "personal": Ownership.PERSONAL}
ENROLLMENT_TYPES = {
    "appleBulkWithUser": Enrollment.FULLY_MANAGED,
    "appleBulkWithoutUser": Enrollment.FULLY_MANAGED,
    "androidEnterpriseFullyManaged": Enrollment.FULLY_MANAGED,
    "androidEnterpriseDedicatedDevice": Enrollment.FULLY_MANAGED,
    "androidEnterpriseCorporateWorkProfile": Enrollment.WORK_PROFILE,
    "appleUserEnrollment": Enrollment.USER_ENROLLMENT,
    "appleUserEnrollmentWithServiceAccount": Enrollment.USER_ENROLLMENT,
    "userEnrollment": Enrollment.DEVICE_ENROLLMENT,
    "deviceEnrollmentManager": Enrollment.DEVICE_ENROLLMENT,
    "windowsAzureADJoin": Enrollment.FULLY_MANAGED,
    "windowsAutoEnrollment": Enrollment.FULLY_MANAGED,
    "windowsCoManagement": Enrollment.FULLY_MANAGED,
}
APP_PLATFORM_ENROLLMENT = {
    "androidworkprofile": Enrollment.WORK_PROFILE,
    "androiddedicatedandfullymanaged": Enrollment.FULLY_MANAGED,
}
CSV_COLUMNS = (
    "ApplicationKey",
    "ApplicationName",
    "ApplicationPublisher",
    "ApplicationShortVersion",
    "ApplicationVersion",
    "DeviceId",
    "DeviceName",
    "OSDescription",
    "OSVersion",
    "Platform",
    "UserId",
    "EmailAddress",
    "UserName",
)
CSV_REQUIRED = ("DeviceId", "ApplicationName", "Platform")


def parse(path: Path) -> ImportBatch:
    if path.suffix.lower() in (".csv", ".txt"):
        return parse_app_inventory_csv(read_text(path), str(path))
    data = load_json(path)
    builder = BatchBuilder(SOURCE, str(path))
    records = records_in(data, ("value",), str(path))
    if isinstance(data, dict) and data.get("@odata.nextLink"):
        builder.warn("", "@odata.nextLink", "this is one page of several", "export every page")
    if records and all(_is_detected_app(r) for r in records):
        _app_centric(builder, records)
    else:
        for i, record in enumerate(records):
            builder.add(f"value[{i}]", partial(_managed_device, record))
    return builder.batch


def _is_detected_app(record: Any) -> bool:
    return isinstance(record, dict) and (
        record.get("@odata.type") == "#microsoft.graph.detectedApp" or "managedDevices" in record
    )


def _enrollment(record: Mapping[str, Any], platform: Platform, owner: Ownership) -> Enrollment:
    if text(record, "managementAgent") == "eas":
        return Enrollment.MAIL_ONLY
    found = ENROLLMENT_TYPES.get(text(record, "deviceEnrollmentType"), Enrollment.UNKNOWN)
    if found is Enrollment.DEVICE_ENROLLMENT and platform is Platform.ANDROID:
        return Enrollment.WORK_PROFILE if owner is Ownership.PERSONAL else found
    return found


def _managed_device(record: Any) -> ReportParts:
    if not isinstance(record, dict):
        raise RecordError("", "each device must be a JSON object")
    ident = require_id(record, "id")
    platform = require_platform(text(record, "operatingSystem"), "operatingSystem")
    ownership = OWNER_TYPES.get(text(record, "managedDeviceOwnerType"), Ownership.UNKNOWN)
    apps = None
    if "detectedApps" in record:
        apps = app_list(record["detectedApps"], "detectedApps", lambda a: _detected(a, platform))
    eas = text(record, "easDeviceId")
    return ReportParts(
        SOURCE,
        ident,
        platform,
        ownership,
        _enrollment(record, platform, ownership),
        owner=email_of(record.get("emailAddress"), record.get("userPrincipalName")),
        os_version=version_of(text(record, "osVersion")),
        android_patch=patch_of(
            record.get("androidSecurityPatchLevel"), "androidSecurityPatchLevel"
        ),
        name=text(record, "deviceName"),
        model=text(record, "model"),
        serial=text(record, "serialNumber"),
        imei=tuple(v for v in (text(record, "imei"),) if v),
        eas=(eas,) if eas and eas != "00000000000000000000000000000000" else (),
        mail_access=record.get("easActivated") is True,
        observed_at=instant_of(record.get("lastSyncDateTime"), "lastSyncDateTime"),
        apps=apps,
    )


def _detected(app: Mapping[str, Any], platform: Platform) -> InstalledApp:
    name = text(app, "displayName")
    return app_of(platform.app_space, "", name, text(app, "version"), text(app, "publisher"))


def _app_centric(builder: BatchBuilder, records: list[Any]) -> None:
    apps_of: dict[str, set[InstalledApp]] = {}
    facts: dict[str, tuple[Platform, Enrollment, str]] = {}
    for i, record in enumerate(records):
        where = f"value[{i}]"
        try:
            kind = text(record, "platform")
            platform = require_platform(kind, "platform")
            app = _detected(record, platform)
            devices = record.get("managedDevices")
            if not isinstance(devices, list):
                raise RecordError("managedDevices", "must list the devices the app is on")
        except RecordError as err:
            builder.reject(where, err.field, err.message, err.fix)
            continue
        enrollment = APP_PLATFORM_ENROLLMENT.get(kind.lower(), Enrollment.UNKNOWN)
        for device in devices:
            ident = str((device or {}).get("id") or "") if isinstance(device, dict) else ""
            if not ident:
                builder.reject(where, "managedDevices.id", "a device without an id")
                continue
            apps_of.setdefault(ident, set()).add(app)
            facts.setdefault(ident, (platform, enrollment, str(device.get("deviceName") or "")))
    for ident, apps in apps_of.items():
        platform, enrollment, name = facts[ident]
        parts = ReportParts(SOURCE, ident, platform, enrollment=enrollment, name=name)
        parts.apps = frozenset(apps)
        builder.batch.rows += 1
        builder.batch.reports.append(parts.report())


def parse_app_inventory_csv(content: str, origin: str) -> ImportBatch:
    """The AppInvRawData export: rows grouped by DeviceId."""
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise ImportRejected(
            Problem(
                f"missing column(s): {', '.join(missing)}",
                file=origin,
                line=1,
                fix=f"an AppInvRawData export has: {', '.join(CSV_COLUMNS)}",
            )
        )
    builder = BatchBuilder(SOURCE, origin)
    extra = [h for h in header if h not in CSV_COLUMNS]
    if extra:
        builder.warn("line 1", "header", f"ignored unknown column(s): {', '.join(extra)}")
    devices: dict[str, tuple[int, dict[str, str], dict[Any, InstalledApp]]] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            builder.reject(f"line {line}", "", "has more cells than the header")
            continue
        ident = (row.get("DeviceId") or "").strip()
        platform = platform_of(row.get("Platform"))
        if not ident or platform is None:
            name = "DeviceId" if not ident else "Platform"
            builder.reject(f"line {line}", name, f"{row.get(name)!r} is missing or unknown")
            continue
        try:
            app = app_of(
                platform.app_space,
                row.get("ApplicationKey") or "",
                row.get("ApplicationName") or "",
                row.get("ApplicationShortVersion") or row.get("ApplicationVersion") or "",
                row.get("ApplicationPublisher") or "",
            )
        except RecordError as err:
            builder.reject(f"line {line}", "ApplicationName", err.message, err.fix)
            continue
        apps = devices.setdefault(ident, (line, row, {}))[2]
        if app.key in apps:
            builder.warn(f"line {line}", "ApplicationKey", f"duplicate row for {app.name}")
        apps[app.key] = app
    for ident, (line, row, apps) in devices.items():
        builder.add(f"line {line}", partial(_csv_device, ident, row, apps))
    return builder.batch


def _csv_device(ident: str, row: Mapping[str, str], apps: dict[Any, InstalledApp]) -> ReportParts:
    platform = require_platform(row.get("Platform"), "Platform")
    return ReportParts(
        SOURCE,
        ident,
        platform,
        owner=email_of(row.get("EmailAddress"), row.get("UserName")),
        os_version=version_of(row.get("OSVersion") or row.get("OSDescription")),
        name=(row.get("DeviceName") or "").strip(),
        apps=frozenset(apps.values()),
    )
