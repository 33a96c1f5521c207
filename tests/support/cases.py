"""Reading tests/cases/*.yaml into core values, strictly.

A case file with a misspelt key would silently check nothing, so every mapping in a case is held
to the keys the format (tests/cases/README.md) defines, and a stray key fails the case by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pytest

from appwarden.adapters.catalog_file import merge_data, shipped_catalog_data
from appwarden.core.catalog import Catalog, catalog_from_data
from appwarden.core.exemptions import (
    Attestation,
    AttestationBook,
    Exemption,
    ExemptionBook,
    TargetKind,
)
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
from appwarden.core.policy import PolicyVersion
from appwarden.core.policy_data import policy_digest
from appwarden.core.policy_spec import policy_from_data
from appwarden.core.staleness import StaleEffect, Staleness
from appwarden.core.timeutil import parse_duration, parse_instant

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
DEFAULT_EMPLOYEE = {"email": "a@corp.example"}

CASE_KEYS = {
    "description",
    "catalog",
    "employees",
    "devices",
    "policies",
    "exemptions",
    "attestations",
    "staleness",
    "steps",
}
EMPLOYEE_KEYS = {"email", "name", "locale", "timezone", "department", "country", "groups"}
DEVICE_KEYS = {
    "key",
    "platform",
    "owner",
    "ownership",
    "visibility",
    "os_version",
    "android_patch",
    "mail",
    "eas",
    "apps",
    "last_seen",
}
APP_KEYS = {"id", "name", "publisher"}
POLICY_KEYS = {"published", "version", "spec"}
EXEMPTION_KEYS = {"id", "target", "policy", "created", "expires", "revoked"}
ATTESTATION_KEYS = {"device", "policy", "employee", "signed", "expires", "revoked"}
STALENESS_KEYS = {"after", "effect"}
STEP_KEYS = {"now", "devices", "remove_devices", "policies", "expect"}
EXPECT_KEYS = {"verdicts", "compliant", "out_of_scope", "transitions", "decisions"}
VERDICT_KEYS = {"status", "deadline", "until", "enforce_at", "apps", "confidence", "findings"}
DECISION_KEYS = {"effect", "deny", "warn", "dry_run"}


def check_keys(data: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    """Fail the case, naming the place, when `data` is not a mapping of allowed keys."""
    if not isinstance(data, Mapping):
        pytest.fail(f"{where}: expected a mapping, got {data!r}")
    stray = sorted(set(data) - allowed)
    if stray:
        pytest.fail(f"{where}: unknown key(s) {stray}; allowed: {sorted(allowed)}")
    return data


def instant(value: Any) -> datetime:
    """Case instants: ISO 8601, `Z` or an offset; naive values are UTC."""
    return parse_instant(str(value).replace(" ", "T"), "UTC")


def catalog_for(case: Mapping[str, Any]) -> Catalog:
    data = shipped_catalog_data()
    if case.get("catalog"):
        data = merge_data(data, case["catalog"])
    return catalog_from_data(data)


def employee(row: Mapping[str, Any], where: str) -> Employee:
    check_keys(row, EMPLOYEE_KEYS, where)
    return Employee(
        email=row["email"].lower(),
        name=row.get("name", ""),
        locale=row.get("locale", "en"),
        timezone=row.get("timezone", "UTC"),
        department=row.get("department", ""),
        country=row.get("country", ""),
        groups=frozenset(row.get("groups", [])),
    )


def employees(case: Mapping[str, Any]) -> dict[str, Employee]:
    rows = case.get("employees", [DEFAULT_EMPLOYEE])
    built = (employee(row, f"employees[{i}]") for i, row in enumerate(rows))
    return {e.email: e for e in built}


def installed_app(item: Any, platform: Platform, where: str) -> InstalledApp:
    if isinstance(item, str):
        return InstalledApp(AppRef.of(platform, item), item)
    check_keys(item, APP_KEYS, where)
    ref = AppRef.of(platform, item["id"]) if item.get("id") else None
    return InstalledApp(
        ref,
        item.get("name", ""),
        publisher=item.get("publisher", ""),
        space=platform.app_space,
    )


def device(row: Mapping[str, Any]) -> Device:
    where = f"device {row.get('key', '?')}"
    check_keys(row, DEVICE_KEYS, where)
    platform = Platform(row.get("platform", "android"))
    apps = frozenset(
        installed_app(item, platform, f"{where} apps[{i}]")
        for i, item in enumerate(row.get("apps", []))
    )
    patch = row.get("android_patch")
    return Device(
        key=row["key"],
        platform=platform,
        owner=row.get("owner", DEFAULT_EMPLOYEE["email"]),
        ownership=Ownership(row.get("ownership", "corporate")),
        visibility=Visibility(row.get("visibility", "all")),
        os_version=str(row.get("os_version", "")),
        android_patch=patch
        if isinstance(patch, date) or patch is None
        else date.fromisoformat(patch),
        mail=MailIdentities(tuple(row.get("eas", []))),
        has_mail_access=bool(row.get("mail", True)),
        apps=apps,
        last_seen=instant(row["last_seen"]) if row.get("last_seen") else None,
    )


def versions(rows: Iterable[Mapping[str, Any]]) -> list[PolicyVersion]:
    out = []
    for i, row in enumerate(rows):
        check_keys(row, POLICY_KEYS, f"policies[{i}]")
        policy = policy_from_data({**DEFAULT_POLICY, **row.get("spec", {})}, f"policies[{i}]")
        published = instant(row.get("published", DEFAULT_PUBLISHED))
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


def exemptions(case: Mapping[str, Any]) -> ExemptionBook:
    rows = []
    for i, row in enumerate(case.get("exemptions", [])):
        check_keys(row, EXEMPTION_KEYS, f"exemptions[{i}]")
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
                created_at=instant(row.get("created", "2020-01-01T00:00Z")),
                expires_at=instant(row["expires"]),
                revoked_at=instant(row["revoked"]) if row.get("revoked") else None,
            )
        )
    return ExemptionBook(rows)


def attestations(case: Mapping[str, Any]) -> AttestationBook:
    rows = []
    for i, row in enumerate(case.get("attestations", [])):
        check_keys(row, ATTESTATION_KEYS, f"attestations[{i}]")
        rows.append(
            Attestation(
                id=f"att{i}",
                device=row["device"],
                policy=row.get("policy", "tiktok-mail"),
                employee=row.get("employee", DEFAULT_EMPLOYEE["email"]),
                statement="no barred app",
                signed_at=instant(row.get("signed", "2020-07-01T00:00Z")),
                expires_at=instant(row["expires"]),
                revoked_at=instant(row["revoked"]) if row.get("revoked") else None,
            )
        )
    return AttestationBook(rows)


def staleness(case: Mapping[str, Any]) -> Staleness | None:
    """The case's staleness setting (`after`, `effect`), or None: staleness off."""
    spec = case.get("staleness")
    if not spec:
        return None
    check_keys(spec, STALENESS_KEYS, "staleness")
    return Staleness(parse_duration(spec["after"]), StaleEffect(spec.get("effect", "unknown")))
