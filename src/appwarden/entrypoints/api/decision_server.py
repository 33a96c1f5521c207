"""The decision listener: a minimal HTTP/1.1 server for mail gateways, on asyncio + httptools.

Gateways call it on every connection, so it does the least work possible: parse the request line
and the few headers it needs, check the gateway token against an in-memory set of hashes, probe
the decision index, and write a prebuilt response. No framework, no database, no threads.

Routes are a dict of `(method, path) -> handler`; gateway protocols (nginx auth_request, Dovecot
auth policy) register their handlers here beside `/v1/decide`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl, unquote

import httptools
import msgspec

from appwarden.core.decision import Decision
from appwarden.core.inventory import IDENTITY_KINDS, identity_key
from appwarden.entrypoints.views import decision_dict

log = logging.getLogger("appwarden.decisions")
_encode = msgspec.json.Encoder().encode  # compact UTF-8 JSON, several times faster than json

MAX_URL = 8192
MAX_HEADERS = 100
MAX_BODY = 64 * 1024
KEPT_HEADERS = frozenset(
    {
        b"authorization",
        b"x-original-uri",
        b"x-original-method",
        b"x-device-id",
        b"x-client-fingerprint",
        b"x-client-verify",
        b"x-original-user",
        b"content-type",
        b"x-forwarded-for",
    }
)


@dataclass(slots=True)
class Request:
    method: str
    url: bytes
    headers: dict[bytes, bytes]
    body: bytes = b""
    _path: str | None = None
    _query: dict[str, str] | None = None

    @property
    def path(self) -> str:
        if self._path is None:
            self._split()
        assert self._path is not None
        return self._path

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            self._split()
        assert self._query is not None
        return self._query

    def _split(self) -> None:
        path, _, query = self.url.decode("latin-1").partition("?")
        self._path = unquote(path) if "%" in path else path
        self._query = _parse_query(query)


def _parse_query(query: str) -> dict[str, str]:
    """Keys lower-cased; blank values kept; the fast path of parse_qsl for the short queries
    gateways send (parse_qsl itself when anything is percent- or plus-encoded)."""
    if not query:
        return {}
    if "%" in query or "+" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
    else:
        pairs = [(k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p)]
    return {k.lower(): v for k, v in pairs}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    content_type: bytes = b"application/json"


REASONS = {
    200: b"OK",
    204: b"No Content",
    400: b"Bad Request",
    401: b"Unauthorized",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Payload Too Large",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
}


def render(response: Response, keep_alive: bool) -> bytes:
    head = [b"HTTP/1.1 %d %s" % (response.status, REASONS.get(response.status, b"Status"))]
    if response.status != 204:
        head.append(b"content-type: " + response.content_type)
        head.append(b"content-length: %d" % len(response.body))
    for name, value in response.headers:
        head.append(name + b": " + value)
    if not keep_alive:
        head.append(b"connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + (response.body if response.status != 204 else b"")


def json_response(
    status: int, body: Any, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> Response:
    return Response(status, _encode(body), headers)


Handler = Callable[[Request], Response]


@dataclass
class GatewayAuth:
    """Accepted bearer tokens, as SHA-256 hashes, refreshed from the database by the server."""

    hashes: frozenset[str] = frozenset()
    _seen: dict[bytes, bool] = field(default_factory=dict)

    def replace(self, hashes: frozenset[str]) -> None:
        self.hashes = hashes
        self._seen = {}

    def allows(self, header: bytes | None) -> bool:
        if not header or not header.startswith(b"Bearer "):
            return False
        known = self._seen.get(header)
        if known is None:
            secret = header[7:].strip()
            known = hashlib.sha256(secret).hexdigest() in self.hashes
            if len(self._seen) < 1024:
                self._seen[header] = known
        return known


UNAUTHORIZED = json_response(
    401,
    {"error": "Unauthorized", "detail": "send `Authorization: Bearer <gateway token>`"},
    ((b"www-authenticate", b'Bearer realm="appwarden"'),),
)


class DecisionRouter:
    def __init__(self, auth: GatewayAuth) -> None:
        self.auth = auth
        self.routes: dict[tuple[str, str], tuple[Handler, bool]] = {}

    def add(self, method: str, path: str, handler: Handler, authenticated: bool = True) -> None:
        self.routes[(method, path)] = (handler, authenticated)

    def handle(self, request: Request) -> Response:
        route = self.routes.get((request.method, request.path))
        if route is None:
            if any(path == request.path for _, path in self.routes):
                return json_response(405, {"error": "method not allowed"})
            return json_response(404, {"error": "not found"})
        handler, authenticated = route
        if authenticated and not self.auth.allows(request.headers.get(b"authorization")):
            return UNAUTHORIZED
        try:
            return handler(request)
        except Exception:
            log.exception("decision handler failed")
            return json_response(500, {"error": "internal error"})


def decide_handler(decide: Callable[[str], tuple[Decision, str]]) -> Handler:
    """GET /v1/decide?device=<key> (or eas=, cert=, imap=)."""

    def handle(request: Request) -> Response:
        query = request.query
        given = [(k, query[k]) for k in IDENTITY_KINDS if query.get(k)]
        if len(given) != 1:
            return json_response(
                400,
                {
                    "error": "name exactly one identity",
                    "fix": "add ?device=<key> (or eas=, cert=, imap=)",
                },
            )
        decision, decision_id = decide(identity_key(*given[0]))
        return json_response(200, decision_dict(decision, decision_id))

    return handle


class HttpProtocol(asyncio.Protocol):
    __slots__ = ("_body", "_headers", "_parser", "_router", "_too_big", "_transport", "_url")

    def __init__(self, router: DecisionRouter) -> None:
        self._router = router
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._too_big = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport implements asyncio.Transport without subclassing it
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._reply(json_response(400, {"error": "malformed HTTP request"}), close=True)
        except httptools.HttpParserUpgrade:
            self._reply(json_response(400, {"error": "upgrades are not supported"}), close=True)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._too_big = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_URL:
            self._too_big = 414

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in KEPT_HEADERS:
            self._headers[name] = value
        if len(self._headers) > MAX_HEADERS:
            self._too_big = 431

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        if sum(map(len, self._body)) > MAX_BODY:
            self._too_big = 413

    def on_message_complete(self) -> None:
        if self._too_big:
            self._reply(json_response(self._too_big, {"error": "request too large"}), close=True)
            return
        method = self._parser.get_method().decode("latin-1")
        request = Request(method, self._url, self._headers, b"".join(self._body))
        self._reply(self._router.handle(request), close=not self._parser.should_keep_alive())

    def _reply(self, response: Response, close: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(render(response, keep_alive=not close))
        if close:
            transport.close()


async def start_decision_server(
    router: DecisionRouter, host: str, port: int
) -> asyncio.base_events.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: HttpProtocol(router), host, port, backlog=2048)
