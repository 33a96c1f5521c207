"""Directory sync: employees (department, groups, manager, locale, time zone) and their aliases.

A directory export (CSV or SCIM-style JSON, parsed by adapters.importers.directory) lists each
person once with their primary email and any other addresses they sign in with (the UPN, old
addresses). Devices name their owner by whatever address their MDM knows; aliases map those to
the employee, now (devices already imported are relinked) and for every later report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from appwarden.core.errors import ImportRejected, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.inventory import Employee
from appwarden.services.assessment import AssessmentReport
from appwarden.services.compliance import Compliance
from appwarden.services.inventory_writes import InventoryChanges
from appwarden.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    employee: Employee
    aliases: tuple[str, ...] = ()
    active: bool = True


@dataclass
class DirectoryBatch:
    source: str  # csv | scim
    origin: str
    entries: list[DirectoryEntry] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    rows: int = 0


@dataclass
class DirectorySummary:
    origin: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    inactive_skipped: int = 0
    devices_linked: int = 0
    warnings: list[Problem] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    relinked: list[str] = field(default_factory=list)
    employees: list[Employee] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.origin,
            "dry_run": self.dry_run,
            "employees": {
                "added": self.added,
                "updated": self.updated,
                "unchanged": self.unchanged,
            },
            "inactive_skipped": self.inactive_skipped,
            "devices_linked": self.devices_linked,
            "warnings": [p.render() for p in self.warnings[:200]],
            "rejected": [p.render() for p in self.rejected],
        }


def sync_directory(
    uow: UnitOfWork, batch: DirectoryBatch, at: datetime, actor: str
) -> DirectorySummary:
    summary = DirectorySummary(batch.origin, rejected=list(batch.rejected))
    emails = {e.employee.email for e in batch.entries if e.active}
    for entry in batch.entries:
        if not entry.active:
            summary.inactive_skipped += 1
            continue
        employee = entry.employee
        before = uow.inventory.employee(employee.email)
        changed = uow.inventory.upsert_employee(employee, at)
        summary.added += before is None
        summary.updated += before is not None and changed
        summary.unchanged += before is not None and not changed
        uow.sources.set_aliases(employee.email, entry.aliases)
        summary.employees.append(employee)
        manager = employee.manager
        if manager and manager not in emails and uow.inventory.employee(manager) is None:
            summary.warnings.append(
                Problem(f"manager {manager} is not in the directory", "manager", file=batch.origin)
            )
    summary.relinked = uow.sources.relink_owners()
    summary.devices_linked = len(summary.relinked)
    uow.audit.append(
        AuditEvent(
            EventType.DIRECTORY_SYNCED,
            actor,
            at,
            subject=f"directory:{batch.source}",
            reason=batch.origin,
            data={k: v for k, v in summary.as_dict().items() if k not in ("warnings", "rejected")}
            | {"rejected": len(summary.rejected)},
        )
    )
    return summary


class _DryRun(Exception):
    def __init__(self, summary: DirectorySummary) -> None:
        self.summary = summary


def run_sync(
    engine: Compliance,
    batch: DirectoryBatch,
    actor: str,
    now: datetime,
    *,
    skip_bad: bool = False,
    dry_run: bool = False,
) -> tuple[DirectorySummary, AssessmentReport | None]:
    """All or nothing per file; devices whose owner resolved through an alias are re-assessed."""
    if batch.rejected and not skip_bad:
        shown = batch.rejected[:20]
        fix = "fix these rows, or pass --skip-bad to skip them"
        raise ImportRejected([*shown, Problem("nothing was imported", fix=fix)])

    def work(uow: UnitOfWork) -> DirectorySummary:
        summary = sync_directory(uow, batch, now, actor)
        if dry_run:
            summary.dry_run = True
            raise _DryRun(summary)
        return summary

    try:
        return engine.write_inventory(
            work,
            lambda s: InventoryChanges(employees=s.employees, reload=s.relinked),
            now,
            f"directory:{batch.origin}",
            actor,
        )
    except _DryRun as stop:
        return stop.summary, None
