"""Reading exported text files whatever their encoding (UTF-8, UTF-8 with BOM, UTF-16)."""

from __future__ import annotations

from pathlib import Path

from appwarden.core.errors import ImportRejected, Problem

MAX_FILE_BYTES = 2_000_000_000


def decode_bytes(raw: bytes, origin: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif raw.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif len(raw) >= 4 and raw[1:4:2] == b"\x00\x00" and raw[0] != 0:
        encoding = "utf-16-le"  # UTF-16 without a BOM, as some exports write it
    else:
        encoding = "utf-8"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            Problem(
                f"is not valid {encoding} text (byte {exc.start})",
                file=origin,
                line=line,
                fix="export the file as UTF-8 or UTF-16",
            )
        ) from exc


def read_text(path: Path) -> str:
    origin = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportRejected(Problem("is larger than 2 GB", file=origin, fix="split it"))
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportRejected(Problem("no such file", file=origin, fix="check the path")) from exc
    except OSError as exc:
        raise ImportRejected(Problem(f"cannot read: {exc.strerror}", file=origin)) from exc
    if not raw.strip():
        raise ImportRejected(Problem("is empty", file=origin, fix="export the data again"))
    return decode_bytes(raw, origin)
