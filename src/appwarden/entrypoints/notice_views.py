"""JSON views of campaigns, previews and status, shared by the CLI (--json) and the API."""

from __future__ import annotations

from typing import Any

from appwarden.core.campaign import Campaign
from appwarden.core.timeutil import iso
from appwarden.services.campaign_preview import Preview
from appwarden.services.delivery import SendReport
from appwarden.services.notice_events import EventsReport


def campaign_dict(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind.value,
        "mode": c.mode.value,
        "policy": c.policy,
        "version": c.version,
        "status": c.status.value,
        "author": c.author,
        "created_at": iso(c.created_at),
        "deadline": iso(c.deadline),
        "blocks_mail": c.blocks,
        "parent": c.parent or None,
        "reason": c.reason,
        "recipients": c.recipients,
        "previewed_digest": c.previewed_digest or None,
        "approved_digest": c.approved_digest or None,
        "approved_by": c.approved_by or None,
        "approved_at": iso(c.approved_at),
        "undo_until": iso(c.undo_until),
        "waves": {"released": c.released_wave, "total": c.waves},
        "halt_reason": c.halt_reason or None,
    }


def preview_dict(p: Preview, samples: bool = True) -> dict[str, Any]:
    r = p.radius
    body: dict[str, Any] = {
        "campaign": campaign_dict(p.campaign),
        "digest": p.digest,
        "needs_second_person": p.second_person,
        "people": r.people,
        "devices": r.devices,
        "locales": r.locales,
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
        "diff": {"added": list(r.added), "dropped": list(r.dropped)},
        "unreachable": [
            {"device": u.device, "owner": u.owner or None, "why": u.why} for u in p.unreachable
        ],
        "recipients": p.recipients,
    }
    if samples:
        body["samples"] = {
            key: {"subject": s.subject, "text": s.text, "html": s.html}
            for key, s in sorted(p.samples.items())
        }
    return body


def status_dict(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "campaign": campaign_dict(status["campaign"]),
        "notices": status["notices"],
        "messages": status["messages"],
        "enforcement": status["enforcement"],
        "replies": status["replies"],
        "errors": [{"to": t, "error": e, "attempts": n} for t, e, n in status["errors"]],
        "related": [
            {"id": i, "kind": k, "mode": m, "status": s} for i, k, m, s in status["children"]
        ],
    }


def tick_dict(events: EventsReport, report: SendReport) -> dict[str, Any]:
    return {
        "sent": report.sent,
        "retried": report.retried,
        "failed": report.failed,
        "cancelled": report.cancelled,
        "recovered": report.recovered,
        "waves": report.waves,
        "armed": len(report.armed),
        "blocked_notices": events.blocked,
        "restored_notices": events.restored,
        "reminders": events.reminders,
        "drafted": events.drafted,
    }
