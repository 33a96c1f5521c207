"""Preview: the exact blast radius and rendered samples; records the digest an approval binds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from appwarden.core.campaign import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    NoticeKind,
    Plan,
    Unreachable,
    canonical,
    needs_second_person,
    text_digest,
)
from appwarden.core.errors import Conflict
from appwarden.core.events import EventType
from appwarden.core.notice import Notice, NoticeState
from appwarden.core.policy import PolicyVersion
from appwarden.core.preview import Radius, radius
from appwarden.services.campaign_plan import (
    announce_plan,
    digest_of,
    message_context,
    policy_version,
    recipient_data,
    texts_of,
)
from appwarden.services.campaigns import Deps, audit, get, save
from appwarden.services.ports import Rendered, UnitOfWork

SAMPLE_KINDS = {
    CampaignKind.ANNOUNCE: (
        NoticeKind.ANNOUNCE,
        NoticeKind.REMINDER,
        NoticeKind.BLOCKED,
        NoticeKind.RESTORED,
    ),
    CampaignKind.CORRECTION: (NoticeKind.CORRECTION,),
}


@dataclass
class Preview:
    campaign: Campaign
    digest: str
    radius: Radius
    unreachable: list[Unreachable]
    samples: dict[str, Rendered]  # "<locale>/<kind>" -> rendered message
    second_person: bool
    recipients: list[str] = field(default_factory=list)


def preview(uow: UnitOfWork, deps: Deps, campaign_id: str, actor: str, now: datetime) -> Preview:
    campaign = get(uow, campaign_id)
    if not (campaign.status.open or campaign.status is CampaignStatus.DRAFT):
        raise Conflict(
            f"the campaign is {campaign.status.value}; a preview is for drafts "
            "(a later change drafts a new campaign)"
        )
    pv = policy_version(uow, campaign.policy, campaign.version)
    if campaign.kind is CampaignKind.CORRECTION:
        result = _correction_preview(uow, deps, campaign, pv)
    else:
        result = _announce_preview(uow, deps, campaign, pv)
    campaign = save(
        uow,
        replace(
            campaign,
            status=CampaignStatus.PREVIEWED,
            previewed_digest=result.digest,
            recipients=result.radius.people,
        ),
        now,
    )
    result.campaign = campaign
    result.second_person = needs_second_person(campaign, deps.config.approval_threshold)
    audit(
        uow,
        EventType.CAMPAIGN_PREVIEWED,
        actor,
        now,
        campaign,
        digest=result.digest,
        people=result.radius.people,
        devices=result.radius.devices,
        unreachable=len(result.unreachable),
        locales=result.radius.locales,
        added=len(result.radius.added),
        dropped=len(result.radius.dropped),
    )
    return result


def _announce_preview(
    uow: UnitOfWork, deps: Deps, campaign: Campaign, pv: PolicyVersion
) -> Preview:
    plan = announce_plan(uow, deps.fleet, campaign)
    digest, _ = digest_of(campaign, plan, pv, deps.renderer)
    told = uow.campaigns.told_employees(campaign.policy)
    zone = pv.policy.deadline.timezone or "UTC"
    rad = radius(plan, told, zone, campaign.blocks)
    samples = render_samples(deps, plan, pv, SAMPLE_KINDS[campaign.kind])
    return Preview(
        campaign,
        digest,
        rad,
        plan.unreachable,
        samples,
        False,
        [r.email for r in plan.recipients],
    )


def render_samples(
    deps: Deps, plan: Plan, pv: PolicyVersion, kinds: tuple[NoticeKind, ...]
) -> dict[str, Rendered]:
    """One message per locale used and notice kind, with a real recipient's data."""
    first_of: dict[str, Any] = {}
    for r in plan.recipients:
        first_of.setdefault(r.owner.locale, r)
    samples = {}
    for locale, r in sorted(first_of.items()):
        data = recipient_data(r.owner.name, [d.as_data() for d in r.devices], r.deadline)
        for kind in kinds:
            notice = Notice(
                0,
                "preview",
                kind,
                r.email,
                locale,
                r.owner.timezone,
                NoticeState.PLANNED,
                "sample-token",
                data,
            )
            context = message_context([(notice, pv)], deps.config.verify_url, test=False)
            samples[f"{locale}/{kind.value}"] = deps.renderer.render(context)
    return samples


def received_people(uow: UnitOfWork, parent: str) -> list[Notice]:
    """One notice per person who received (or may have received) the original."""
    seen: dict[str, Notice] = {}
    for notice in uow.campaigns.received(parent):
        seen.setdefault(notice.employee, notice)
    return [seen[e] for e in sorted(seen)]


def correction_digest(campaign: Campaign, people: list[Notice], tdigest: str) -> str:
    rows = [[n.employee, n.locale, n.timezone] for n in people]
    return text_digest(
        {"head": canonical([campaign.parent, campaign.reason, tdigest]), "rows": canonical(rows)}
    )


def _correction_preview(
    uow: UnitOfWork, deps: Deps, campaign: Campaign, pv: PolicyVersion
) -> Preview:
    people = received_people(uow, campaign.parent)
    locales: dict[str, int] = {}
    for n in people:
        locales[n.locale] = locales.get(n.locale, 0) + 1
    texts = texts_of(pv, locales)
    texts["templates"] = deps.renderer.digest()
    digest = correction_digest(campaign, people, text_digest(texts))
    samples = {}
    for locale in sorted(locales):
        sample = next(n for n in people if n.locale == locale)
        notice = replace(
            sample,
            kind=NoticeKind.CORRECTION,
            data=dict(sample.data, retraction_reason=campaign.reason),
        )
        context = message_context([(notice, pv)], deps.config.verify_url, test=False)
        samples[f"{locale}/correction"] = deps.renderer.render(context)
    rad = Radius(len(people), 0, dict(sorted(locales.items())), {}, (), (), (), 0)
    return Preview(campaign, digest, rad, [], samples, True, [n.employee for n in people])
