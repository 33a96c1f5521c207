"""The audit log: filtered, newest first, with the hash chain's verification status."""

from __future__ import annotations

from starlette.responses import Response

from appwarden.core.events import EventType
from appwarden.entrypoints.console.web import Ctx, PageRoute
from appwarden.services.audit_view import audit_page


def audit(ctx: Ctx) -> Response:
    type_, actor, subject = (
        ctx.param("type", 60),
        ctx.param("actor", 320),
        ctx.param("subject", 400),
    )
    before = ctx.param("before", 20)
    with ctx.app.store.read() as uow:
        chain = ctx.state.chain.status(uow)
        events, next_before = audit_page(
            uow, type_, actor, subject, int(before) if before.isdigit() else 0
        )
    keep = {k: v for k, v in (("type", type_), ("actor", actor), ("subject", subject)) if v}
    return ctx.render(
        "audit.html",
        chain=chain,
        events=events,
        next_before=next_before,
        keep=keep,
        types=sorted(e.value for e in EventType),
        type_=type_,
        actor=actor,
        subject=subject,
    )


def verify_all(ctx: Ctx) -> Response:
    with ctx.app.store.read() as uow:
        ctx.state.chain.full_check(uow, ctx.now)
    return ctx.redirect("/console/audit", done="verified")


PAGES = [
    PageRoute("GET", "/console/audit", "viewer", audit),
    PageRoute("POST", "/console/audit/verify", "admin", verify_all),
]
