"""Table-driven policy semantics: tests/cases/*.yaml.

Each case gives employees, devices, policies, exemptions and attestations, then one or more steps
(an instant, optionally changed devices) with the exact verdicts and transitions expected. Every
step also checks that the single-device path agrees with the fleet path, verdict for verdict.
The format is described in tests/cases/README.md.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from appwarden.adapters.catalog_file import merge_data, shipped_catalog_data
from appwarden.core.assess import assess_device
from appwarden.core.catalog import catalog_from_data
from appwarden.core.exemptions import (
    Attestation,
    AttestationBook,
    Exemption,
    ExemptionBook,
    TargetKind,
)
from appwarden.core.fleet import FleetIndex, load_device
from appwarden.core.fleet_assess import assess_fleet
from appwarden.core.inventory import (
    AppRef,
    Device,
    Employee,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
    Visibility,
)
from appwarden.core.matching import BarredApps
from appwarden.core.policy import PolicyVersion
from appwarden.core.policy_spec import policy_digest, policy_from_data
from appwarden.core.timeutil import iso, parse_instant

CASES = sorted((Path(__file__).parent.parent / "cases").glob("*.yaml"))
DEFAULT_POLICY: dict[str, Any] = {
    "slug": "tiktok-mail",
    "title": {"en": "No TikTok", "ar": "لا تيك توك"},
    "reason": {"en": "Security risk", "ar": "خطر أمني"},
    "owner": "security@corp.example",
    "scope": {"platforms": ["ios", "ipados", "android"]},
    "rule": {"barred_apps": [{"id": "com.zhiliaoapp.musically"}]},
    "deadline": {"at": "2020-07-10T18:00", "timezone": "America/Los_Angeles"},
    "after_deadline": "block_mail",
    "unknown": "attest",
}
DEFAULT_PUBLISHED = "2020-07-01T16:00:00Z"


def _t(value: Any) -> Any:
    return parse_instant(str(value).replace(" ", "T"), "UTC")


def _employee(row: dict[str, Any]) -> Employee:
    return Employee(
        email=row["email"].lower(),
        name=row.get("name", ""),
        locale=row.get("locale", "en"),
        timezone=row.get("timezone", "UTC"),
        department=row.get("department", ""),
        country=row.get("country", ""),
        groups=frozenset(row.get("groups", [])),
    )


def _device(row: dict[str, Any]) -> Device:
    platform = Platform(row.get("platform", "android"))
    apps = set()
    for item in row.get("apps", []):
        if isinstance(item, str):
            apps.add(InstalledApp(AppRef.of(platform, item), item))
        else:
            ref = AppRef.of(platform, item["id"]) if item.get("id") else None
            apps.add(
                InstalledApp(
                    ref,
                    item.get("name", ""),
                    publisher=item.get("publisher", ""),
                    space=platform.app_space,
                )
            )
    patch = row.get("android_patch")
    mail = row.get("mail", True)
    return Device(
        key=row["key"],
        platform=platform,
        owner=row.get("owner", "a@corp.example"),
        ownership=Ownership(row.get("ownership", "corporate")),
        visibility=Visibility(row.get("visibility", "all")),
        os_version=str(row.get("os_version", "")),
        android_patch=patch
        if isinstance(patch, date) or patch is None
        else date.fromisoformat(patch),
        mail=MailIdentities(tuple(row.get("eas", []))),
        has_mail_access=bool(mail),
        apps=frozenset(apps),
    )


def _versions(case: dict[str, Any]) -> list[PolicyVersion]:
    out = []
    for row in case.get("policies", [{}]):
        spec = {**DEFAULT_POLICY, **row.get("spec", {})}
        policy = policy_from_data(spec, "case")
        published = _t(row.get("published", DEFAULT_PUBLISHED))
        out.append(
            PolicyVersion(
                policy,
                row.get("version", 1),
                published,
                policy.deadline.resolve(published),
                digest=policy_digest(policy),
            )
        )
    return out


def _exemptions(case: dict[str, Any]) -> ExemptionBook:
    rows = []
    for i, row in enumerate(case.get("exemptions", [])):
        kind, _, target = row["target"].partition(":")
        rows.append(
            Exemption(
                id=row.get("id", f"ex{i}"),
                target_kind=TargetKind(kind),
                target=target,
                policy=row.get("policy", "tiktok-mail"),
                reason="case",
                approver="approver@corp.example",
                created_by="author@corp.example",
                created_at=_t(row.get("created", "2020-01-01T00:00Z")),
                expires_at=_t(row["expires"]),
                revoked_at=_t(row["revoked"]) if row.get("revoked") else None,
            )
        )
    return ExemptionBook(rows)


def _attestations(case: dict[str, Any]) -> AttestationBook:
    return AttestationBook(
        Attestation(
            id=f"att{i}",
            device=row["device"],
            policy=row.get("policy", "tiktok-mail"),
            employee=row.get("employee", "a@corp.example"),
            statement="no barred app",
            signed_at=_t(row.get("signed", "2020-07-01T00:00Z")),
            expires_at=_t(row["expires"]),
        )
        for i, row in enumerate(case.get("attestations", []))
    )


def _check_verdict(key: str, got: Any, want: Any) -> None:
    if isinstance(want, str):
        want = {"status": want}
    assert got is not None, f"{key}: expected {want['status']}, got compliant/out of scope"
    assert got.status.value == want["status"], (
        f"{key}: status {got.status.value} != {want['status']}"
    )
    for field in ("deadline", "until", "enforce_at"):
        if field in want:
            expected = iso(_t(want[field])) if want[field] else None
            assert iso(getattr(got, field)) == expected, (
                f"{key}: {field} {iso(getattr(got, field))}"
            )
    if "apps" in want:
        assert sorted(got.apps) == sorted(want["apps"]), f"{key}: apps {got.apps}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = shipped_catalog_data()
    if case.get("catalog"):
        data = merge_data(data, case["catalog"])
    catalog = catalog_from_data(data)
    employees = {
        e.email: e for e in map(_employee, case.get("employees", [{"email": "a@corp.example"}]))
    }
    versions = _versions(case)
    exemptions = _exemptions(case)
    attestations = _attestations(case)
    devices = {d["key"]: d for d in case.get("devices", [])}
    previous: dict[str, dict[str, Any]] = {}
    assert case.get("steps"), f"{path.name}: a case needs steps"
    for number, step in enumerate(case["steps"], 1):
        for row in step.get("devices", []):
            devices[row["key"]] = row
        for key in step.get("remove_devices", []):
            devices.pop(key, None)
        now = _t(step["now"])
        fleet = FleetIndex()
        for employee in employees.values():
            fleet.upsert_employee(employee)
        built = {k: _device(v) for k, v in devices.items()}
        for dev in built.values():
            load_device(fleet, dev)
        result = assess_fleet(fleet, versions, catalog, exemptions, attestations, previous, now)
        current = result.verdicts()
        where = f"{path.name} step {number} ({step['now']})"
        expect = step.get("expect", {})
        wanted = {tuple(k.split("/")): v for k, v in (expect.get("verdicts") or {}).items()}
        for key, want in wanted.items():
            _check_verdict(f"{where} {'/'.join(key)}", current.get(key), want)
        unexpected = {
            "/".join(k): v.status.value
            for k, v in current.items()
            if k not in wanted and not v.is_plain_compliant
        }
        assert not unexpected, f"{where}: verdicts not in the case: {unexpected}"
        for key in expect.get("out_of_scope", []):
            dev_key, slug = key.split("/")
            slot = fleet.slot_of[dev_key]
            assert slot not in result.results[slug].scope, f"{where}: {key} should be out of scope"
        for key in expect.get("compliant", []):
            dev_key, slug = key.split("/")
            assert fleet.slot_of[dev_key] in result.results[slug].scope, (
                f"{where}: {key} not in scope"
            )
            assert (
                current.get((dev_key, slug)) is None
                or current[(dev_key, slug)].status.value == "compliant"
            )
        if "transitions" in expect:
            got = sorted(f"{t.device}/{t.policy} {t.kind.value}" for t in result.transitions)
            assert got == sorted(expect["transitions"] or []), f"{where}: transitions {got}"
        # the single-device path must agree with the fleet path
        for key, dev in built.items():
            facts = fleet.facts(key)
            assert facts is not None
            for pv in versions:
                single = assess_device(
                    facts,
                    pv,
                    BarredApps(pv.policy.rule.barred, catalog),
                    exemptions,
                    attestations,
                    previous.get(pv.slug, {}).get(key),
                    now,
                )
                fleet_verdict = current.get((key, pv.slug))
                if single is None or single.is_plain_compliant:
                    assert fleet_verdict is None, f"{where}: {key}/{pv.slug} paths disagree"
                else:
                    assert single == fleet_verdict, f"{where}: {key}/{pv.slug} paths disagree"
            del dev
        previous = result.by_policy()
