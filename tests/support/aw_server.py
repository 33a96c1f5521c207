"""AppWarden's decision listener and gateway runtime, in a thread of the test process.

The test keeps the engine in hand: it can import a check-in, move the clock or stop the
listener (closing every open connection, as a crashed service would) and start it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any, cast

from appwarden.adapters.clock import FixedClock
from appwarden.bootstrap import App, build
from appwarden.entrypoints.api.decision_server import GatewayAuth, HttpProtocol
from appwarden.entrypoints.api.gateway_runtime import GatewayRuntime
from appwarden.entrypoints.cli.serve_cmd import build_router, gateway_hashes
from appwarden.services.access import create_token
from appwarden.settings import Settings
from tests.support.servers import free_port


class AppWardenServer:
    def __init__(self, home: Path, clock: FixedClock, **settings: Any) -> None:
        self.port = free_port()
        self.postfix_port = free_port()
        overrides = {"home": str(home), "postfix_policy_port": self.postfix_port, **settings}
        self.app: App = build(Settings.load(overrides, env={}), clock)
        self.clock = clock
        self.token = ""
        self.runtime: GatewayRuntime | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transports: set[asyncio.Transport] = set()
        self._server: asyncio.AbstractServer | None = None

    def create_token(self, role: str = "gateway") -> str:
        with self.app.store.unit_of_work() as uow:
            _, secret = create_token(uow, f"test {role}", role, "tests", self.clock.now())
        return secret

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(15):
            raise TimeoutError("AppWarden listener did not start")

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        loop.run_until_complete(self._start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._stop())
        loop.close()

    async def _start(self) -> None:
        auth = GatewayAuth()
        auth.replace(gateway_hashes(self.app))
        self.runtime = GatewayRuntime(self.app)
        router = build_router(self.app, auth, self.runtime)

        def factory() -> HttpProtocol:
            return _Tracked(router, self._transports)

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(factory, "127.0.0.1", self.port)
        await self.runtime.start()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for transport in list(self._transports):
            transport.abort()
        if self.runtime is not None:
            await self.runtime.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)
        self._loop = None
        self._thread = None

    def flush(self) -> None:
        """Write buffered decisions now."""
        assert self._loop is not None and self.runtime is not None
        asyncio.run_coroutine_threadsafe(self.runtime.flush(), self._loop).result(10)

    def close(self) -> None:
        self.stop()
        self.app.close()


class _Tracked(HttpProtocol):
    def __init__(self, router: Any, transports: set[asyncio.Transport]) -> None:
        super().__init__(router)
        self._all = transports

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport
        self._all.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._all.discard(self._transport)
