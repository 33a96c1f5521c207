"""AppWarden's own inventory formats (documented in docs/import-formats.md).

* JSON Lines (`.jsonl`): one record per line, `{"type": "employee", ...}` or a device
  (`"type": "device"` or no type).
* JSON (`.json`): `{"employees": [...], "devices": [...]}`.
* CSV: an employees file (header has `email`) or a devices file (header has `device`), one row per
  (device, app), device columns repeated; a device without apps has one row with empty app columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from appwarden.adapters.importers.records import RecordError, device_from, employee_from
from appwarden.adapters.importers.text_files import read_text
from appwarden.core.errors import ImportRejected, Problem
from appwarden.services.inventory import ImportBatch

EMPLOYEE_COLUMNS = (
    "email",
    "name",
    "locale",
    "timezone",
    "department",
    "country",
    "groups",
    "manager",
)
DEVICE_COLUMNS = (
    "device",
    "owner",
    "platform",
    "ownership",
    "visibility",
    "os_version",
    "android_patch",
    "eas_device_id",
    "cert_fingerprint",
    "imap_id",
    "mail_access",
    "name",
    "model",
    "serial",
    "app_id",
    "app_name",
    "app_version",
    "app_publisher",
)
DEVICE_KEYS = (
    "type",
    "key",
    "owner",
    "platform",
    "ownership",
    "visibility",
    "os_version",
    "android_patch",
    "mail",
    "mail_access",
    "name",
    "model",
    "serial",
    "last_seen",
    "apps",
)
EMPLOYEE_KEYS = ("type", *EMPLOYEE_COLUMNS)
APP_KEYS = ("id", "name", "version", "publisher")


def _problem(origin: str, line: int, err: RecordError) -> Problem:
    return Problem(err.message, err.field, err.fix, origin, line)


def _unknown(record: Mapping[str, Any], allowed: Iterable[str], where: str = "") -> None:
    allowed = tuple(allowed)
    for key in record:
        if key not in allowed:
            raise RecordError(
                f"{where}{key}", "is not a known field", f"allowed: {', '.join(allowed)}"
            )


def _add_record(batch: ImportBatch, record: Any, origin: str, line: int) -> None:
    batch.rows += 1
    try:
        if not isinstance(record, Mapping):
            raise RecordError("", "each record must be a JSON object")
        kind = record.get("type", "device")
        if kind == "employee":
            _unknown(record, EMPLOYEE_KEYS)
            batch.employees.append(employee_from(record))
        elif kind == "device":
            _unknown(record, DEVICE_KEYS)
            apps = record.get("apps") or []
            if not isinstance(apps, list):
                raise RecordError("apps", "must be a list of {id, name, version, publisher}")
            for app in apps:
                if not isinstance(app, Mapping):
                    raise RecordError("apps", "each app must be an object with an id")
                _unknown(app, APP_KEYS, "apps.")
            batch.devices.append(device_from(record, apps))
        else:
            raise RecordError("type", f"{kind!r} is not a record type", "use employee or device")
    except RecordError as err:
        batch.rejected.append(_problem(origin, line, err))


def parse_jsonl(text: str, origin: str) -> ImportBatch:
    batch = ImportBatch("jsonl", origin)
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            batch.rows += 1
            batch.rejected.append(
                Problem(
                    f"is not valid JSON ({exc.msg})",
                    file=origin,
                    line=number,
                    fix="each line must be one complete JSON object",
                )
            )
            continue
        _add_record(batch, record, origin, number)
    return batch


def parse_json(text: str, origin: str) -> ImportBatch:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            Problem(
                f"is not valid JSON ({exc.msg})",
                file=origin,
                line=exc.lineno,
                fix="check the file is complete (not truncated)",
            )
        ) from exc
    if not isinstance(data, dict) or not ({"employees", "devices"} & data.keys()):
        raise ImportRejected(
            Problem("must be an object with `employees` and/or `devices` lists", file=origin)
        )
    batch = ImportBatch("json", origin)
    for section, kind in (("employees", "employee"), ("devices", "device")):
        rows = data.get(section) or []
        if not isinstance(rows, list):
            raise ImportRejected(Problem(f"`{section}` must be a list", file=origin))
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                row = {"type": kind, **row}
            _add_record(batch, row, f"{origin} {section}[{i}]", 0)
    for problem in batch.rejected:
        object.__setattr__(problem, "line", None)
    return batch


def parse_csv(text: str, origin: str) -> ImportBatch:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    if "email" in header and "device" not in header:
        return _csv_employees(reader, header, origin)
    if "device" in header:
        return _csv_devices(reader, header, origin)
    raise ImportRejected(
        Problem(
            "has neither an `email` column (employees) nor a `device` column (devices)",
            file=origin,
            line=1,
            fix="see docs/import-formats.md for the columns",
        )
    )


def _check_header(header: list[str], allowed: tuple[str, ...], origin: str) -> None:
    extra = [h for h in header if h not in allowed]
    if extra:
        raise ImportRejected(
            Problem(
                f"unknown column(s): {', '.join(extra)}",
                file=origin,
                line=1,
                fix=f"allowed columns: {', '.join(allowed)}",
            )
        )


def _csv_employees(reader: csv.DictReader[str], header: list[str], origin: str) -> ImportBatch:
    _check_header(header, EMPLOYEE_COLUMNS, origin)
    batch = ImportBatch("csv", origin)
    seen: dict[str, int] = {}
    for row in reader:
        batch.rows += 1
        line = reader.line_num
        if None in row:
            batch.rejected.append(Problem("has more cells than the header", file=origin, line=line))
            continue
        try:
            employee = employee_from(row)
        except RecordError as err:
            batch.rejected.append(_problem(origin, line, err))
            continue
        if employee.email in seen:
            batch.rejected.append(
                Problem(
                    f"duplicates the row on line {seen[employee.email]}", "email", "", origin, line
                )
            )
            continue
        seen[employee.email] = line
        batch.employees.append(employee)
    return batch


def _csv_devices(reader: csv.DictReader[str], header: list[str], origin: str) -> ImportBatch:
    _check_header(header, DEVICE_COLUMNS, origin)
    batch = ImportBatch("csv", origin)
    grouped: dict[str, tuple[int, dict[str, str], list[dict[str, str]]]] = {}  # key -> first
    bad: set[str] = set()
    for row in reader:
        batch.rows += 1
        line = reader.line_num
        if None in row:
            batch.rejected.append(Problem("has more cells than the header", file=origin, line=line))
            continue
        key = (row.get("device") or "").strip()
        if key in grouped and _device_part(row) != _device_part(grouped[key][1]):
            batch.rejected.append(
                Problem(
                    f"device {key} has different device columns than on line {grouped[key][0]}",
                    "device",
                    "repeat the same device values on every row of a device",
                    origin,
                    line,
                )
            )
            bad.add(key)
            continue
        _, _, app_rows_of_device = grouped.setdefault(key, (line, row, []))
        if row.get("app_id") or row.get("app_name"):
            app_rows_of_device.append(row)
    for key, (line, row, app_rows) in grouped.items():
        if key in bad:
            continue
        record = {
            "key": key,
            "owner": row.get("owner"),
            "platform": row.get("platform"),
            "ownership": row.get("ownership"),
            "visibility": row.get("visibility"),
            "os_version": row.get("os_version"),
            "android_patch": row.get("android_patch"),
            "mail": {
                "eas": row.get("eas_device_id"),
                "cert": row.get("cert_fingerprint"),
                "imap": row.get("imap_id"),
            },
            "mail_access": row.get("mail_access"),
            "name": row.get("name"),
            "model": row.get("model"),
            "serial": row.get("serial"),
        }
        apps: list[dict[str, str | None]] = [
            {
                "id": a.get("app_id"),
                "name": a.get("app_name"),
                "version": a.get("app_version"),
                "publisher": a.get("app_publisher"),
            }
            for a in app_rows
        ]
        try:
            batch.devices.append(device_from(record, apps))
        except RecordError as err:
            batch.rejected.append(_problem(origin, line, err))
    return batch


def _device_part(row: Mapping[str, str | None]) -> tuple[str, ...]:
    return tuple((row.get(c) or "").strip() for c in DEVICE_COLUMNS[:14])


def parse_file(path: Path) -> ImportBatch:
    text = read_text(path)
    origin = str(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl" or suffix == ".ndjson":
        return parse_jsonl(text, origin)
    if suffix == ".json":
        return parse_json(text, origin)
    if suffix in (".csv", ".txt"):
        return parse_csv(text, origin)
    raise ImportRejected(
        Problem(
            f"unknown file type {suffix!r}",
            file=origin,
            fix="use .csv, .json or .jsonl (our formats), or --source for an MDM export",
        )
    )
