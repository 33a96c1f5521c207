"""Inventory use cases: import a batch of employees and devices, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.inventory import AppKey, Device, Employee
from appwarden.core.sources import MergeRules, SourceReport
from appwarden.services.ingest import Ingest, ReportOutcome, source_name
from appwarden.services.ports import Progress, UnitOfWork

CHANGED_KEPT = 100_000  # keys of changed devices listed in a summary (counts stay exact)


@dataclass
class ImportBatch:
    """A parsed file: the good records, and the rejected rows with their reasons."""

    source: str  # e.g. "csv", "jsonl", "intune"
    origin: str  # the file name
    employees: list[Employee] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    rows: int = 0
    reports: list[SourceReport] = field(default_factory=list)  # MDM importers fill these
    warnings: list[Problem] = field(default_factory=list)  # imported, but worth a look

    def all_reports(self) -> Iterator[SourceReport]:
        """Every device record as a report from this batch's source."""
        source = source_name(self.source)
        for device in self.devices:
            yield SourceReport(source, device, observed_at=device.last_seen)
        yield from self.reports

    @property
    def device_count(self) -> int:
        return len(self.devices) + len(self.reports)


@dataclass
class ImportSummary:
    origin: str
    employees_added: int = 0
    employees_updated: int = 0
    employees_unchanged: int = 0
    devices_added: int = 0
    devices_updated: int = 0  # anything written, app versions included
    devices_unchanged: int = 0
    devices_skipped: int = 0  # an older report than one already applied from the same source
    devices_merged: int = 0  # matched a device another source reports too
    devices_without_owner: int = 0
    conflicts: int = 0
    apps_seen: int = 0
    apps_installed: int = 0
    apps_removed: int = 0
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    changed_devices: list[str] = field(default_factory=list)

    def count(self, outcome: ReportOutcome) -> None:
        """Add one applied report to the counts."""
        change = outcome.change
        if change is None:
            self.devices_skipped += 1
            return
        self.apps_installed += len(change.apps_added)
        self.apps_removed += len(change.apps_removed)
        if change.created:
            self.devices_added += 1
        elif change.changed or change.versions_changed:
            self.devices_updated += 1
        else:
            self.devices_unchanged += 1
        if change.changed and len(self.changed_devices) < CHANGED_KEPT:
            self.changed_devices.append(outcome.key)
        self.devices_merged += 1 if outcome.other_sources else 0
        self.conflicts += len(outcome.conflicts)
        if outcome.device is not None and not outcome.device.owner:
            self.devices_without_owner += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.origin,
            "dry_run": self.dry_run,
            "employees": {
                "added": self.employees_added,
                "updated": self.employees_updated,
                "unchanged": self.employees_unchanged,
            },
            "devices": {
                "added": self.devices_added,
                "updated": self.devices_updated,
                "unchanged": self.devices_unchanged,
                "skipped": self.devices_skipped,
                "merged": self.devices_merged,
                "without_owner": self.devices_without_owner,
                "conflicts": self.conflicts,
            },
            "apps": {
                "seen": self.apps_seen,
                "installed": self.apps_installed,
                "removed": self.apps_removed,
            },
            "rejected": [p.render() for p in self.rejected],
            "warnings": [p.render() for p in self.warnings[:200]],
        }


def check_batch(batch: ImportBatch, skip_bad: bool) -> None:
    """Refuse the whole file when any row is bad, unless the caller chose to skip bad rows."""
    if batch.rejected and not skip_bad:
        shown = batch.rejected[:20]
        more = len(batch.rejected) - len(shown)
        if more:
            shown = [*shown, Problem(f"... and {more} more rejected rows")]
        fix = "fix these rows, or pass --skip-bad to skip them"
        raise ImportRejected([*shown, Problem("nothing was imported", fix=fix)])


def import_batch(
    uow: UnitOfWork,
    batch: ImportBatch,
    at: datetime,
    actor: str,
    progress: Progress | None = None,
    rules: MergeRules | None = None,
) -> tuple[ImportSummary, list[ReportOutcome]]:
    """Write a batch in the caller's transaction; the caller rolls back for a dry run."""
    summary = ImportSummary(batch.origin, rejected=list(batch.rejected))
    summary.warnings = list(batch.warnings)
    import_employees(uow, batch.employees, at, summary)
    ingest = Ingest(uow, rules or MergeRules(), at)
    seen_apps: set[AppKey] = set()
    outcomes = []
    for i, report in enumerate(batch.all_reports(), 1):
        outcome = ingest.apply(report)
        outcomes.append(outcome)
        seen_apps.update(app.key for app in report.device.apps)
        summary.count(outcome)
        if progress is not None and i % 500 == 0:
            progress(500)
    if progress is not None:
        progress(batch.device_count % 500)
    summary.apps_seen = len(seen_apps)
    audit_import(uow, batch.source, batch.origin, summary, at, actor)
    return summary, outcomes


def import_employees(
    uow: UnitOfWork, employees: list[Employee], at: datetime, summary: ImportSummary
) -> None:
    for employee in employees:
        before = uow.inventory.employee(employee.email)
        changed = uow.inventory.upsert_employee(employee, at)
        if before is None:
            summary.employees_added += 1
        elif changed:
            summary.employees_updated += 1
        else:
            summary.employees_unchanged += 1


def audit_import(
    uow: UnitOfWork, source: str, origin: str, summary: ImportSummary, at: datetime, actor: str
) -> None:
    body = {k: v for k, v in summary.as_dict().items() if k not in ("rejected", "warnings")}
    uow.audit.append(
        AuditEvent(
            EventType.INVENTORY_IMPORTED,
            actor,
            at,
            subject=f"import:{source}",
            reason=origin,
            data=body | {"rejected": len(summary.rejected), "warnings": len(summary.warnings)},
        )
    )
