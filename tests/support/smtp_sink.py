"""A real SMTP server on loopback (aiosmtpd), optionally with STARTTLS and AUTH."""

from __future__ import annotations

import socket
import ssl
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def start_smtp(tls: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None):  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    sink = Sink()
    kwargs: dict[str, Any] = {}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if login:

        def authenticator(_server, _session, _envelope, _mechanism, data):  # type: ignore[no-untyped-def]
            ok = (
                isinstance(data, LoginPassword)
                and (data.login.decode(), data.password.decode()) == login
            )
            return AuthResult(success=ok)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller, sink
