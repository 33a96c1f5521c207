"""A real SMTP server on loopback for tests: aiosmtpd with STARTTLS and AUTH, on a free port."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class SinkHandler:
    messages: list[Received] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)  # address -> "550 ..." or "451 ..."
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return self.reject[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 2.0.0 Ok: queued"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    @property
    def recipients(self) -> list[str]:
        return sorted(a for m in self.messages for a in m.rcpt_tos)


class _FreePortController(Controller):
    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.attempts: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login == self.user and auth_data.password == self.password
        )
        self.attempts.append(mechanism)
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpSink:
    handler: SinkHandler
    controller: Controller
    ca_file: Path
    user: str
    password: str

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()


def start_sink(tmp: Path, tls: bool = True, auth: bool = True) -> SmtpSink:
    handler = SinkHandler()
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    kwargs: dict = {}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        kwargs.update(tls_context=context, require_starttls=True)
    user, password = "notices", "s3cret-pw-never-logged"
    if auth:
        kwargs.update(authenticator=Authenticator(user, password), auth_required=True)
        kwargs["auth_require_tls"] = tls
    controller = _FreePortController(handler, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    return SmtpSink(handler, controller, ca_file, user, password)
