"""Table-driven policy semantics: tests/cases/*.yaml.

Each case gives employees, devices, policies, exemptions and attestations, then one or more steps
(an instant, optionally changed devices or policies) with the exact verdicts and transitions
expected, and optionally what a mail gateway is told. Every step also checks that the
single-device path, run on the case's own device values, agrees with the fleet path verdict for
verdict, and so does the single-slot path that check-ins use (one slot of the fleet index).
The format is described in tests/cases/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from appwarden.core.assess import assess_device
from appwarden.core.catalog import Catalog
from appwarden.core.decision import DecisionIndex, decide, entries_for_device, titles_of
from appwarden.core.exemptions import AttestationBook, ExemptionBook
from appwarden.core.fleet import FleetIndex, load_device
from appwarden.core.fleet_assess import FleetAssessment, MatchCache, assess_fleet, assess_slot
from appwarden.core.inventory import Device, DeviceFacts, Employee
from appwarden.core.matching import BarredApps
from appwarden.core.policy import PolicyVersion
from appwarden.core.timeutil import iso, to_epoch
from appwarden.core.verdict import FindingKind, Verdict, VerdictKey
from tests.support import cases as c

CASES = sorted((Path(__file__).parent.parent / "cases").glob("*.yaml"))
Verdicts = dict[VerdictKey, Verdict]


class World:
    """The state a case builds up step by step."""

    def __init__(self, case: Mapping[str, Any]) -> None:
        self.catalog: Catalog = c.catalog_for(case)
        self.employees: dict[str, Employee] = c.employees(case)
        self.versions: list[PolicyVersion] = c.versions(case.get("policies", [{}]))
        self.exemptions: ExemptionBook = c.exemptions(case)
        self.attestations: AttestationBook = c.attestations(case)
        self.staleness = c.staleness(case)
        self.rows: dict[str, Mapping[str, Any]] = {d["key"]: d for d in case.get("devices", [])}
        self.previous: dict[str, dict[str, Verdict]] = {}  # by policy, then device

    def apply(self, step: Mapping[str, Any]) -> None:
        for row in step.get("devices", []):
            self.rows[row["key"]] = row
        for key in step.get("remove_devices", []):
            assert key in self.rows, f"remove_devices: no device {key!r} to remove"
            del self.rows[key]
        if "policies" in step:
            self.versions = c.versions(step["policies"])

    def assess(self, now: datetime) -> tuple[FleetIndex, dict[str, Device], FleetAssessment]:
        fleet = FleetIndex()
        for person in self.employees.values():
            fleet.upsert_employee(person)
        devices = {key: c.device(row) for key, row in self.rows.items()}
        for dev in devices.values():
            load_device(fleet, dev)
        result = assess_fleet(
            fleet,
            self.versions,
            self.catalog,
            self.exemptions,
            self.attestations,
            self.previous,
            now,
            staleness=self.staleness,
        )
        return fleet, devices, result


def _check_verdict(where: str, got: Verdict | None, want: Any) -> None:
    if isinstance(want, str):
        want = {"status": want}
    c.check_keys(want, c.VERDICT_KEYS, where)
    assert got is not None, f"{where}: expected {want['status']}, got compliant/out of scope"
    assert got.status.value == want["status"], f"{where}: status {got.status.value}"
    for name in ("deadline", "until", "enforce_at"):
        if name in want:
            expected = iso(c.instant(want[name])) if want[name] else None
            assert iso(getattr(got, name)) == expected, f"{where}: {name} {iso(getattr(got, name))}"
    if "apps" in want:
        assert sorted(got.apps) == sorted(want["apps"]), f"{where}: apps {got.apps}"
    barred = [f for f in got.findings if f.kind is FindingKind.BARRED_APP]
    if "confidence" in want:
        levels = sorted({f.confidence.value for f in barred})
        assert levels == [want["confidence"]], f"{where}: confidence {levels}"
    if "findings" in want:
        kinds = sorted(f.kind.value for f in got.findings)
        assert kinds == sorted(want["findings"]), f"{where}: findings {kinds}"


def _check_scope(where: str, fleet: FleetIndex, result: FleetAssessment, expect: Any) -> None:
    current = result.verdicts()
    for key in expect.get("out_of_scope", []):
        dev, slug = key.split("/")
        assert fleet.slot_of[dev] not in result.results[slug].scope, f"{where}: {key} in scope"
    for key in expect.get("compliant", []):
        dev, slug = key.split("/")
        assert fleet.slot_of[dev] in result.results[slug].scope, f"{where}: {key} not in scope"
        verdict = current.get((dev, slug))
        assert verdict is None or verdict.status.value == "compliant", (
            f"{where}: {key} is {verdict.status.value if verdict else '?'}"
        )


def _check_decisions(
    where: str, world: World, current: Verdicts, fleet: FleetIndex, now: datetime, expect: Any
) -> None:
    titles = titles_of(world.versions)
    for number, (dev, want) in enumerate(sorted(expect.items()), 1):
        if isinstance(want, str):
            want = {"effect": want}
        c.check_keys(want, c.DECISION_KEYS, f"{where} decisions.{dev}")
        facts = fleet.facts(dev)
        assert facts is not None, f"{where}: decisions name unknown device {dev}"
        mine = [v for (d, _), v in current.items() if d == dev]
        index = DecisionIndex(entries_for_device(facts.device.identity_keys(), dev, mine, titles))
        for identity in facts.device.identity_keys():
            got = decide(index, identity, to_epoch(now), number)
            assert got.outcome is not None, f"{where}: {identity} not in the index"
            assert got.outcome.effect.value == want["effect"], f"{where}: {dev} {got.outcome}"
            for part in ("deny", "warn", "dry_run"):
                if part in want:
                    slugs = sorted(r.policy for r in getattr(got.outcome, part))
                    assert slugs == sorted(want[part]), f"{where}: {dev} {part} {slugs}"


def _check_paths_agree(
    where: str,
    world: World,
    fleet: FleetIndex,
    devices: dict[str, Device],
    current: Verdicts,
    now: datetime,
) -> None:
    """The single-device path on the case's own Device values, and the single-slot path on
    the fleet index, give the fleet's verdicts."""
    for key, dev in devices.items():
        owner = world.employees.get(dev.owner.lower()) if dev.owner else None
        for pv in world.versions:
            barred = BarredApps(pv.policy.rule.barred, world.catalog)
            previous = world.previous.get(pv.slug, {}).get(key)
            single = assess_device(
                DeviceFacts(dev, owner),
                pv,
                barred,
                world.exemptions,
                world.attestations,
                previous,
                now,
                world.staleness,
            )
            slot = assess_slot(
                fleet,
                fleet.slot_of[key],
                pv,
                MatchCache(barred),
                world.exemptions,
                world.attestations,
                previous,
                now,
                world.staleness,
            )
            fleet_verdict = current.get((key, pv.slug))
            for path, other in (("single-device", single), ("single-slot", slot)):
                if other is None or other.is_plain_compliant:
                    assert fleet_verdict is None, f"{where}: {key}/{pv.slug} {path} disagrees"
                else:
                    assert other == fleet_verdict, f"{where}: {key}/{pv.slug} {path} disagrees"


def _run_step(path: Path, number: int, world: World, step: Mapping[str, Any]) -> None:
    c.check_keys(step, c.STEP_KEYS, f"step {number}")
    world.apply(step)
    now = c.instant(step["now"])
    fleet, devices, result = world.assess(now)
    current = result.verdicts()
    where = f"{path.name} step {number} ({step['now']})"
    expect = c.check_keys(step.get("expect", {}), c.EXPECT_KEYS, f"{where} expect")
    assert "transitions" in expect, f"{where}: every step states its transitions ([] for none)"
    wanted = {tuple(k.split("/")): v for k, v in (expect.get("verdicts") or {}).items()}
    for key, want in wanted.items():
        _check_verdict(f"{where} {'/'.join(key)}", current.get(key), want)
    unexpected = {
        "/".join(k): v.status.value
        for k, v in current.items()
        if k not in wanted and not v.is_plain_compliant
    }
    assert not unexpected, f"{where}: verdicts not in the case: {unexpected}"
    _check_scope(where, fleet, result, expect)
    got = sorted(f"{t.device}/{t.policy} {t.kind.value}" for t in result.transitions)
    assert got == sorted(expect["transitions"] or []), f"{where}: transitions {got}"
    _check_decisions(where, world, current, fleet, now, expect.get("decisions") or {})
    _check_paths_agree(where, world, fleet, devices, current, now)
    world.previous = result.by_policy()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = c.check_keys(yaml.safe_load(path.read_text(encoding="utf-8")), c.CASE_KEYS, path.name)
    assert str(case.get("description", "")).strip(), f"{path.name}: say what the case proves"
    assert case.get("steps"), f"{path.name}: a case needs steps"
    world = World(case)
    for number, step in enumerate(case["steps"], 1):
        _run_step(path, number, world, step)


def test_enough_cases() -> None:
    """Issue 2 asks for at least 30 cases; the set must not shrink by accident."""
    assert len(CASES) >= 48


@pytest.mark.parametrize(
    ("data", "allowed"),
    [
        ({"verdict": {}}, c.EXPECT_KEYS),
        ({"now": "2020-07-05T00:00:00Z", "expected": {}}, c.STEP_KEYS),
        ({"status": "pending", "deadlin": None}, c.VERDICT_KEYS),
        (["not", "a", "mapping"], c.CASE_KEYS),
    ],
)
def test_a_misspelt_or_misplaced_key_fails_the_case(data: Any, allowed: set[str]) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"case\.yaml"):
        c.check_keys(data, allowed, "case.yaml")
