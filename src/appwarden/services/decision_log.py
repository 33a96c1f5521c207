"""The decision log: every gateway decision, recorded off the hot path.

`record()` runs on the request path: it bumps the per-policy counters and appends one tuple to
an in-memory buffer, or, when the buffer is full, counts a drop. It never blocks and never does
I/O. The server calls `take()` on the event loop every few hundred milliseconds and hands the
batch to `write()` on a worker thread, which masks identities as configured and appends the
rows in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from appwarden.core.gateways.answer import GatewayAnswer
from appwarden.core.gateways.masking import MaskMode, mask_identity
from appwarden.core.timeutil import from_epoch
from appwarden.services.ports import LoggedDecision, Store

CounterKey = tuple[str, str, str]  # (protocol, policy or "", result)


class Record(NamedTuple):
    decision_id: str
    at: float
    revision: int
    protocol: str
    identity: str
    user: str
    device: str
    answer: GatewayAnswer


class DecisionLog:
    def __init__(self, capacity: int = 10_000, mask: MaskMode = MaskMode.PARTIAL, salt: str = ""):
        self.capacity = capacity
        self.mask = mask
        self.salt = salt
        self.counters: dict[CounterKey, int] = {}
        self.dropped = 0
        self.written = 0
        self.write_errors = 0
        self._buffer: list[Record] = []
        self._masked: dict[str, str] = {}

    # -- the hot path ----------------------------------------------------------------------------
    def record(self, record: Record) -> None:
        answer = record.answer
        counters = self.counters
        for policy in answer.policies or ("",):
            key = (record.protocol, policy, answer.result)  # StrEnums: no .value lookups
            counters[key] = counters.get(key, 0) + 1
        if len(self._buffer) >= self.capacity:
            self.dropped += 1
            return
        self._buffer.append(record)

    # -- off the hot path ------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._buffer)

    def take(self) -> list[Record]:
        """The buffered records, leaving an empty buffer (call on the thread that records)."""
        batch, self._buffer = self._buffer, []
        return batch

    def rows(self, batch: Sequence[Record]) -> list[LoggedDecision]:
        """Log rows, identities masked (instants and masks are cached: this runs per batch)."""
        masked = self._masked
        if len(masked) > 100_000:
            masked.clear()
        seconds: dict[int, str] = {}
        out = []
        for r in batch:
            second = int(r.at)
            prefix = seconds.get(second)
            if prefix is None:
                prefix = seconds[second] = _iso_second(second)
            identity = masked.get(r.identity)
            if identity is None:
                identity = masked[r.identity] = mask_identity(r.identity, self.mask, self.salt)
            user = masked.get(r.user)
            if user is None:
                user = masked[r.user] = mask_identity(r.user, self.mask, self.salt)
            answer = r.answer
            out.append(
                LoggedDecision(
                    r.decision_id,
                    f"{prefix}.{int((r.at - second) * 1000):03d}Z",
                    r.revision,
                    r.protocol,
                    identity,
                    user,
                    r.device,
                    answer.allow,
                    answer.result,
                    answer.code,
                    ",".join(answer.policies),
                )
            )
        return out

    def write(self, store: Store, batch: Sequence[Record]) -> int:
        return self.write_rows(store, self.rows(batch))

    def write_rows(self, store: Store, rows: Sequence[LoggedDecision]) -> int:
        """Append rows in one transaction; a failure drops them and is counted."""
        if not rows:
            return 0
        try:
            with store.unit_of_work() as uow:
                uow.decision_log.append(rows)
        except Exception:
            self.write_errors += 1
            self.dropped += len(rows)
            raise
        self.written += len(rows)
        return len(rows)


def log_instant(epoch: float) -> str:
    """An instant as the log stores it (`2020-07-11T01:00:00.000Z`): compare only these."""
    second = int(epoch)
    return f"{_iso_second(second)}.{int((epoch - second) * 1000):03d}Z"


def _iso_second(second: int) -> str:
    instant: datetime = from_epoch(second)
    return instant.strftime("%Y-%m-%dT%H:%M:%S")
