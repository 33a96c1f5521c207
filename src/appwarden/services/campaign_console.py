"""What the console's campaign pages need around NoticeService (which does every campaign step):
the preview kept exactly as it was shown, progress per wave, and which campaign announced which
policy version.

The preview is planned once, by the POST that asks for it, and kept (`campaign_previews`); the
page then renders the kept copy, and its approve form carries the kept digest. NoticeService
binds the approval to that digest and re-plans: if anything differs, nothing is approved.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appwarden.core.campaign import Campaign, CampaignKind, CampaignStatus
from appwarden.core.errors import AppWardenError, InvalidInput, NotFound, Problem
from appwarden.core.timeutil import iso
from appwarden.services.campaign_preview import Preview
from appwarden.services.campaigns import StepResult
from appwarden.services.notices import Actor, NoticeService
from appwarden.services.ports import PolicyProposal, Store, StoredPreview, UnitOfWork

log = logging.getLogger("appwarden.console")
LISTED = 500  # people, devices or addresses kept per list; the totals are always exact


def _capped(items: Sequence[Any]) -> list[Any]:
    return list(items[:LISTED])


def preview_body(p: Preview) -> dict[str, Any]:
    """The preview as the page shows it: exact counts, capped lists, every rendered sample."""
    r = p.radius
    return {
        "kind": p.campaign.kind.value,
        "people": r.people,
        "devices": r.devices,
        "locales": r.locales,
        "second_person": p.second_person,
        "breakdown": {
            dim: {"people": b.people, "devices": b.devices} for dim, b in r.breakdowns.items()
        },
        "lose_mail": [
            {
                "day": d.day,
                "from": iso(d.first),
                "people": d.people,
                "devices": d.devices,
                "sample": list(d.sample),
            }
            for d in r.loss_days
        ],
        "added": _capped(r.added),
        "added_total": len(r.added),
        "dropped": _capped(r.dropped),
        "dropped_total": len(r.dropped),
        "unreachable": [
            {"device": u.device, "owner": u.owner, "why": u.why} for u in p.unreachable[:LISTED]
        ],
        "unreachable_total": len(p.unreachable),
        "recipients": _capped(p.recipients),
        "samples": {
            key: {"subject": s.subject, "text": s.text, "html": s.html, "locale": s.locale}
            for key, s in sorted(p.samples.items())
        },
    }


def preview_and_keep(
    notices: NoticeService, store: Store, campaign_id: str, actor: str, now: datetime
) -> StoredPreview:
    """Preview through NoticeService (it records the digest of record) and keep what it showed."""
    result = notices.preview(campaign_id, actor, now)
    kept = StoredPreview(campaign_id, result.digest, actor, now, preview_body(result))
    with store.unit_of_work() as uow:
        uow.campaign_pages.put_preview(kept)
    return kept


def kept_preview(uow: UnitOfWork, campaign: Campaign) -> StoredPreview | None:
    """The kept preview, only while it is the campaign's preview of record."""
    kept = uow.campaign_pages.preview(campaign.id)
    if kept is None or kept.digest != campaign.previewed_digest:
        return None
    return kept


def approve_as_shown(
    notices: NoticeService, campaign_id: str, actor: Actor, digest: str, now: datetime
) -> StepResult:
    """Approve exactly the preview the page showed: its digest is required, never implied."""
    digest = digest.strip()
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise InvalidInput(
            Problem("is missing or malformed", "digest", "approve from the campaign's preview page")
        )
    return notices.approve(campaign_id, actor, now, digest)


@dataclass(frozen=True, slots=True)
class Progress:
    campaign: Campaign
    status: dict[str, Any]  # NoticeService.status
    waves: dict[int, dict[str, int]]  # wave -> notice state -> count
    next_wave_at: datetime | None
    first_sent: datetime | None
    last_sent: datetime | None
    proposal: PolicyProposal | None  # the proposal this campaign's version came from


def progress(notices: NoticeService, store: Store, campaign_id: str) -> Progress:
    status = notices.status(campaign_id)
    c: Campaign = status["campaign"]
    with store.read() as uow:
        waves = uow.campaign_pages.wave_counts(c.id)
        first, last = uow.campaign_pages.sent_between(c.id)
        proposal = uow.proposals.applied_as(c.policy, c.version)
    return Progress(
        c,
        status,
        waves,
        next_wave(c, notices.config.wave_interval),
        first,
        last,
        proposal,
    )


def next_wave(c: Campaign, interval: timedelta) -> datetime | None:
    if c.status is not CampaignStatus.SENDING or c.released_wave >= c.waves:
        return None
    return c.wave_released_at + interval if c.wave_released_at else None


def by_version(uow: UnitOfWork, slug: str) -> dict[int, list[Campaign]]:
    """Every campaign of a policy, by the version it announces (newest first in each)."""
    out: dict[int, list[Campaign]] = {}
    for c in reversed(uow.campaigns.find(slug)):
        out.setdefault(c.version, []).append(c)
    return out


def drafted_for(uow: UnitOfWork, slug: str, version: int) -> Campaign | None:
    """The announcement an apply of `version` drafted (None: nobody needed telling)."""
    drafts = [
        c
        for c in uow.campaigns.find(slug, [CampaignStatus.DRAFT.value])
        if c.version == version and c.kind is CampaignKind.ANNOUNCE
    ]
    return drafts[-1] if drafts else None


def hand_over(
    notices: NoticeService, store: Store, slug: str, version: int, actor: str, now: datetime
) -> Campaign | None:
    """After a policy change is applied: preview the campaign it drafted, ready for approval."""
    with store.read() as uow:
        drafted = drafted_for(uow, slug, version)
    if drafted is not None:
        try_preview(notices, store, drafted.id, actor, now)
    return drafted


def try_preview(
    notices: NoticeService, store: Store, campaign_id: str, actor: str, now: datetime
) -> bool:
    """Preview right after the step that drafted a campaign. A failure (a template error, say)
    leaves the draft for the campaign page, which shows the error when previewed again; the
    step before it stands, and nobody was emailed."""
    try:
        preview_and_keep(notices, store, campaign_id, actor, now)
    except AppWardenError as exc:
        log.warning("preview of %s failed: %s", campaign_id, exc)
        return False
    return True


def campaign_of(uow: UnitOfWork, campaign_id: str) -> Campaign:
    found = uow.campaigns.get(campaign_id)
    if found is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    return found
