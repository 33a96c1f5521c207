"""The employee's self-service page: my devices, what each policy asks and by when, how to remove
the app on my platform, my mail access, check again, ask for an exemption (attesting for a device
whose apps cannot be seen: pages_me_attest.py; checking a notice: pages_verify.py)."""

from __future__ import annotations

from starlette.responses import Response

from appwarden.entrypoints.console.pages_fleet import parse_expiry
from appwarden.entrypoints.console.pages_me_attest import statement_html
from appwarden.entrypoints.console.web import EMPLOYEE, Ctx, PageRoute
from appwarden.services.exemption_requests import request_exemption
from appwarden.services.self_service import check_again, my_devices, require_owner


def me(ctx: Ctx) -> Response:
    email = ctx.viewer.email
    with ctx.app.store.read() as uow:
        devices = my_devices(ctx.app.engine, uow, email, ctx.now)
        requests = uow.exemption_requests.list(None, None, 500)
        policies = uow.policies.active()
    mine = [r for r in requests if r.requested_by == email][:20]
    return ctx.render(
        "me.html",
        devices=devices,
        requests=mine,
        statement=lambda device, offer: statement_html(ctx, device, offer),
        attest_for=ctx.app.settings.duration("attestation_ttl"),
        titles={s.version.slug: s.version for s in policies},
    )


def check(ctx: Ctx) -> Response:
    check_again(ctx.app.engine, ctx.viewer.email, ctx.request.path_params["key"], ctx.now)
    return ctx.redirect("/me", done="checked")


def ask_exemption(ctx: Ctx) -> Response:
    key = ctx.field("device", 200)
    require_owner(ctx.app.engine, ctx.viewer.email, key)
    with ctx.app.store.unit_of_work() as uow:
        request_exemption(
            uow,
            target_kind="device",
            target=key,
            policy=ctx.field("policy", 100),
            reason=ctx.field("reason"),
            expires_at=parse_expiry(ctx.field("expires", 40), ctx.viewer.timezone),
            requested_by=ctx.viewer.email,
            now=ctx.now,
            max_duration=ctx.app.settings.duration("max_exemption"),
        )
    return ctx.redirect("/me", done="requested")


PAGES = [
    PageRoute("GET", "/me", EMPLOYEE, me),
    PageRoute("POST", "/me/devices/{key}/check", EMPLOYEE, check),
    PageRoute("POST", "/me/exemption-requests", EMPLOYEE, ask_exemption),
]
