"""Gateway protocols over HTTP, as handlers of the decision listener.

    GET  /v1/gateway/nginx     nginx auth_request: 204 allow / 403 deny, empty body, headers
    POST /v1/gateway/dovecot   Dovecot auth policy: JSON in, {"status": -1|0, "msg": ...} out
    GET  /metrics              Prometheus text: per-policy counters, decision-log health

Every route needs the gateway token (nginx sets it with proxy_set_header, Dovecot with
auth_policy_server_api_header, Prometheus with its `authorization` block).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from appwarden.core.gateways.identify import dovecot_ask, nginx_ask
from appwarden.core.gateways.messages import ascii_line
from appwarden.core.gateways.rules import Protocol
from appwarden.entrypoints.api.decision_server import Handler, Request, Response, json_response
from appwarden.services.gateway import GatewayService

_ALLOW_DOVECOT = b'{"status":0,"msg":""}'
_REPORTED = b"{}"


def _h(request: Request, name: bytes) -> str:
    value = request.headers.get(name)
    return value.decode("latin-1") if value else ""


def nginx_handler(service: GatewayService) -> Handler:
    rules = service.rules

    def handle(request: Request) -> Response:
        ask = nginx_ask(
            rules,
            method=_h(request, b"x-original-method") or "GET",
            uri=_h(request, b"x-original-uri"),
            fingerprint=_h(request, b"x-client-fingerprint"),
            verify=_h(request, b"x-client-verify"),
            device_header=_h(request, b"x-device-id"),
            remote_user=_h(request, b"x-original-user"),
        )
        told = service.ask(Protocol.NGINX, ask)
        answer = told.answer
        headers: list[tuple[bytes, bytes]] = [(b"x-decision-id", told.decision_id.encode())]
        if answer.allow:
            return Response(204, b"", tuple(headers))
        reason = ascii_line(answer.message or answer.code)
        headers.append((b"x-policy-reason", reason.encode("ascii")))
        if answer.eas_status and ask.eas_command != "Provision":
            headers.append((b"x-eas-status", str(answer.eas_status).encode()))
        return Response(403, b"", tuple(headers))

    return handle


def dovecot_handler(service: GatewayService) -> Handler:
    rules = service.rules

    def handle(request: Request) -> Response:
        if request.query.get("command") == "report":
            return Response(200, _REPORTED)  # Dovecot ignores the answer to a report
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return json_response(400, {"error": "body is not JSON"})
        if not isinstance(body, dict):
            return json_response(400, {"error": "body must be a JSON object"})
        told = service.ask(Protocol.DOVECOT, dovecot_ask(rules, body))
        headers = ((b"x-decision-id", told.decision_id.encode()),)
        if told.answer.allow:
            return Response(200, _ALLOW_DOVECOT, headers)
        message = told.answer.message or told.answer.code
        return json_response(200, {"status": -1, "msg": message.replace("\n", " ")}, headers)

    return handle


def metrics_handler(render: Callable[[], str]) -> Handler:
    def handle(_request: Request) -> Response:
        return Response(200, render().encode(), content_type=b"text/plain; version=0.0.4")

    return handle
