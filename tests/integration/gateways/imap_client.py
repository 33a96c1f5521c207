"""imaplib with the ID command (RFC 2971) and a chosen source address."""

from __future__ import annotations

import imaplib
import socket

from appwarden.core.gateways.imap_id import quote_imap_id

imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED", "LOGOUT"))
CLIENT_ADDRESS = "127.0.0.9"  # not the mail host (127.0.0.1), whose service logins are exempt


class Imap(imaplib.IMAP4):
    def __init__(self, port: int, source: str = CLIENT_ADDRESS) -> None:
        self._source = source
        super().__init__("127.0.0.1", port, timeout=15)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, (self._source, 0))

    def send_id(self, **fields: str) -> None:
        typ, data = self._simple_command("ID", quote_imap_id(dict(fields)))
        assert typ == "OK", data


def login(port: int, user: str, device: str | None = None, source: str = CLIENT_ADDRESS) -> Imap:
    """ID (when a device is given) then LOGIN; raises imaplib.IMAP4.error when refused."""
    client = Imap(port, source)
    try:
        if device is not None:
            client.send_id(name="Corp Mail", version="3.1", os="Android", **{"x-device-id": device})
        client.login(user, "secret")
    except BaseException:
        client.shutdown()
        raise
    return client
