"""An AppWarden `App` on a temporary home with a fixed clock, the seed policy applied, and a
real HTTP server on a free port for tests that speak HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from appwarden.adapters.clock import FixedClock
from appwarden.adapters.policy_files import read_policy_text
from appwarden.bootstrap import App, build
from appwarden.entrypoints.api.admin import create_api
from appwarden.services.access import create_token
from appwarden.settings import Settings
from tests.support.builders import T0

FIXTURES = Path(__file__).parent.parent / "fixtures"


def make_app(home: Path, policy: bool = True, **settings: str) -> App:
    app = build(Settings.load({"home": str(home), **settings}, env={}), FixedClock(T0))
    app.engine.load()
    if policy:
        text = (resources.files("appwarden") / "data" / "policies" / "tiktok-mail.yaml").read_text(
            encoding="utf-8"
        )
        app.engine.apply_policy(
            read_policy_text(text, "tiktok-mail.yaml"), text, "test", "seed", T0
        )
    return app


def token(app: App, role: str) -> str:
    with app.store.unit_of_work() as uow:
        _, secret = create_token(uow, f"test {role}", role, "test", T0)
    return secret


class LiveServer:
    """uvicorn on 127.0.0.1, port 0, in a thread; `stop` ends it."""

    def __init__(self, asgi: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(asgi, log_level="error", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@contextmanager
def serving(app: App) -> Iterator[httpx.Client]:
    server = LiveServer(create_api(app)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()
