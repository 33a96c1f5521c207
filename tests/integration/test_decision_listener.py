"""The raw decision listener speaks plain HTTP/1.1 correctly and refuses what it should."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from appwarden.core.decision import ALLOW, DecisionIndex, Entry
from appwarden.entrypoints.api.decision_server import (
    DecisionRouter,
    GatewayAuth,
    decide_handler,
    start_decision_server,
)
from appwarden.services.decisions import DecisionService

SECRET = "aw_gateway-secret"


async def _serve():
    service = DecisionService("t")
    service.index = DecisionIndex(
        {"device:d1": Entry("d1", ALLOW), "eas:E1": Entry("d1", ALLOW)}, 7
    )
    auth = GatewayAuth()
    auth.replace(frozenset({hashlib.sha256(SECRET.encode()).hexdigest()}))
    router = DecisionRouter(auth)

    def decide(identity):
        decision = service.decide(identity, 1.6e9)
        return decision, service.decision_id(decision)

    router.add("GET", "/v1/decide", decide_handler(decide))
    server = await start_decision_server(router, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _exchange(port: int, raw: bytes, read: int = 65536) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(read), 1.0)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        pass
    writer.close()
    return data


def _run(raw: bytes) -> bytes:
    async def go():
        server, port = await _serve()
        try:
            return await _exchange(port, raw)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(go())


AUTH = f"Authorization: Bearer {SECRET}\r\n".encode()


def test_decide_ok_and_keep_alive_pipelining():
    one = b"GET /v1/decide?eas=E1 HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n"
    data = _run(one + one.replace(b"eas=E1", b"device=d1"))
    responses = data.split(b"HTTP/1.1 ")[1:]
    assert len(responses) == 2 and all(r.startswith(b"200 OK") for r in responses)
    first = json.loads(responses[0].split(b"\r\n\r\n", 1)[1])
    assert first["effect"] == "allow" and first["device"] == "d1" and first["revision"] == 7


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET /v1/decide?eas=E1 HTTP/1.1\r\nHost: x\r\n\r\n", b"401"),
        (
            b"GET /v1/decide?eas=E1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer aw_wrong\r\n\r\n",
            b"401",
        ),
        (b"GET /v1/decide HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n", b"400"),
        (b"GET /v1/decide?eas=E1&device=d1 HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n", b"400"),
        (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", b"404"),
        (b"DELETE /v1/decide HTTP/1.1\r\nHost: x\r\n\r\n", b"405"),
        (b"GET /v1/decide?eas=" + b"A" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
        (b"NONSENSE\r\n\r\n", b"400"),
    ],
)
def test_refusals(raw, status):
    data = _run(raw)
    assert data.startswith(b"HTTP/1.1 " + status), data[:200]
    assert b"Traceback" not in data


def test_unknown_identity_is_not_an_error():
    data = _run(b"GET /v1/decide?eas=NOPE HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n")
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["effect"] == "unknown" and body["device"] is None
