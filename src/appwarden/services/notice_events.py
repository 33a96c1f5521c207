"""Notices that follow from transitions and from the calendar, within approved campaigns.

* blocked:   a device's deadline passed and its announced (armed) block took effect
* restored:  a device that was blocked complies again
* reminders: 7 and 1 days (setting `notice_reminders`) before the deadline, to people whose
             devices still fail; they repeat the approved text to a subset of its recipients,
             so they need no new approval
* follow-up: devices that start failing after a campaign (newly failing, exemption expired,
             new deadline) are announced by a new draft, approved like any other
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appwarden.core.campaign import CampaignKind, CampaignStatus, Mode, NoticeKind
from appwarden.core.enforcement import needs_announcement
from appwarden.core.notice import NewNotice, NoticeState
from appwarden.core.schedule import reminders_due
from appwarden.core.timeutil import iso
from appwarden.services.campaign_plan import current_version, fleet_lookup, recipient_data
from appwarden.services.campaigns import Deps, draft
from appwarden.services.outbox import enqueue
from appwarden.services.ports import UnitOfWork

CURSOR = "notices.transition_cursor"
FOLLOW_UP = ("newly_failing", "exemption_expired", "changed", "became_unknown")


@dataclass
class EventsReport:
    blocked: int = 0
    restored: int = 0
    reminders: int = 0
    drafted: list[str] = field(default_factory=list)


def process(uow: UnitOfWork, deps: Deps, now: datetime, batch: int = 5000) -> EventsReport:
    report = EventsReport()
    cursor = uow.campaigns.cursor(CURSOR)
    follow: set[str] = set()
    pending: dict[tuple[str, str, NoticeKind], list[dict[str, Any]]] = {}
    while True:
        rows = uow.verdicts.transitions(cursor, batch)
        if not rows:
            break
        for row in rows:
            _transition(uow, row, pending, follow)
        cursor = int(rows[-1]["id"])
    uow.campaigns.set_cursor(CURSOR, cursor)
    for (campaign, employee, kind), devices in sorted(pending.items()):
        _notify(uow, deps, campaign, employee, kind, devices, now)
        if kind is NoticeKind.BLOCKED:
            report.blocked += 1
        else:
            report.restored += 1
    for slug in sorted(follow):
        drafted = _follow_up(uow, deps, slug, now)
        if drafted:
            report.drafted.append(drafted)
    report.reminders = reminders(uow, deps, now)
    return report


def _transition(
    uow: UnitOfWork,
    row: dict[str, Any],
    pending: dict[tuple[str, str, NoticeKind], list[dict[str, Any]]],
    follow: set[str],
) -> None:
    kind, device, policy = row["kind"], row["device"], row["policy"]
    detail = row.get("detail") or {}
    if kind in FOLLOW_UP:
        follow.add(policy)
    if kind == "deadline_passed" and row["new"] == "blocked":
        found = uow.campaigns.live_enforcement_for(device, policy)
        if found is not None:
            new = detail.get("new") or {}
            pending.setdefault((found.campaign, found.employee, NoticeKind.BLOCKED), []).append(
                {"key": device, "apps": new.get("apps", []), "deadline": new.get("deadline")}
            )
    elif kind == "resolved" and row["old"] == "blocked":
        found = uow.campaigns.live_enforcement_for(device, policy)
        if found is not None:
            pending.setdefault((found.campaign, found.employee, NoticeKind.RESTORED), []).append(
                {"key": device, "apps": [], "deadline": None}
            )


def _notify(
    uow: UnitOfWork,
    deps: Deps,
    campaign_id: str,
    employee: str,
    kind: NoticeKind,
    devices: list[dict[str, Any]],
    now: datetime,
) -> None:
    campaign = uow.campaigns.get(campaign_id)
    if campaign is None or not campaign.status.live:
        return
    facts = fleet_lookup(deps.fleet)
    lines = []
    owner = None
    for d in devices:
        found = facts(d["key"])
        owner = owner or (found.owner if found else None)
        lines.append(
            {
                "key": d["key"],
                "name": found.name if found else d["key"],
                "platform": found.platform if found else "",
                "apps": d["apps"],
            }
        )
    if owner is None:
        return
    notice = NewNotice(
        campaign.id,
        kind,
        employee,
        owner.locale,
        owner.timezone,
        secrets.token_urlsafe(18),
        recipient_data(owner.name, lines, campaign.deadline),
    )
    _queue(uow, deps, [notice], now)


def _queue(uow: UnitOfWork, deps: Deps, notices: list[NewNotice], now: datetime) -> None:
    if not notices:
        return
    uow.campaigns.add_notices(notices, now)
    tokens = {n.token for n in notices}
    campaign = notices[0].campaign
    created = [
        n for n in uow.campaigns.notices(campaign, [NoticeState.PLANNED]) if n.token in tokens
    ]
    enqueue(uow, created, now, Mode.LIVE, deps.config.sender, now)


def _follow_up(uow: UnitOfWork, deps: Deps, slug: str, now: datetime) -> str:
    stored = uow.policies.current(slug)
    if stored is None or not stored.active:
        return ""
    mine = uow.campaigns.find(slug)
    if any(c.status.open and c.kind is CampaignKind.ANNOUNCE for c in mine):
        return ""  # an open draft is re-planned from the verdicts at its preview anyway
    live = [c for c in mine if c.status.live and c.mode is Mode.LIVE]
    if not live:
        return ""  # the policy's first announcement is drafted when it is applied
    pv = current_version(uow, slug)
    campaign = draft(
        uow,
        deps,
        pv,
        "system:follow-up",
        now,
        parent=live[-1].id,
        reason="devices failing after the last campaign",
    )
    return campaign.id if campaign else ""


def reminders(uow: UnitOfWork, deps: Deps, now: datetime) -> int:
    """Queue the reminders that are due, once per campaign and offset."""
    total = 0
    statuses = [CampaignStatus.SENDING.value, CampaignStatus.SENT.value]
    for campaign in uow.campaigns.find(statuses=statuses):
        if campaign.mode is not Mode.LIVE or campaign.deadline is None:
            continue
        done = uow.campaigns.reminders_done(campaign.id)
        for offset in reminders_due(campaign.deadline, deps.config.reminders, now, done):
            total += _remind(uow, deps, campaign.id, campaign.policy, now)
            uow.campaigns.add_reminder(campaign.id, offset, now)
    return total


def _remind(uow: UnitOfWork, deps: Deps, campaign_id: str, policy: str, now: datetime) -> int:
    still = {v.device: v for v in uow.verdicts.for_policy(policy).values() if needs_announcement(v)}
    by_employee: dict[str, list[str]] = {}
    for e in uow.campaigns.enforcements(campaign_id):
        v = still.get(e.device)
        if (
            e.state.value == "armed"
            and v is not None
            and v.version == e.version
            and (iso(v.deadline or v.enforce_at) == iso(e.deadline))
        ):
            by_employee.setdefault(e.employee, []).append(e.device)
    facts = fleet_lookup(deps.fleet)
    notices = []
    for employee, devices in sorted(by_employee.items()):
        found = [f for f in (facts(d) for d in devices) if f is not None]
        if not found or found[0].owner is None:
            continue
        owner = found[0].owner
        lines = [
            {"key": f.key, "name": f.name, "platform": f.platform, "apps": list(still[f.key].apps)}
            for f in found
        ]
        notices.append(
            NewNotice(
                campaign_id,
                NoticeKind.REMINDER,
                employee,
                owner.locale,
                owner.timezone,
                secrets.token_urlsafe(18),
                recipient_data(owner.name, lines, still[found[0].key].deadline),
            )
        )
    _queue(uow, deps, notices, now)
    return len(notices)
