"""Headwind MDM (open source): the `DeviceInfo` its agent posts, one per device.

Accepted: a JSON list of DeviceInfo objects, one object, `{"devices": [...]}`, or JSON Lines.
Apps are `applications[]` with the package in `pkg` (`type: "web"` entries are links, skipped).
Headwind's agent runs as device owner (`mdmMode: true`) and sees every package. Headwind knows no
email; the owner is the first of `custom1`..`custom3` that is an email address. `lastUpdate`
(epoch milliseconds) is the time of the report when present.
"""

from __future__ import annotations

import json
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
    records_in,
    text,
    version_of,
)
from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.inventory import InstalledApp, Platform
from appwarden.core.visibility import Enrollment
from appwarden.services.inventory import ImportBatch

SOURCE = "headwind"


def parse(path: Path) -> ImportBatch:
    builder = BatchBuilder(SOURCE, str(path))
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(read_text(path).splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                builder.reject(f"line {number}", "", f"is not valid JSON ({exc.msg})")
                continue
            builder.add(f"line {number}", partial(_device, record))
        return builder.batch
    data = load_json(path)
    records = records_in(data, ("devices",), str(path))
    if not records:
        raise ImportRejected(Problem("lists no devices", file=str(path)))
    for i, record in enumerate(records):
        builder.add(f"[{i}]", partial(_device, record))
    return builder.batch


def _device(record: Any) -> ReportParts:
    if not isinstance(record, dict):
        raise RecordError("", "each device must be a JSON object")
    ident = text(record, "deviceId")
    if not ident:
        raise RecordError("deviceId", "is missing", "the agent's device number")
    apps = None
    if "applications" in record:
        apps = app_list(record["applications"], "applications", _app)
    mode = record.get("mdmMode")
    return ReportParts(
        SOURCE,
        ident,
        Platform.ANDROID,
        enrollment=Enrollment.FULLY_MANAGED if mode is True else Enrollment.DEVICE_ENROLLMENT,
        owner=email_of(record.get("custom1"), record.get("custom2"), record.get("custom3")),
        os_version=version_of(text(record, "androidVersion")),
        name=text(record, "description") or ident,
        model=text(record, "model"),
        serial=text(record, "serial"),
        imei=tuple(v for v in (text(record, "imei"),) if v),
        observed_at=instant_of(record.get("lastUpdate"), "lastUpdate"),
        apps=apps,
    )


def _app(app: Mapping[str, Any]) -> InstalledApp | None:
    if text(app, "type") == "web":
        return None
    package = text(app, "pkg")
    if not package:
        raise RecordError("pkg", "is missing", "each Headwind application has its package in pkg")
    return app_of(Platform.ANDROID.app_space, package, text(app, "name"), text(app, "version"))
