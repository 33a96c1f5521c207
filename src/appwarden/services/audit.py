"""Audit use cases: verify the chain, export it for a SIEM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from appwarden.core.events import ChainProblem, verify_chain
from appwarden.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    head: str
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(uow: UnitOfWork) -> ChainReport:
    events = list(uow.audit.events())
    head = events[-1].hash if events else ""
    return ChainReport(len(events), head, verify_chain(events))


def export_lines(uow: UnitOfWork, after_seq: int = 0, type_: str | None = None) -> Iterator[str]:
    """One JSON object per line: the hashed body plus prev_hash and hash, for a SIEM."""
    for event in uow.audit.events(after_seq=after_seq, type_=type_):
        record = dict(event.body)
        record["prev_hash"] = event.prev_hash
        record["hash"] = event.hash
        yield json.dumps(record, ensure_ascii=False, sort_keys=True)
