"""Jamf Pro API: `GET /api/v2/mobile-devices/detail?section=GENERAL&section=HARDWARE&
section=USER_AND_LOCATION&section=NETWORK&section=APPLICATIONS` pages,
`{"totalCount": n, "results": [MobileDeviceInventory, ...]}`.

`general.deviceOwnershipType` says how the device is enrolled: `Institutional` (corporate; all
apps, supervised or not), `PersonalDeviceProfile`, `UserEnrollment` and
`AccountDrivenUserEnrollment` (personal; only managed apps are visible).
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
    records_in,
    require_id,
    section,
    text,
    version_of,
)
from appwarden.core.inventory import InstalledApp, Ownership, Platform
from appwarden.core.visibility import Enrollment
from appwarden.services.inventory import ImportBatch

SOURCE = "jamf"
OWNERSHIP_TYPES = {
    "Institutional": (Ownership.CORPORATE, Enrollment.DEVICE_ENROLLMENT),
    "PersonalDeviceProfile": (Ownership.PERSONAL, Enrollment.USER_ENROLLMENT),
    "UserEnrollment": (Ownership.PERSONAL, Enrollment.USER_ENROLLMENT),
    "AccountDrivenUserEnrollment": (Ownership.PERSONAL, Enrollment.USER_ENROLLMENT),
    "AccountDrivenDeviceEnrollment": (Ownership.CORPORATE, Enrollment.DEVICE_ENROLLMENT),
}


def parse(path: Path) -> ImportBatch:
    data = load_json(path)
    builder = BatchBuilder(SOURCE, str(path))
    records = records_in(data, ("results",), str(path))
    total = data.get("totalCount") if isinstance(data, dict) else None
    if isinstance(total, int) and total > len(records):
        builder.warn(
            "", "totalCount", f"{total} devices, this page has {len(records)}", "export every page"
        )
    for i, record in enumerate(records):
        builder.add(f"results[{i}]", partial(_device, record))
    return builder.batch


def _device(record: Any) -> ReportParts | None:
    if not isinstance(record, dict):
        raise RecordError("", "each device must be a JSON object")
    ident = require_id(record, "mobileDeviceId")
    general = section(record, "general")
    hardware = section(record, "hardware")
    people = section(record, "userAndLocation")
    network = section(record, "network")
    kind = text(record, "deviceType").lower()
    if kind not in ("ios", ""):
        return None  # Apple TV, Watch, Vision: not mail devices
    model = text(hardware, "model")
    platform = Platform.IPADOS if "ipad" in model.lower() else Platform.IOS
    ownership, enrollment = OWNERSHIP_TYPES.get(
        text(general, "deviceOwnershipType"), (Ownership.UNKNOWN, Enrollment.UNKNOWN)
    )
    if ownership is Ownership.CORPORATE and general.get("supervised") is True:
        enrollment = Enrollment.FULLY_MANAGED
    apps = None
    if "applications" in record:
        apps = app_list(record["applications"], "applications", lambda a: _app(a, platform))
    return ReportParts(
        SOURCE,
        ident,
        platform,
        ownership,
        enrollment,
        owner=email_of(people.get("emailAddress"), people.get("username")),
        os_version=version_of(text(general, "osVersion")),
        name=text(general, "displayName"),
        model=model,
        serial=text(hardware, "serialNumber"),
        imei=tuple(v for v in (text(network, "imei"),) if v),
        observed_at=instant_of(
            general.get("lastInventoryUpdateDate"), "general.lastInventoryUpdateDate"
        ),
        apps=apps,
    )


def _app(app: Mapping[str, Any], platform: Platform) -> InstalledApp:
    return app_of(
        platform.app_space,
        text(app, "identifier"),
        text(app, "name"),
        text(app, "shortVersion") or text(app, "version"),
    )
