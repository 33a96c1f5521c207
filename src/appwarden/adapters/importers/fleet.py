"""Fleet (fleetdm): host details with their software.

`GET /api/v1/fleet/hosts/:id` gives `{"host": {..., "software": [...]}}`; `GET
/api/v1/fleet/hosts?populate_software=true&device_mapping=true` gives `{"hosts": [...]}`. A
software item carries `bundle_identifier` (Apple) or `application_id` (Android) when known; its
version is `version` or the first of `installed_versions`. iOS/iPadOS data comes from Fleet's
MDM: `mdm.enrollment_status` "On (personal)" means a BYOD user enrolment (managed apps only).
The owner is the first email of `device_mapping` (or `end_users`).
"""

from __future__ import annotations

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
    platform_of,
    records_in,
    section,
    text,
    version_of,
)
from appwarden.core.inventory import InstalledApp, Ownership, Platform
from appwarden.core.visibility import Enrollment
from appwarden.services.inventory import ImportBatch

SOURCE = "fleet"
APP_SOURCES = frozenset({"apps", "ios_apps", "ipados_apps", "android_apps", "programs"})
STATUS = {
    "On (automatic)": (Ownership.CORPORATE, Enrollment.FULLY_MANAGED),
    "On (manual)": (Ownership.UNKNOWN, Enrollment.DEVICE_ENROLLMENT),
    "On (personal)": (Ownership.PERSONAL, Enrollment.USER_ENROLLMENT),
}


def parse(path: Path) -> ImportBatch:
    data = load_json(path)
    builder = BatchBuilder(SOURCE, str(path))
    if isinstance(data, dict) and isinstance(data.get("host"), dict):
        records = [data["host"]]
    else:
        records = records_in(data, ("hosts",), str(path))
    for i, record in enumerate(records):
        builder.add(f"hosts[{i}]", partial(_host, record))
    return builder.batch


def _host(record: Any) -> ReportParts:
    if not isinstance(record, dict):
        raise RecordError("", "each host must be a JSON object")
    ident = text(record, "id")
    if not ident:
        raise RecordError("id", "is missing")
    platform = platform_of(text(record, "platform"))
    if platform is None:
        raise RecordError("platform", f"{text(record, 'platform')!r} is not a platform we know")
    mdm = section(record, "mdm")
    ownership, enrollment = STATUS.get(text(mdm, "enrollment_status"), (Ownership.UNKNOWN, None))
    if enrollment is None:  # osquery on a computer sees every installed program
        mobile = platform in (Platform.IOS, Platform.IPADOS, Platform.ANDROID)
        enrollment = Enrollment.UNKNOWN if mobile else Enrollment.FULLY_MANAGED
    apps = None
    if "software" in record:
        apps = app_list(record["software"] or [], "software", partial(_software, platform))
    return ReportParts(
        SOURCE,
        ident,
        platform,
        ownership,
        enrollment,
        owner=_owner(record),
        os_version=version_of(text(record, "os_version")),
        name=text(record, "display_name") or text(record, "computer_name"),
        model=text(record, "hardware_model"),
        serial=text(record, "hardware_serial"),
        observed_at=instant_of(
            record.get("seen_time") or record.get("detail_updated_at"), "seen_time"
        ),
        apps=apps,
    )


def _owner(record: Mapping[str, Any]) -> str | None:
    emails = []
    for key, member in (("device_mapping", "email"), ("end_users", "idp_username")):
        for item in record.get(key) or []:
            if isinstance(item, dict):
                emails.append(item.get(member))
    return email_of(*emails)


def _software(platform: Platform, item: Mapping[str, Any]) -> InstalledApp | None:
    if text(item, "source") not in APP_SOURCES:
        return None
    ident = text(item, "bundle_identifier") or text(item, "application_id")
    version = text(item, "version")
    installed = item.get("installed_versions") or []
    if not version and isinstance(installed, list) and installed:
        version = str((installed[0] or {}).get("version") or "")
    name = text(item, "name").removesuffix(".app")
    return app_of(platform.app_space, ident, name, version, text(item, "vendor"))
