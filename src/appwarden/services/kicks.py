"""Cutting open IMAP sessions when a device's block starts (`doveadm kick`).

Gateways decide at login; an IMAP session that is already open (IDLE) survives a later block.
The kicker watches the decision index and, the moment a device goes from allowed to denied,
asks the kick port to close its owner's sessions. A block starts either

- at a time breakpoint of the device's entry (a deadline passing, an exemption ending): the
  kicker keeps a heap of those instants and wakes for the next one, so kicks happen to the
  second; or
- when a new index is swapped in (a check-in shows a barred app after the deadline): the kicker
  compares the changed entries with what it last saw.

Dovecot kicks per user, not per device: the owner's other sessions close too, and reconnect
(and are decided again) at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping

from appwarden.core.decision import DecisionIndex, Effect, Entry

DEVICE_PREFIX = "device:"


class Kicker:
    def __init__(self, login_of: Callable[[str], str | None]) -> None:
        self.login_of = login_of
        self.denied: set[str] = set()
        self.kicked = 0
        self._heap: list[tuple[float, str]] = []
        self._index: DecisionIndex | None = None
        self._base: Mapping[str, Entry] | None = None
        self._overlay: Mapping[str, Entry | None] = {}
        self._last_now = float("-inf")

    @property
    def last_seen(self) -> float:
        """The instant of the last `due()` call."""
        return self._last_now

    def next_wake(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def due(self, index: DecisionIndex, now: float) -> list[str]:
        """Logins to kick now: owners of devices whose block started since the last call."""
        started: list[str] = []
        if now < self._last_now:  # the clock went back (a replayed clock): start over, quietly
            self._index = self._base = None
            self.denied.clear()
        self._last_now = now
        if index is not self._index:
            started += self._scan(index, now)
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, device = heapq.heappop(heap)
            if self._update(device, index.get(DEVICE_PREFIX + device), now):
                started.append(device)
        logins = {login for d in started if (login := self.login_of(d))}
        return sorted(logins)

    def _scan(self, index: DecisionIndex, now: float) -> list[str]:
        base, overlay = index.layers()
        first = self._index is None
        if base is not self._base:
            self._heap = []
            merged: dict[str, Entry | None] = {
                k: e for k, e in base.items() if k.startswith(DEVICE_PREFIX)
            }
            merged.update((k, e) for k, e in overlay.items() if k.startswith(DEVICE_PREFIX))
            changed: Iterable[tuple[str, Entry | None]] = merged.items()
            self.denied &= {k[len(DEVICE_PREFIX) :] for k in merged}
        else:
            old = self._overlay
            changed = [(k, e) for k, e in overlay.items() if old.get(k, base.get(k)) is not e]
        self._index, self._base, self._overlay = index, base, overlay
        started = []
        for key, entry in changed:
            if key.startswith(DEVICE_PREFIX):
                device = key[len(DEVICE_PREFIX) :]
                if entry is not None:
                    for t in entry.times:
                        if t > now:
                            heapq.heappush(self._heap, (t, device))
                if self._update(device, entry, now) and not first:
                    started.append(device)
        return started

    def _update(self, device: str, entry: Entry | None, now: float) -> bool:
        """Record the device's state now; True when its block has just started."""
        denied = entry is not None and entry.at(now).effect is Effect.DENY
        if denied and device not in self.denied:
            self.denied.add(device)
            return True
        if not denied:
            self.denied.discard(device)
        return False
