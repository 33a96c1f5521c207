"""Requests per client address per minute, in memory (public pages: the notice check).

A sliding window of the last minute per address; bounded: when more than `max_clients`
addresses are tracked, those idle for a minute are forgotten, and if that is not enough the
oldest are. Behind a reverse proxy, uvicorn's proxy headers (trusted from `forwarded_allow_ips`)
give the real client address.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.requests import Request

WINDOW = 60.0


class ClientLimiter:
    def __init__(
        self,
        per_minute: int,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self.clock = clock
        self.seen: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when this request may go ahead; else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self.lock:
            hits = self.seen.get(client)
            if hits is None:
                if len(self.seen) >= self.max_clients:
                    self._forget(now)
                hits = self.seen[client] = deque()
            while hits and hits[0] <= now - WINDOW:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(hits[0] + WINDOW - now, 0.1)
            hits.append(now)
            return 0.0

    def _forget(self, now: float) -> None:
        idle = [k for k, v in self.seen.items() if not v or v[-1] <= now - WINDOW]
        for key in idle:
            del self.seen[key]
        while len(self.seen) >= self.max_clients:
            del self.seen[next(iter(self.seen))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
