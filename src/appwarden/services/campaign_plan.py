"""From the verdicts of record to a campaign plan, its digest, and the notices' render context."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appwarden.core.campaign import (
    Campaign,
    DeviceFacts,
    HaltRules,
    NoticeKind,
    OwnerFacts,
    Plan,
    plan_digest,
    plan_recipients,
    text_digest,
)
from appwarden.core.errors import NotFound
from appwarden.core.fleet import FleetIndex
from appwarden.core.notice import Notice
from appwarden.core.policy import Action, PolicyVersion
from appwarden.core.timeutil import iso, parse_instant
from appwarden.services.ports import NoticeRenderer, UnitOfWork

TEXT_FIELDS = ("title", "reason", "remediation")


@dataclass(frozen=True, slots=True)
class NoticeConfig:
    """Every knob of the notice machinery (settings.py declares and documents them)."""

    sender: str = "AppWarden <appwarden@localhost>"
    verify_url: str = "http://127.0.0.1:8470/v1/verify/"
    approval_threshold: int = 100
    canary: str = "1%"
    waves: int = 4
    wave_interval: timedelta = timedelta(hours=1)
    undo_window: timedelta = timedelta(minutes=10)
    reminders: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=1))
    halt: HaltRules = field(default_factory=lambda: HaltRules(0.05, 3))
    test_recipients: tuple[str, ...] = ()
    batch: int = 200  # messages claimed per transaction by a sender


def fleet_lookup(fleet: FleetIndex) -> Callable[[str], DeviceFacts | None]:
    """Device and owner facts from the in-memory fleet index (no database round trips)."""
    owners: dict[int, OwnerFacts] = {}

    def lookup(key: str) -> DeviceFacts | None:
        slot = fleet.slot_of.get(key)
        if slot is None or slot not in fleet.live:
            return None
        owner_slot = fleet.owner[slot]
        owner = owners.get(owner_slot)
        if owner is None and owner_slot >= 0:
            e = fleet.employees[owner_slot]
            owner = owners[owner_slot] = OwnerFacts(
                e.email.lower(), e.name, e.locale, e.timezone, e.department, e.country
            )
        return DeviceFacts(
            key,
            fleet.names[slot],
            fleet.platform_of(slot).value,
            fleet.ownership_of(slot).value,
            owner,
        )

    return lookup


def policy_version(uow: UnitOfWork, slug: str, number: int) -> PolicyVersion:
    for stored in uow.policies.history(slug):
        if stored.version.version == number:
            return stored.version
    raise NotFound(f"policy {slug!r} has no version {number}")


def current_version(uow: UnitOfWork, slug: str) -> PolicyVersion:
    stored = uow.policies.current(slug)
    if stored is None or not stored.active:
        raise NotFound(f"no active policy {slug!r}; `appwarden policy list` shows them")
    return stored.version


def announce_plan(uow: UnitOfWork, fleet: FleetIndex, campaign: Campaign) -> Plan:
    """Owners of devices whose block (or warning) for this policy version nobody announced yet."""
    announced = uow.campaigns.announced_keys(campaign.policy)
    verdicts = uow.campaigns.verdicts_to_announce(campaign.policy, campaign.version)
    return plan_recipients(campaign.policy, verdicts, fleet_lookup(fleet), announced.__contains__)


def texts_of(pv: PolicyVersion, locales: Iterable[str]) -> dict[str, str]:
    out = {}
    for locale in sorted(set(locales) | {"en"}):
        for name in TEXT_FIELDS:
            out[f"{locale}.{name}"] = pv.policy.text(name, locale)
    out["owner"] = pv.policy.owner
    out["action"] = pv.policy.action.value
    return out


def digest_of(
    campaign: Campaign, plan: Plan, pv: PolicyVersion, renderer: NoticeRenderer, extra: str = ""
) -> tuple[str, str]:
    """(plan digest, text digest): what an approval binds."""
    locales = {r.owner.locale for r in plan.recipients}
    texts = texts_of(pv, locales)
    texts["templates"] = renderer.digest()
    tdigest = text_digest(texts)
    return plan_digest(campaign, plan.recipients, tdigest, extra), tdigest


def notice_view(
    notice: Notice, pv: PolicyVersion, verify_url: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One notice as the templates see it."""
    locale = notice.locale
    data = notice.data
    deadline = data.get("deadline")
    return {
        "kind": notice.kind.value,
        "title": pv.policy.text("title", locale),
        "reason": pv.policy.text("reason", locale),
        "remediation": pv.policy.text("remediation", locale),
        "owner": pv.policy.owner,
        "blocks": pv.policy.action is Action.BLOCK_MAIL,
        "deadline": parse_instant(deadline) if deadline else None,
        "devices": data.get("devices", []),
        "verify_url": verify_url + notice.token,
        "retraction_reason": data.get("retraction_reason", ""),
        **(extra or {}),
    }


def message_context(
    notices: list[tuple[Notice, PolicyVersion]], verify_url: str, test: bool
) -> dict[str, Any]:
    first = notices[0][0]
    return {
        "test": test,
        "person": {"name": first.data.get("name", ""), "email": first.employee},
        "locale": first.locale,
        "timezone": first.timezone,
        "notices": [notice_view(n, pv, verify_url) for n, pv in notices],
    }


def recipient_data(
    name: str, devices: list[dict[str, Any]], deadline: datetime | None
) -> dict[str, Any]:
    return {"name": name, "devices": devices, "deadline": iso(deadline)}


KIND_FOR_CAMPAIGN = {"announce": NoticeKind.ANNOUNCE, "correction": NoticeKind.CORRECTION}
