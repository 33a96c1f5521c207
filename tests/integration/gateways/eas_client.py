"""A minimal Exchange ActiveSync client: OPTIONS and a WBXML FolderSync (MS-ASCMD 2.2.1.5)."""

from __future__ import annotations

import base64
import http.client
import ssl
from dataclasses import dataclass

from appwarden.core.gateways.eas import encode_eas_query

PATH = "/SOGo/Microsoft-Server-ActiveSync"
# WBXML 1.3, public id 1, UTF-8, no string table; switch to code page 7 (FolderHierarchy);
# <FolderSync><SyncKey>0</SyncKey></FolderSync>
FOLDER_SYNC = (
    bytes([0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03]) + b"0" + bytes([0x00, 0x01, 0x01])
)


@dataclass
class EasResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def request(
    port: int,
    method: str,
    query: str,
    body: bytes = b"",
    user: str = "alice",
    tls: ssl.SSLContext | None = None,
) -> EasResponse:
    conn: http.client.HTTPConnection
    if tls is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=30)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    auth = base64.b64encode(f"{user}:secret".encode()).decode()
    headers = {
        "Authorization": f"Basic {auth}",
        "MS-ASProtocolVersion": "14.1",
        "User-Agent": "AppWarden-Test/1.0",
        "Content-Type": "application/vnd.ms-sync.wbxml",
    }
    try:
        conn.request(
            method, PATH + (f"?{query}" if query else ""), body=body or None, headers=headers
        )
        resp = conn.getresponse()
        return EasResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def folder_sync(
    port: int,
    device: str,
    user: str = "alice",
    encoded: bool = False,
    tls: ssl.SSLContext | None = None,
) -> EasResponse:
    if encoded:
        query = encode_eas_query(device, "Android", 9, user)
    else:
        query = f"Cmd=FolderSync&User={user}&DeviceId={device}&DeviceType=Android"
    return request(port, "POST", query, FOLDER_SYNC, user, tls)
