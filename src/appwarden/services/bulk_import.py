"""Streaming import of one large file: one transaction, bounded memory, all or nothing.

Batches arrive from a reader that parses the file a chunk at a time. Every report is applied in
one transaction; the fleet index is fed only after the commit, from a compact `FleetDelta`. The
first bad record stops the writing, but reading goes on so that every problem in the file is
reported at once; then the transaction rolls back and nothing was imported (unless the caller
chose to skip bad records).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.fleet_delta import FleetDelta
from appwarden.core.inventory import Employee, InstalledApp
from appwarden.core.sources import SourceReport
from appwarden.services.assessment import AssessmentReport
from appwarden.services.compliance import Compliance
from appwarden.services.ingest import Ingest, ReportOutcome, new_key
from appwarden.services.inventory import (
    ImportBatch,
    ImportSummary,
    audit_import,
    import_employees,
)
from appwarden.services.inventory_writes import InventoryChanges
from appwarden.services.ports import Progress, UnitOfWork

MAX_PROBLEMS = 1000
DELTA_LIMIT = 2_000_000  # changed devices kept for the fleet index; beyond, it is rebuilt


class _DryRun(Exception):
    pass


class StreamImport:
    def __init__(
        self,
        engine: Compliance,
        origin: str,
        source: str,
        now: datetime,
        actor: str,
        *,
        skip_bad: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.engine = engine
        self.source = source
        self.now = now
        self.actor = actor
        self.skip_bad = skip_bad
        self.dry_run = dry_run
        self.progress = progress
        self.summary = ImportSummary(origin)
        self.delta = FleetDelta()
        self.reload_all = False
        self.seen: dict[str, datetime] = {}
        self.employees: list[Employee] = []
        self._rows: dict[int, InstalledApp] = {}
        self._problems = 0

    def run(self, batches: Iterable[ImportBatch]) -> tuple[ImportSummary, AssessmentReport | None]:
        try:
            return self.engine.write_inventory(
                lambda uow: self._write(uow, batches),
                lambda _: InventoryChanges(
                    seen=self.seen,
                    employees=self.employees,
                    delta=self.delta,
                    reload_all=self.reload_all,
                ),
                self.now,
                f"import:{self.summary.origin}",
                self.actor,
            )
        except _DryRun:
            self.summary.dry_run = True
            return self.summary, None

    def _write(self, uow: UnitOfWork, batches: Iterable[ImportBatch]) -> ImportSummary:
        ingest = Ingest(uow, self.engine.rules, self.now)
        writing = True
        for batch in batches:
            self._note(batch)
            writing = writing and (self.skip_bad or not batch.rejected)
            if writing:
                self._apply(uow, ingest, batch)
            if self.progress is not None:
                self.progress(batch.rows)
        summary = self.summary
        if summary.rejected and not self.skip_bad:
            more = self._problems - len(summary.rejected)
            tail = [Problem(f"... and {more} more rejected records")] if more > 0 else []
            fix = "fix these records, or pass --skip-bad to import the others"
            raise ImportRejected(
                [*summary.rejected[:50], *tail, Problem("nothing was imported", fix=fix)]
            )
        summary.apps_seen = len({app.key for app in self._rows.values()})
        audit_import(uow, self.source, summary.origin, summary, self.now, self.actor)
        if self.dry_run:
            raise _DryRun
        return summary

    def _note(self, batch: ImportBatch) -> None:
        self._problems += len(batch.rejected)
        room = MAX_PROBLEMS - len(self.summary.rejected)
        self.summary.rejected.extend(batch.rejected[: max(room, 0)])
        self.summary.warnings.extend(batch.warnings[: max(room, 0)])

    def _apply(self, uow: UnitOfWork, ingest: Ingest, batch: ImportBatch) -> None:
        import_employees(uow, batch.employees, self.now, self.summary)
        self.employees.extend(batch.employees)
        reports = list(batch.all_reports())
        ingest.prefetch(reports)
        new: list[SourceReport] = []
        for report in reports:
            self._rows.update(zip(map(id, report.device.apps), report.device.apps, strict=True))
            if ingest.is_new(report) and (not new or new[0].source == report.source):
                new.append(report)
                ingest.remember(report, new_key(report))
                continue
            self._done(ingest.create_many(new))
            new = []
            self._done([ingest.apply(report)])
        self._done(ingest.create_many(new))

    def _done(self, outcomes: list[ReportOutcome]) -> None:
        for outcome in outcomes:
            self.summary.count(outcome)
            device = outcome.device
            if device is None:
                continue
            if self.reload_all:
                continue
            if outcome.changed:
                self.delta.add(device)
            elif device.last_seen is not None:
                self.seen[outcome.key] = device.last_seen
            if len(self.delta) + len(self.seen) > DELTA_LIMIT:
                self.reload_all = True  # memory stays bounded by the index, not the file
                self.delta, self.seen = FleetDelta(), {}
