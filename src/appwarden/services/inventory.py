"""Inventory use cases: import a batch of employees and devices, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.inventory import AppKey, Device, Employee
from appwarden.services.ports import Progress, UnitOfWork


@dataclass
class ImportBatch:
    """A parsed file: the good records, and the rejected rows with their reasons."""

    source: str  # e.g. "csv", "jsonl", "intune"
    origin: str  # the file name
    employees: list[Employee] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    rows: int = 0


@dataclass
class ImportSummary:
    origin: str
    employees_added: int = 0
    employees_updated: int = 0
    employees_unchanged: int = 0
    devices_added: int = 0
    devices_updated: int = 0
    devices_unchanged: int = 0
    apps_seen: int = 0
    apps_installed: int = 0
    apps_removed: int = 0
    rejected: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    changed_devices: list[str] = field(default_factory=list)

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
            },
            "apps": {
                "seen": self.apps_seen,
                "installed": self.apps_installed,
                "removed": self.apps_removed,
            },
            "rejected": [p.render() for p in self.rejected],
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
) -> ImportSummary:
    """Write a batch in the caller's transaction; the caller rolls back for a dry run."""
    summary = ImportSummary(batch.origin, rejected=list(batch.rejected))
    for employee in batch.employees:
        before = uow.inventory.employee(employee.email)
        changed = uow.inventory.upsert_employee(employee, at)
        if before is None:
            summary.employees_added += 1
        elif changed:
            summary.employees_updated += 1
        else:
            summary.employees_unchanged += 1
    seen_apps: set[AppKey] = set()
    for i, device in enumerate(batch.devices, 1):
        change = uow.inventory.upsert_device(device, at, batch.source)
        seen_apps.update(app.key for app in device.apps)
        summary.apps_installed += len(change.apps_added)
        summary.apps_removed += len(change.apps_removed)
        if change.created:
            summary.devices_added += 1
        elif change.changed:
            summary.devices_updated += 1
        else:
            summary.devices_unchanged += 1
        if change.changed:
            summary.changed_devices.append(device.key)
        if progress is not None and i % 500 == 0:
            progress(500)
    if progress is not None:
        progress(len(batch.devices) % 500)
    summary.apps_seen = len(seen_apps)
    uow.audit.append(
        AuditEvent(
            EventType.INVENTORY_IMPORTED,
            actor,
            at,
            subject=f"import:{batch.source}",
            reason=batch.origin,
            data={k: v for k, v in summary.as_dict().items() if k != "rejected"}
            | {"rejected": len(summary.rejected)},
        )
    )
    return summary
