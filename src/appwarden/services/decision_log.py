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

    # -- the hot path ----------------------------------------------------------------------------
    def record(self, record: Record) -> None:
        answer = record.answer
        counters = self.counters
        for policy in answer.policies or ("",):
            key = (record.protocol, policy, answer.result.value)
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
        mask, salt = self.mask, self.salt
        return [
            LoggedDecision(
                decision_id=r.decision_id,
                at=_iso_ms(from_epoch(r.at)),
                revision=r.revision,
                protocol=r.protocol,
                identity=mask_identity(r.identity, mask, salt),
                user=mask_identity(r.user, mask, salt) if r.user else "",
                device=r.device,
                allow=r.answer.allow,
                result=r.answer.result.value,
                code=r.answer.code,
                policies=r.answer.policies,
            )
            for r in batch
        ]

    def write(self, store: Store, batch: Sequence[Record]) -> int:
        """Append a batch in one transaction; a failure drops the batch and is counted."""
        if not batch:
            return 0
        rows = self.rows(batch)
        try:
            with store.unit_of_work() as uow:
                uow.decision_log.append(rows)
        except Exception:
            self.write_errors += 1
            self.dropped += len(rows)
            raise
        self.written += len(rows)
        return len(rows)


def _iso_ms(instant: datetime) -> str:
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")
