"""Google: Android Management API devices and Admin SDK Directory mobile devices.

* AMAPI `enterprises.devices.list`: `{"devices": [Device, ...], "nextPageToken": ...}`. Apps come
  from `applicationReports` (only when the policy sets `applicationReportsEnabled`; `state`
  INSTALLED). `managementMode` DEVICE_OWNER sees every app, PROFILE_OWNER (work profile) only the
  work profile's. AMAPI knows no email: the owner is taken from `enrollmentTokenData` when it is
  an email address or JSON with an `email` member.
* Admin SDK `mobiledevices.list`: `{"mobiledevices": [MobileDevice, ...]}`. `applications` exist
  for Android only; Google Sync and iOS Sync devices reveal no apps (mail only).
  `securityPatchLevel` is a number (epoch milliseconds) there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from appwarden.adapters.importers.records import RecordError
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
    section,
    text,
    version_of,
)
from appwarden.core.inventory import InstalledApp, Ownership, Platform
from appwarden.core.visibility import Enrollment
from appwarden.services.inventory import ImportBatch

AMAPI = "google-amapi"
ADMIN = "google-admin"
MODES = {"DEVICE_OWNER": Enrollment.FULLY_MANAGED, "PROFILE_OWNER": Enrollment.WORK_PROFILE}
OWNERSHIP = {"COMPANY_OWNED": Ownership.CORPORATE, "PERSONALLY_OWNED": Ownership.PERSONAL}
SYNC_TYPES = ("GOOGLE_SYNC", "IOS_SYNC")


def parse_amapi(path: Path) -> ImportBatch:
    data = load_json(path)
    builder = BatchBuilder(AMAPI, str(path))
    if isinstance(data, dict) and data.get("nextPageToken"):
        builder.warn("", "nextPageToken", "this is one page of several", "export every page")
    for i, record in enumerate(records_in(data, ("devices",), str(path))):
        where = f"devices[{i}]"
        builder.add(where, partial(_amapi, record, builder, where))
    return builder.batch


def _amapi(record: Any, builder: BatchBuilder, where: str) -> ReportParts | None:
    if not isinstance(record, dict):
        raise RecordError("", "each device must be a JSON object")
    name = text(record, "name")
    if not name.startswith("enterprises/") or "/devices/" not in name:
        raise RecordError("name", f"{name!r} is not a device name", "enterprises/E/devices/D")
    if text(record, "state") == "DELETED":
        builder.warn(where, "state", f"{name} is deleted; skipped")
        return None
    software = section(record, "softwareInfo")
    hardware = section(record, "hardwareInfo")
    network = section(record, "networkInfo")
    apps = None
    if "applicationReports" in record:
        apps = app_list(record["applicationReports"], "applicationReports", _amapi_app)
    else:
        builder.warn(where, "applicationReports", "no app list", "set applicationReportsEnabled")
    return ReportParts(
        AMAPI,
        name.rsplit("/", 1)[-1],
        Platform.ANDROID,
        OWNERSHIP.get(text(record, "ownership"), Ownership.UNKNOWN),
        MODES.get(text(record, "managementMode"), Enrollment.UNKNOWN),
        owner=_token_email(record.get("enrollmentTokenData")),
        os_version=version_of(text(software, "androidVersion")),
        android_patch=patch_of(
            software.get("securityPatchLevel"), "softwareInfo.securityPatchLevel"
        ),
        name=text(hardware, "model"),
        model=" ".join(v for v in (text(hardware, "brand"), text(hardware, "model")) if v),
        serial=text(hardware, "serialNumber"),
        imei=tuple(v for v in (text(network, "imei"),) if v),
        observed_at=instant_of(
            record.get("lastStatusReportTime") or record.get("lastPolicySyncTime"),
            "lastStatusReportTime",
        ),
        apps=apps,
    )


def _amapi_app(app: Mapping[str, Any]) -> InstalledApp | None:
    if text(app, "state") == "REMOVED":
        return None
    package = text(app, "packageName")
    if not package:
        raise RecordError("packageName", "is missing")
    space = Platform.ANDROID.app_space
    return app_of(space, package, text(app, "displayName"), text(app, "versionName"))


def _token_email(data: Any) -> str | None:
    if not data:
        return None
    found = email_of(data)
    if found is None and isinstance(data, str) and data.strip().startswith("{"):
        try:
            found = email_of(json.loads(data).get("email"))
        except (ValueError, AttributeError):
            return None
    return found


def parse_admin(path: Path) -> ImportBatch:
    data = load_json(path)
    builder = BatchBuilder(ADMIN, str(path))
    if isinstance(data, dict) and data.get("nextPageToken"):
        builder.warn("", "nextPageToken", "this is one page of several", "export every page")
    for i, record in enumerate(records_in(data, ("mobiledevices",), str(path))):
        builder.add(f"mobiledevices[{i}]", partial(_admin, record))
    return builder.batch


def _admin(record: Any) -> ReportParts:
    if not isinstance(record, dict):
        raise RecordError("", "each device must be a JSON object")
    ident = text(record, "resourceId")
    if not ident:
        raise RecordError("resourceId", "is missing")
    kind = text(record, "type")
    os_text = text(record, "os")
    platform = platform_of(os_text) or platform_of(kind)
    if platform is None:
        raise RecordError("os", f"{os_text!r} ({kind}) is not a mobile platform we know")
    emails = record.get("email") or []
    if not isinstance(emails, list):
        raise RecordError("email", "must be a list")
    if kind in SYNC_TYPES:
        enrollment, apps = Enrollment.MAIL_ONLY, frozenset[InstalledApp]()
    else:
        on_owner = record.get("managedAccountIsOnOwnerProfile") is True
        enrollment = Enrollment.DEVICE_ENROLLMENT if on_owner else Enrollment.WORK_PROFILE
        apps = app_list(record.get("applications") or [], "applications", _admin_app)
    device_id = text(record, "deviceId")
    return ReportParts(
        ADMIN,
        ident,
        platform,
        enrollment=enrollment,
        owner=email_of(*emails),
        os_version=version_of(os_text) or text(record, "releaseVersion"),
        android_patch=patch_of(record.get("securityPatchLevel"), "securityPatchLevel")
        if platform is Platform.ANDROID
        else None,
        name=text(record, "model"),
        model=" ".join(v for v in (text(record, "manufacturer"), text(record, "model")) if v),
        serial=text(record, "serialNumber"),
        imei=tuple(v for v in (text(record, "imei"),) if v),
        eas=(device_id,) if kind in SYNC_TYPES and device_id else (),
        mail_access=True,
        observed_at=instant_of(record.get("lastSync"), "lastSync"),
        apps=apps,
    )


def _admin_app(app: Mapping[str, Any]) -> InstalledApp:
    package = text(app, "packageName")
    if not package:
        raise RecordError("packageName", "is missing")
    return app_of(
        Platform.ANDROID.app_space, package, text(app, "displayName"), text(app, "versionName")
    )
