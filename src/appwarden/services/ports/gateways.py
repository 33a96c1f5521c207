"""Ports for the gateway decision log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol


class LoggedDecision(NamedTuple):
    """One decision-log row, identities already masked (a tuple: batches encode fast)."""

    decision_id: str
    at: str  # ISO 8601 UTC, to the millisecond
    revision: int
    protocol: str
    identity: str
    user: str
    device: str
    allow: bool
    result: str
    code: str
    policies: str  # comma-separated slugs


class DecisionRecords(Protocol):
    def append(self, rows: Sequence[LoggedDecision]) -> None: ...
    def tail(
        self,
        after_seq: int = 0,
        limit: int = 50,
        result: str | None = None,
        policy: str | None = None,
    ) -> list[dict[str, Any]]: ...
    def for_device(self, device: str, limit: int = 20) -> list[dict[str, Any]]: ...
    def prune(self, before: str) -> int: ...  # an instant as the log writes it
