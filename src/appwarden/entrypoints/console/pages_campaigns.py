"""Campaigns: the list, one campaign (its kept preview, then its staged progress), and each step
through NoticeService: preview, approve (a second person, bound to the previewed digest), halt,
resume, undo, retract. Roles are checked by the page table; who-may-approve by the service."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response

from appwarden.core.campaign import CampaignKind
from appwarden.core.errors import NotFound
from appwarden.entrypoints.console.campaign_view import (
    campaign_charts,
    dimension_name,
    dimension_value,
    locale_name,
    may,
    sample_groups,
)
from appwarden.entrypoints.console.web import Ctx, PageRoute
from appwarden.services.access import role_allows
from appwarden.services.campaign_console import (
    approve_as_shown,
    campaign_of,
    kept_preview,
    preview_and_keep,
    progress,
    try_preview,
)
from appwarden.services.notices import Actor

PAGE_SIZE = 50
SAMPLE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _id(ctx: Ctx) -> str:
    return str(ctx.request.path_params["id"])[:64]


def campaigns(ctx: Ctx) -> Response:
    policy = ctx.param("policy", 100)
    with ctx.app.store.read() as uow:
        found, more = uow.campaign_pages.page(policy, ctx.param("before", 120), PAGE_SIZE)
        titles = {s.version.slug: s.version.policy for s in uow.policies.active()}
    return ctx.render("campaigns.html", campaigns=found, more=more, policy=policy, titles=titles)


def campaign(ctx: Ctx) -> Response:
    app = ctx.app
    shown = progress(app.notices, app.store, _id(ctx))
    c = shown.campaign
    with app.store.read() as uow:
        kept = kept_preview(uow, c)
        stored = uow.policies.history(c.policy)
    pv = next((s.version for s in stored if s.version.version == c.version), None)
    return ctx.render(
        "campaign.html",
        c=c,
        pv=pv,
        kept=kept.body if kept else None,
        kept_meta=kept,
        shown=shown,
        charts=campaign_charts(ctx, kept.body if kept else None, shown),
        samples=sample_groups(kept.body if kept else None),
        can=may(ctx, c, shown.proposal.author if shown.proposal else ""),
        retractable=c.kind is CampaignKind.ANNOUNCE and c.status.live,
        locale_name=lambda code: locale_name(ctx, code),
        dim_name=lambda dim: dimension_name(ctx, dim),
        dim_value=lambda dim, value: dimension_value(ctx, dim, value),
    )


def sample(ctx: Ctx) -> Response:
    """One rendered sample notice (HTML), shown in a sandboxed frame on the campaign page."""
    key = str(ctx.request.path_params["sample"]).replace(".", "/", 1)
    with ctx.app.store.read() as uow:
        c = campaign_of(uow, _id(ctx))
        kept = kept_preview(uow, c)
    found = (kept.body.get("samples") or {}).get(key) if kept else None
    if found is None:
        raise NotFound(f"no sample {key!r} in this campaign's preview")
    return HTMLResponse(
        found["html"],
        headers={"content-security-policy": SAMPLE_CSP, "x-frame-options": "SAMEORIGIN"},
    )


def do_preview(ctx: Ctx) -> Response:
    cid = _id(ctx)
    preview_and_keep(ctx.app.notices, ctx.app.store, cid, ctx.viewer.email, ctx.now)
    return ctx.redirect(f"/console/campaigns/{cid}", done="previewed")


def _actor(ctx: Ctx) -> Actor:
    return Actor(ctx.viewer.email, role_allows(ctx.viewer.role, "approver"))


def approve(ctx: Ctx) -> Response:
    cid = _id(ctx)
    result = approve_as_shown(ctx.app.notices, cid, _actor(ctx), ctx.field("digest", 100), ctx.now)
    return ctx.redirect(f"/console/campaigns/{cid}", done="approved" if result.ok else "reset")


def halt(ctx: Ctx) -> Response:
    cid = _id(ctx)
    ctx.app.notices.halt(cid, ctx.viewer.email, ctx.field("reason"), ctx.now)
    return ctx.redirect(f"/console/campaigns/{cid}", done="halted")


def resume(ctx: Ctx) -> Response:
    cid = _id(ctx)
    ctx.app.notices.resume(cid, _actor(ctx), ctx.now)
    return ctx.redirect(f"/console/campaigns/{cid}", done="resumed")


def undo(ctx: Ctx) -> Response:
    cid = _id(ctx)
    ctx.app.notices.undo(cid, ctx.viewer.email, ctx.now)
    return ctx.redirect(f"/console/campaigns/{cid}", done="undone")


def retract(ctx: Ctx) -> Response:
    """Halts the original now and drafts its correction; the correction is previewed and then
    approved by a second person, like any send."""
    correction = ctx.app.notices.retract(_id(ctx), ctx.viewer.email, ctx.field("reason"), ctx.now)
    try_preview(ctx.app.notices, ctx.app.store, correction.id, ctx.viewer.email, ctx.now)
    return ctx.redirect(f"/console/campaigns/{correction.id}", done="retraction")


PAGES = [
    PageRoute("GET", "/console/campaigns", "viewer", campaigns),
    PageRoute("GET", "/console/campaigns/{id}", "viewer", campaign),
    PageRoute("GET", "/console/campaigns/{id}/samples/{sample}", "viewer", sample),
    PageRoute("POST", "/console/campaigns/{id}/preview", "author", do_preview),
    PageRoute("POST", "/console/campaigns/{id}/approve", "approver", approve),
    PageRoute("POST", "/console/campaigns/{id}/halt", "author", halt),
    PageRoute("POST", "/console/campaigns/{id}/resume", "approver", resume),
    PageRoute("POST", "/console/campaigns/{id}/undo", "author", undo),
    PageRoute("POST", "/console/campaigns/{id}/retract", "author", retract),
]
