"""The console's audit page: filtered pages of events, and the chain's verification status.

Verification is incremental: each look verifies only the events appended since the last one,
continuing the chain from the last verified event. A full re-verification (which also catches
edits to events verified before) runs on demand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from appwarden.core.events import ChainProblem, StoredEvent, verify_chain
from appwarden.services.ports import UnitOfWork

PAGE = 50


@dataclass(frozen=True, slots=True)
class ChainStatus:
    verified_through: int
    problems: tuple[ChainProblem, ...]
    full_check_at: datetime | None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ChainWatch:
    _last: StoredEvent | None = None
    _problems: list[ChainProblem] = field(default_factory=list)
    _full_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, uow: UnitOfWork) -> ChainStatus:
        with self._lock:
            after = self._last.seq if self._last else 0
            batch = list(uow.audit.events(after_seq=after))
            if batch:
                self._problems += verify_chain(batch, self._last)
                self._last = batch[-1]
            return self._snapshot()

    def full_check(self, uow: UnitOfWork, now: datetime) -> ChainStatus:
        with self._lock:
            events = list(uow.audit.events())
            self._problems = verify_chain(events)
            self._last = events[-1] if events else None
            self._full_at = now
            return self._snapshot()

    def _snapshot(self) -> ChainStatus:
        return ChainStatus(
            self._last.seq if self._last else 0, tuple(self._problems), self._full_at
        )


def audit_page(
    uow: UnitOfWork, type_: str, actor: str, subject: str, before: int
) -> tuple[list[StoredEvent], int | None]:
    """Newest first; the second value is the `before` of the next page, or None."""
    rows = uow.console.audit_page(type_, actor, subject, before, PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (rows[-1].seq if more and rows else None)
