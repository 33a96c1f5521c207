"""Writing our JSON Lines format (docs/import-formats.md): employees and devices, one per line.

Used to export an inventory for another AppWarden, and by tests and benchmarks to turn the
generated demo fleet into a realistic import file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import msgspec

from appwarden.core.inventory import Device, Employee
from appwarden.core.timeutil import iso

_ENCODE = msgspec.json.Encoder()


def employee_record(e: Employee) -> dict[str, Any]:
    record: dict[str, Any] = {"type": "employee", "email": e.email, "name": e.name}
    record |= {"locale": e.locale, "timezone": e.timezone, "department": e.department}
    record |= {"country": e.country, "groups": sorted(e.groups)}
    if e.manager:
        record["manager"] = e.manager
    return record


def device_record(d: Device) -> dict[str, Any]:
    record: dict[str, Any] = {"key": d.key, "platform": d.platform.value, "owner": d.owner}
    record |= {"ownership": d.ownership.value, "visibility": d.visibility.value}
    record |= {"os_version": d.os_version, "name": d.name, "model": d.model, "serial": d.serial}
    if d.android_patch:
        record["android_patch"] = d.android_patch.isoformat()
    if d.mail:
        record["mail"] = {
            "eas": list(d.mail.eas_device_ids),
            "cert": list(d.mail.cert_fingerprints),
            "imap": list(d.mail.imap_ids),
        }
    record["mail_access"] = d.reaches_mail
    if d.last_seen is not None:
        record["last_seen"] = iso(d.last_seen)
    record["apps"] = [
        {"id": a.ref.identifier if a.ref else "", "name": a.name, "version": a.version}
        for a in sorted(d.apps, key=lambda a: a.key)
    ]
    return record


def write_lines(handle: IO[bytes], records: Iterable[dict[str, Any]]) -> int:
    count = 0
    for record in records:
        handle.write(_ENCODE.encode(record) + b"\n")
        count += 1
    return count


def write_jsonl(path: Path, people: Iterable[tuple[Employee, list[Device]]]) -> int:
    """Write each employee followed by their devices; returns the number of devices."""
    devices = 0
    with path.open("wb") as handle:
        for employee, owned in people:
            write_lines(handle, [employee_record(employee)])
            devices += write_lines(handle, (device_record(d) for d in owned))
    return devices
