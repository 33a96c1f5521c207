"""Catching up with writes made by other processes (the CLI, another server) to the database.

Every write transaction appends what it changed to the change log, tagged with its writer. A
running engine polls the log and reloads only what other writers changed: a device's facts and
verdicts, an employee, or (for a policy, exemption or attestation change, or a bulk assessment)
every verdict. Decisions follow within one poll interval.
"""

from __future__ import annotations

from dataclasses import dataclass

from appwarden.core.decision import titles_of
from appwarden.core.enforcement import CHANGE_KIND
from appwarden.core.fleet import FleetIndex, load_device
from appwarden.core.verdict import Verdict, by_policy
from appwarden.services.decisions import DecisionService, device_identity_keys
from appwarden.services.ports import UnitOfWork

GLOBAL_KINDS = frozenset({"policy", "exemption", "attestation"})
ENFORCEMENT_CHANGE = CHANGE_KIND  # a device's announced block was armed or disarmed
MAX_ENTRIES = 100_000  # beyond this, reload everything


@dataclass
class SyncReport:
    entries: int = 0
    devices: int = 0
    employees: int = 0
    reloaded_verdicts: bool = False
    full_reload: bool = False


def plan(entries: list[tuple[int, str, str]]) -> tuple[set[str], set[str], bool]:
    """(devices to reload, employees to reload, whether every verdict must be re-read)."""
    devices: set[str] = set()
    employees: set[str] = set()
    everything = False
    for _, kind, key in entries:
        if kind in ("device", "verdicts") and key:
            devices.add(key)
        elif kind == "employee":
            employees.add(key)
        elif kind in GLOBAL_KINDS or kind == "verdicts":
            everything = True
    return devices, employees, everything


def apply_changes(
    fleet: FleetIndex,
    decisions: DecisionService,
    verdicts: dict[str, dict[str, Verdict]],
    uow: UnitOfWork,
    entries: list[tuple[int, str, str]],
) -> SyncReport:
    """Bring memory up to date with `entries`, reading inside `uow`'s snapshot.

    `verdicts` (policy -> device -> verdict) is updated in place.
    """
    report = SyncReport(entries=len(entries))
    devices, employees, everything = plan(entries)
    for email in employees:
        employee = uow.inventory.employee(email)
        if employee is not None:
            fleet.upsert_employee(employee)
            owner = fleet.employee_slot[email]
            devices.update(fleet.keys[s] for s in fleet.employee_devices.get(owner, ()))
    old_identities: dict[str, tuple[str, ...]] = {}
    for key in devices:
        slot = fleet.slot_of.get(key)
        if slot is not None:
            old_identities[key] = device_identity_keys(fleet, slot)
        device = uow.inventory.device(key)
        if device is None:
            fleet.remove_device(key)
        else:
            load_device(fleet, device)
    titles = titles_of(s.version for s in uow.policies.active())
    if everything:
        verdicts.clear()
        verdicts.update(by_policy(uow.verdicts.all()))
        decisions.rebuild(fleet, (v for p in verdicts.values() for v in p.values()), titles)
        report.reloaded_verdicts = True
    elif devices:
        for policy_verdicts in verdicts.values():
            for key in devices:
                policy_verdicts.pop(key, None)
        per_device: dict[str, list[Verdict]] = {}
        for key in devices:
            per_device[key] = uow.verdicts.for_device(key)
            for verdict in per_device[key]:
                verdicts.setdefault(verdict.policy, {})[key] = verdict
        decisions.update_devices(fleet, devices, per_device, titles, old_identities)
    rederive = {k for _, kind, k in entries if kind == ENFORCEMENT_CHANGE} - devices
    if rederive and not everything:
        # armed or disarmed elsewhere: same verdicts, new decisions (the book was reloaded)
        decisions.update_devices(
            fleet,
            rederive,
            {k: [p[k] for p in verdicts.values() if k in p] for k in rederive},
            titles,
        )
    report.devices = len(devices | rederive)
    report.employees = len(employees)
    return report
