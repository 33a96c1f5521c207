"""Exchange ActiveSync request URIs (MS-ASHTTP 2.2.1.1.1).

Plain form: `/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=ABC&DeviceType=iPhone`
(keys case-insensitive). Base64 form (protocol 12.1+): the whole query is one base64 string of
bytes: protocol version (x10), command code, locale (2 bytes), then length-prefixed DeviceId,
policy key and DeviceType, then tag/length/value parameters (tag 7 = User).

A DeviceId of printable characters is kept as text; a binary one is keyed as lower-case hex.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

EAS_PATH = "/microsoft-server-activesync"
MAX_DEVICE_ID = 128  # MS-ASHTTP: at most 32 characters; we accept more and reject nonsense

# MS-ASHTTP 2.2.1.1.1.1.2 command codes (base64 form)
COMMANDS = {
    0: "Sync",
    1: "SendMail",
    2: "SmartForward",
    3: "SmartReply",
    4: "GetAttachment",
    9: "FolderSync",
    10: "FolderCreate",
    11: "FolderDelete",
    12: "FolderUpdate",
    13: "MoveItems",
    14: "GetItemEstimate",
    15: "MeetingResponse",
    16: "Search",
    17: "Settings",
    18: "Ping",
    19: "ItemOperations",
    20: "Provision",
    21: "ResolveRecipients",
    22: "ValidateCert",
}
_TAG_USER = 7


@dataclass(frozen=True, slots=True)
class EasQuery:
    device_id: str = ""
    user: str = ""
    device_type: str = ""
    command: str = ""
    protocol: str = ""  # "14.1" in the base64 form; the plain form carries it in a header
    encoded: bool = False


class EasQueryError(ValueError):
    """The query looks like EAS but cannot be read."""


def is_eas_path(path: str) -> bool:
    return path.rstrip("/").lower().endswith(EAS_PATH)


def split_uri(uri: str) -> tuple[str, str]:
    path, _, query = uri.partition("?")
    return path, query


def parse_eas_query(query: str) -> EasQuery:
    """Read an EAS query string in either form; an empty query gives an empty EasQuery."""
    if not query:
        return EasQuery()
    if "&" in query or _looks_plain(query):
        return _plain(query)
    return _encoded(query)


def _looks_plain(query: str) -> bool:
    # base64 may end in '=' padding, so '=' alone does not mean key=value
    key, sep, _ = query.partition("=")
    return bool(sep) and key.lower() in ("cmd", "user", "deviceid", "devicetype")


def unquote(text: str, plus: bool = True) -> str:
    """Percent-decoding of a query component (UTF-8; a malformed escape stays as it is)."""
    if plus:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%" and _is_hex(text[i + 1 : i + 3]):
            out.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            out += c.encode()
            i += 1
    return out.decode("utf-8", "replace")


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair)


def _plain(query: str) -> EasQuery:
    values: dict[str, str] = {}
    encoded = "%" in query or "+" in query  # rare: decode only then (this is the hot path)
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            if encoded:
                key, value = unquote(key), unquote(value)
            values.setdefault(key.lower(), value)
    device = values.get("deviceid", "").strip()
    _check_device(device)
    return EasQuery(
        device_id=device,
        user=values.get("user", "").strip(),
        device_type=values.get("devicetype", "").strip(),
        command=values.get("cmd", ""),
    )


def _check_device(device: str) -> None:
    if len(device) > MAX_DEVICE_ID or any(c in device for c in ",;\r\n\t "):
        raise EasQueryError("DeviceId must be at most 128 characters without commas or spaces")


def _encoded(query: str) -> EasQuery:
    text = unquote(query, plus=False)  # '+' is a base64 digit here
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EasQueryError("query is neither key=value pairs nor base64") from exc
    if len(raw) < 5:
        raise EasQueryError("base64 EAS query is too short")
    version, command = raw[0], raw[1]
    pos = 4  # skip the 2-byte locale
    device, pos = _field(raw, pos)
    _policy_key, pos = _field(raw, pos)
    device_type, pos = _field(raw, pos)
    user = ""
    while pos < len(raw):
        if pos + 2 > len(raw):
            raise EasQueryError("base64 EAS query ends inside a parameter")
        tag = raw[pos]
        value, pos = _field(raw, pos + 1)
        if tag == _TAG_USER:
            user = value.decode("utf-8", "replace")
    return EasQuery(
        device_id=_device_text(device),
        user=user.strip(),
        device_type=device_type.decode("ascii", "replace"),
        command=COMMANDS.get(command, str(command)),
        protocol=f"{version // 10}.{version % 10}",
        encoded=True,
    )


def _field(raw: bytes, pos: int) -> tuple[bytes, int]:
    if pos >= len(raw):
        raise EasQueryError("base64 EAS query ends before its device fields")
    length = raw[pos]
    end = pos + 1 + length
    if end > len(raw):
        raise EasQueryError("base64 EAS query has a field longer than the query")
    return raw[pos + 1 : end], end


def _device_text(device: bytes) -> str:
    if device and all(0x21 <= b < 0x7F and b not in b",;" for b in device):
        return device.decode("ascii")
    return device.hex()


def encode_eas_query(
    device_id: str, device_type: str, command: int = 9, user: str = "", version: int = 141
) -> str:
    """The base64 form (for tests and benchmarks)."""
    dev = device_id.encode()
    out = bytes([version, command, 0x09, 0x04, len(dev)]) + dev + b"\x00"
    out += bytes([len(device_type)]) + device_type.encode()
    if user:
        out += bytes([_TAG_USER, len(user.encode())]) + user.encode()
    return base64.b64encode(out).decode()
