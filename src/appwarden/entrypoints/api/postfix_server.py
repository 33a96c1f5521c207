"""The Postfix SMTP access policy listener (`check_policy_service inet:host:port`).

Postfix keeps a connection open for many requests. A client outside `postfix_policy_clients`
is disconnected at once; a peer that breaks the protocol (lines too long, no `name=value`) is
disconnected; an idle connection is closed after `IDLE_S`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import cast

from appwarden.core.gateways.identify import postfix_ask
from appwarden.core.gateways.messages import ascii_line
from appwarden.core.gateways.postfix_policy import PolicyProtocolError, PolicyReader, action_line
from appwarden.core.gateways.rules import Network, Protocol, in_networks
from appwarden.services.gateway import GatewayService

log = logging.getLogger("appwarden.postfix")
IDLE_S = 300.0


@dataclass
class PostfixStats:
    refused: int = 0
    protocol_errors: int = 0
    open: set[asyncio.Transport] = field(default_factory=set)

    def close_all(self) -> None:
        for transport in list(self.open):
            transport.abort()


def postfix_action(service: GatewayService, attrs: dict[str, str]) -> str:
    if attrs.get("request") != "smtpd_access_policy":
        return "DUNNO"
    told = service.ask(Protocol.POSTFIX, postfix_ask(service.rules, attrs))
    if told.answer.allow:
        return "DUNNO"
    text = ascii_line(told.answer.message or told.answer.code, 300)
    return f"REJECT 5.7.1 {text} (decision {told.decision_id})"


class PolicyProtocol(asyncio.Protocol):
    def __init__(
        self, service: GatewayService, clients: tuple[Network, ...], stats: PostfixStats
    ) -> None:
        self.service = service
        self.clients = clients
        self.stats = stats
        self.reader = PolicyReader()
        self.transport: asyncio.Transport | None = None
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport
        peer = transport.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else ""
        if not in_networks(address, self.clients):
            self.stats.refused += 1
            log.warning("postfix policy: refused client %s (not in postfix_policy_clients)", peer)
            transport.close()
            return
        self.transport = transport
        self.stats.open.add(transport)
        self._touch()

    def _touch(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        transport = self.transport
        if transport is not None:
            self._idle = asyncio.get_running_loop().call_later(IDLE_S, transport.close)

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport is None:
            return
        try:
            requests = self.reader.feed(data)
        except PolicyProtocolError as exc:
            self.stats.protocol_errors += 1
            log.warning("postfix policy: %s; closing", exc)
            transport.close()
            return
        if requests:
            transport.write(
                b"".join(action_line(postfix_action(self.service, r)) for r in requests)
            )
        self._touch()

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002
        if self._idle is not None:
            self._idle.cancel()
        if self.transport is not None:
            self.stats.open.discard(self.transport)


async def start_postfix_server(
    service: GatewayService, clients: tuple[Network, ...], host: str, port: int
) -> tuple[asyncio.AbstractServer, PostfixStats]:
    stats = PostfixStats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: PolicyProtocol(service, clients, stats), host, port, backlog=256
    )
    return server, stats
