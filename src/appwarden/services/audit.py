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


def verify(uow: UnitOfWork, expect: str = "") -> ChainReport:
    """Walk the chain. With `expect` (a head hash recorded earlier outside the database, e.g. by
    a SIEM), also check that that event is still there: this catches a truncated tail, which the
    chain alone cannot show."""
    events = list(uow.audit.events())
    head = events[-1].hash if events else ""
    problems = verify_chain(events)
    if expect and not any(e.hash == expect for e in events):
        problems.append(
            ChainProblem(
                events[-1].seq if events else 0,
                "removed",
                f"the anchored event {expect[:16]}... is not in the log: events after it, or "
                "including it, were removed",
            )
        )
    return ChainReport(len(events), head, problems)


def export_lines(uow: UnitOfWork, after_seq: int = 0, type_: str | None = None) -> Iterator[str]:
    """One JSON object per line: the hashed body plus prev_hash and hash, for a SIEM."""
    for event in uow.audit.events(after_seq=after_seq, type_=type_):
        record = dict(event.body)
        record["prev_hash"] = event.prev_hash
        record["hash"] = event.hash
        yield json.dumps(record, ensure_ascii=False, sort_keys=True)
