"""Our JSON Lines format, streamed: a file of any size in chunks, in bounded memory.

Device lines are decoded straight into typed structs (unknown fields and wrong types are
refused with the field's path); app rows that repeat across devices are validated once. Employee
lines are rare and take the general path. Duplicate device keys are rejected with the line of
the first occurrence.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import msgspec

from appwarden.adapters.importers.native import _add_record
from appwarden.adapters.importers.records import (
    MAX_APPS_PER_DEVICE,
    RecordError,
    cached_app,
    device_from,
)
from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.inventory import InstalledApp, Platform
from appwarden.services.inventory import ImportBatch

CHUNK = 2000


class AppLine(msgspec.Struct, forbid_unknown_fields=True, frozen=True, cache_hash=True):
    id: str = ""
    name: str = ""
    version: str = ""
    publisher: str = ""


class MailLine(msgspec.Struct, forbid_unknown_fields=True):
    eas: list[str] | str | None = None
    cert: list[str] | str | None = None
    imap: list[str] | str | None = None


class DeviceLine(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    platform: str
    type: str = "device"
    owner: str | None = None
    ownership: str | None = None
    visibility: str | None = None
    os_version: str | None = None
    android_patch: str | None = None
    mail: MailLine | None = None
    mail_access: bool | str | None = None
    name: str | None = None
    model: str | None = None
    serial: str | None = None
    last_seen: str | None = None
    apps: list[AppLine] = msgspec.field(default_factory=list)


_DECODE = msgspec.json.Decoder(DeviceLine)
_ROWS: dict[str, dict[AppLine, InstalledApp]] = {}  # per app platform: decoded row -> app
_ROWS_LIMIT = 500_000


def _open(path: Path) -> tuple[BinaryIO | io.TextIOWrapper, str]:
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise ImportRejected(Problem("no such file", file=str(path), fix="check the path")) from exc
    except OSError as exc:
        raise ImportRejected(Problem(f"cannot read: {exc.strerror}", file=str(path))) from exc
    head = handle.peek(4)[:4]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return io.TextIOWrapper(handle, encoding="utf-16"), "utf-16"
    if len(head) >= 4 and head[1:4:2] == b"\x00\x00" and head[0] != 0:
        return io.TextIOWrapper(handle, encoding="utf-16-le"), "utf-16-le"
    if head.startswith(codecs.BOM_UTF8):
        handle.read(3)
    return handle, "utf-8"


def iter_jsonl(path: Path, chunk: int = CHUNK) -> Iterator[ImportBatch]:
    """Batches of at most `chunk` records; the last one may be smaller (or empty)."""
    origin = str(path)
    handle, _ = _open(path)
    seen: dict[str, int] = {}
    batch = ImportBatch("jsonl", origin)
    with handle:
        try:
            lines = cast(Iterator[bytes | str], handle)
            for number, raw in enumerate(lines, 1):
                line = raw.strip()
                if line:
                    _add_line(batch, line, origin, number, seen)
                if batch.rows >= chunk:
                    yield batch
                    batch = ImportBatch("jsonl", origin)
        except UnicodeDecodeError as exc:
            raise ImportRejected(
                Problem(f"is not valid text ({exc.reason})", file=origin, fix="export as UTF-8")
            ) from exc
    if not seen and not batch.rows:
        raise ImportRejected(Problem("is empty", file=origin, fix="export the data again"))
    yield batch


def _add_line(
    batch: ImportBatch, line: bytes | str, origin: str, number: int, seen: dict[str, int]
) -> None:
    if (b'"employee"' in line) if isinstance(line, bytes) else ('"employee"' in line):
        _add_record(batch, _loads(line), origin, number)
        return
    batch.rows += 1
    try:
        record = _DECODE.decode(line)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$")
        field = path.rstrip("`").lstrip(".") or ""
        batch.rejected.append(Problem(message, field, "see docs/import-formats.md", origin, number))
        return
    except msgspec.DecodeError as exc:
        batch.rejected.append(
            Problem(
                f"is not valid JSON ({exc})", "", "one complete object per line", origin, number
            )
        )
        return
    first = seen.get(record.key)
    if first is not None:
        batch.rejected.append(
            Problem(f"duplicates device {record.key} of line {first}", "key", "", origin, number)
        )
        return
    try:
        device = _device(record)
    except RecordError as err:
        batch.rejected.append(Problem(err.message, err.field, err.fix, origin, number))
        return
    seen[record.key] = number
    batch.devices.append(device)


def _loads(line: bytes | str) -> Any:
    try:
        return msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None  # _add_record reports a record that is not an object


def _device(record: DeviceLine) -> Any:
    if record.type != "device":
        raise RecordError("type", f"{record.type!r} is not a record type", "employee or device")
    if len(record.apps) > MAX_APPS_PER_DEVICE:
        raise RecordError(
            "apps", f"lists {len(record.apps)} apps, more than {MAX_APPS_PER_DEVICE}", "check it"
        )
    fields = msgspec.structs.asdict(record)
    del fields["apps"]
    if record.mail is not None:
        fields["mail"] = msgspec.structs.asdict(record.mail)
    platform = _platform(record.platform)
    space = platform.app_space.value if platform else None
    apps: list[InstalledApp | None] = []
    if space is not None:
        known = _ROWS.setdefault(space, {})
        if len(known) > _ROWS_LIMIT:
            known.clear()
        apps = [known.get(app) for app in record.apps]  # one C-level lookup per row
        for i, app in enumerate(record.apps):
            if apps[i] is None:
                apps[i] = known[app] = _app(space, app, i)
    return device_from(fields, (), frozenset(apps))  # type: ignore[arg-type]


def _app(space: str, app: AppLine, index: int) -> InstalledApp:
    try:
        return cached_app(space, app.id, app.name, app.version, app.publisher)
    except RecordError as err:
        name = f"apps[{index}].{err.field.split('.')[-1]}"
        raise RecordError(name, err.message, err.fix) from None


def _platform(text: str) -> Platform | None:
    try:
        return Platform(text.strip().lower())
    except ValueError:
        return None  # device_from names the field and the allowed values
