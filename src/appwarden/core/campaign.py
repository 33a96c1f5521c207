"""Campaigns: the notices a policy causes, and the rules that keep them from going out in error.

Lifecycle (a campaign never skips a step; every step is an audit event):

    draft ──preview──► previewed ──approve──► approved ──first message leaves──► sending ──► sent
      ▲                    │                     │  (undo window)                  │
      └── anything changed ┘                     └─undo─► undone      halt ◄───────┤
                                                                     retract ◄─────┘

Who gets a notice is derived from the verdicts of record: every employee owning a device whose
verdict would take something away (core/enforcement.needs_announcement) and that no live
campaign announced yet for that policy version and deadline. The approval binds a digest of the
exact recipients, devices, deadline and text; if the digest changes, the approval is void.

Pure: no I/O, no clock, no randomness (wave membership is a hash of campaign id and address).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from appwarden.core.enforcement import (
    EnforcementKey,
    deadline_text,
    key_of,
    needs_announcement,
)
from appwarden.core.timeutil import iso
from appwarden.core.verdict import Verdict


class CampaignKind(StrEnum):
    ANNOUNCE = "announce"  # a policy's block (or warning) and its deadline
    CORRECTION = "correction"  # retracts another campaign


class NoticeKind(StrEnum):
    ANNOUNCE = "announce"
    REMINDER = "reminder"
    BLOCKED = "blocked"
    RESTORED = "restored"
    CORRECTION = "correction"


class Mode(StrEnum):
    LIVE = "live"
    TEST = "test"  # only to the configured test list, every message marked


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    PREVIEWED = "previewed"
    APPROVED = "approved"  # in its undo window, nothing left yet
    SENDING = "sending"
    SENT = "sent"  # every wave released
    HALTED = "halted"
    UNDONE = "undone"
    RETRACTED = "retracted"
    SUPERSEDED = "superseded"  # a draft replaced by a newer draft for the same policy

    @property
    def open(self) -> bool:
        """Still editable: the plan is recomputed from the verdicts."""
        return self in (CampaignStatus.DRAFT, CampaignStatus.PREVIEWED)

    @property
    def live(self) -> bool:
        """Approved and neither undone nor retracted: its enforcement stands."""
        return self in (
            CampaignStatus.APPROVED,
            CampaignStatus.SENDING,
            CampaignStatus.SENT,
            CampaignStatus.HALTED,
        )


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    kind: CampaignKind
    mode: Mode
    policy: str
    version: int
    status: CampaignStatus
    author: str
    created_at: datetime
    deadline: datetime | None = None
    parent: str = ""  # the campaign a correction retracts, or a follow-up continues
    reason: str = ""
    blocks: bool = False  # announces a mail block
    previewed_digest: str = ""
    approved_digest: str = ""
    approved_by: str = ""
    approved_at: datetime | None = None
    undo_until: datetime | None = None
    recipients: int = 0  # approved (or last previewed) number of people
    waves: int = 0
    released_wave: int = 0
    wave_released_at: datetime | None = None
    halt_reason: str = ""
    text_digest: str = ""


@dataclass(frozen=True, slots=True)
class OwnerFacts:
    email: str
    name: str
    locale: str
    timezone: str
    department: str
    country: str


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    key: str
    name: str
    platform: str
    ownership: str
    owner: OwnerFacts | None


@dataclass(frozen=True, slots=True)
class DeviceLine:
    key: str
    name: str
    platform: str
    ownership: str
    apps: tuple[str, ...]
    status: str
    deadline: datetime
    version: int

    def as_data(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "platform": self.platform,
            "ownership": self.ownership,
            "apps": list(self.apps),
            "status": self.status,
            "deadline": iso(self.deadline),
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class Recipient:
    owner: OwnerFacts
    devices: tuple[DeviceLine, ...]

    @property
    def email(self) -> str:
        return self.owner.email

    @property
    def deadline(self) -> datetime:
        return min(d.deadline for d in self.devices)


@dataclass(frozen=True, slots=True)
class Unreachable:
    device: str
    owner: str
    why: str


@dataclass
class Plan:
    policy: str
    recipients: list[Recipient] = field(default_factory=list)
    unreachable: list[Unreachable] = field(default_factory=list)

    @property
    def devices(self) -> int:
        return sum(len(r.devices) for r in self.recipients)

    def enforcement_keys(self) -> list[tuple[EnforcementKey, str]]:
        """(key, employee) for every device the plan announces."""
        return [
            ((d.key, self.policy, d.version, deadline_text(d.deadline)), r.email)
            for r in self.recipients
            for d in r.devices
        ]


def _valid_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return bool(local and at and "." in domain and " " not in email)


def plan_recipients(
    policy: str,
    verdicts: Iterable[Verdict],
    device_facts: Callable[[str], DeviceFacts | None],
    announced: Callable[[EnforcementKey], bool],
) -> Plan:
    """Who must be told: owners of devices needing an announcement that nobody made yet."""
    plan = Plan(policy)
    by_owner: dict[str, tuple[OwnerFacts, list[DeviceLine]]] = {}
    for verdict in verdicts:
        if not needs_announcement(verdict):
            continue
        key = key_of(verdict)
        if key is None or announced(key):
            continue
        facts = device_facts(verdict.device)
        if facts is None:
            continue  # the device left the inventory; nothing to enforce on it
        owner = facts.owner
        if owner is None or not _valid_email(owner.email):
            why = "no owner in the directory" if owner is None else "owner has no valid email"
            plan.unreachable.append(Unreachable(verdict.device, owner.email if owner else "", why))
            continue
        line = DeviceLine(
            facts.key,
            facts.name,
            facts.platform,
            facts.ownership,
            verdict.apps or tuple(f.label() for f in verdict.findings),
            verdict.status.value,
            verdict.deadline or verdict.enforce_at,  # type: ignore[arg-type]
            verdict.version,
        )
        by_owner.setdefault(owner.email, (owner, []))[1].append(line)
    for email in sorted(by_owner):
        owner, lines = by_owner[email]
        plan.recipients.append(Recipient(owner, tuple(sorted(lines, key=lambda d: d.key))))
    plan.unreachable.sort(key=lambda u: u.device)
    return plan


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def plan_digest(
    campaign: Campaign, recipients: Sequence[Recipient], text_digest: str, extra: str = ""
) -> str:
    """What an approval binds: mode, policy version, deadline, text, and each recipient's lines."""
    h = hashlib.sha256()
    head: list[object] = [campaign.kind.value, campaign.mode.value, campaign.policy]
    head += [campaign.version, iso(campaign.deadline), campaign.parent, text_digest, extra]
    h.update(canonical(head).encode())
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for r in recipients:
        row: list[object] = [r.email, r.owner.locale, r.owner.timezone]
        row += [[d.key, d.apps, deadline_text(d.deadline), d.version] for d in r.devices]
        h.update(b"\n" + dumps(row).encode())
    return h.hexdigest()


def text_digest(texts: Mapping[str, str]) -> str:
    return hashlib.sha256(canonical(dict(texts)).encode()).hexdigest()


# -- approval --------------------------------------------------------------------------------


def needs_second_person(campaign: Campaign, threshold: int) -> bool:
    """A block, a correction, or more people than the threshold need a second person."""
    if campaign.mode is Mode.TEST:
        return False
    return (
        campaign.blocks
        or campaign.kind is CampaignKind.CORRECTION
        or (campaign.recipients > threshold)
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str
    about_person: bool  # True: this person may not approve; False: the campaign's state


def approval_problem(
    campaign: Campaign, approver: str, approver_is_approver: bool, threshold: int
) -> Refusal | None:
    """Why `approver` may not approve `campaign` now (None: they may)."""
    if campaign.mode is Mode.TEST:
        return Refusal("test campaigns are never approved: `campaign test` sends them", False)
    if campaign.status is not CampaignStatus.PREVIEWED:
        return Refusal(
            f"the campaign is {campaign.status.value}; only a previewed campaign can be approved",
            False,
        )
    if not needs_second_person(campaign, threshold):
        return None
    if approver.strip().lower() == campaign.author.strip().lower():
        return Refusal(
            f"{approver} drafted this campaign; a second person with the approver role must "
            "approve it",
            True,
        )
    if not approver_is_approver:
        return Refusal(f"{approver} does not have the approver role", True)
    return None


# -- waves -----------------------------------------------------------------------------------


def canary_size(total: int, canary: str) -> int:
    """`canary` is a number of people ("50") or a share ("1%"); at least 1, at most `total`."""
    text = canary.strip()
    if text.endswith("%"):
        share = float(text[:-1]) / 100
        size = int(-(-total * share // 1))
    else:
        size = int(text)
    return max(1, min(total, size)) if total else 0


def wave_sizes(total: int, canary: str, waves: int) -> list[int]:
    """A canary wave, then up to `waves` further waves of (nearly) equal size."""
    if total == 0:
        return []
    first = canary_size(total, canary)
    rest = total - first
    count = max(1, min(waves, rest)) if rest else 0
    sizes = [first]
    for i in range(count):
        sizes.append(rest // count + (1 if i < rest % count else 0))
    return sizes


def wave_order(campaign_id: str, emails: Iterable[str]) -> list[str]:
    """A stable, spread-out order: the canary is a sample, not the first names alphabetically."""
    return sorted(emails, key=lambda e: hashlib.sha256(f"{campaign_id}:{e}".encode()).digest())


def assign_waves(campaign_id: str, emails: Iterable[str], sizes: Sequence[int]) -> dict[str, int]:
    order = wave_order(campaign_id, emails)
    out: dict[str, int] = {}
    start = 0
    for number, size in enumerate(sizes, start=1):
        for email in order[start : start + size]:
            out[email] = number
        start += size
    return out


# -- halting ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaveSignals:
    sent: int
    bounced: int
    replies: int
    notices: int  # notices the campaign holds now
    approved: int  # people the approval covered


@dataclass(frozen=True, slots=True)
class HaltRules:
    max_bounce_rate: float
    max_replies: int
    min_sample: int = 10  # bounce rate is judged once this many messages left


def halt_reason(signals: WaveSignals, rules: HaltRules) -> str | None:
    """Why the next wave must not be released (None: release it)."""
    if signals.notices > signals.approved:
        return (
            f"more recipients ({signals.notices}) than approved ({signals.approved}); "
            "re-preview and approve again"
        )
    if signals.sent >= rules.min_sample or signals.bounced > rules.min_sample:
        rate = signals.bounced / max(signals.sent, 1)
        if rate > rules.max_bounce_rate:
            return (
                f"bounce rate {rate:.1%} is above {rules.max_bounce_rate:.1%} "
                f"({signals.bounced} of {signals.sent})"
            )
    if signals.replies > rules.max_replies:
        return f"{signals.replies} replies (limit {rules.max_replies}): someone is answering back"
    return None
