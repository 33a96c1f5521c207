"""API tokens for automation (admins): list, create (the secret is shown once), revoke."""

from __future__ import annotations

from starlette.responses import Response

from appwarden.entrypoints.console.web import Ctx, PageRoute
from appwarden.services.access import ROLES, create_token, revoke_token


def tokens(ctx: Ctx, secret: str = "", made: str = "") -> Response:
    with ctx.app.store.read() as uow:
        rows = list(reversed(uow.tokens.all()))
    return ctx.render("tokens.html", tokens=rows, roles=ROLES, secret=secret, made=made)


def list_tokens(ctx: Ctx) -> Response:
    return tokens(ctx)


def create(ctx: Ctx) -> Response:
    with ctx.app.store.unit_of_work() as uow:
        token, secret = create_token(
            uow, ctx.field("name", 200), ctx.field("role", 20), ctx.viewer.email, ctx.now
        )
    return tokens(ctx, secret, token.id)  # shown once, on this response only (no-store)


def revoke(ctx: Ctx) -> Response:
    with ctx.app.store.unit_of_work() as uow:
        revoke_token(uow, ctx.request.path_params["id"], ctx.viewer.email, ctx.now)
    return ctx.redirect("/console/tokens", done="revoked")


PAGES = [
    PageRoute("GET", "/console/tokens", "admin", list_tokens),
    PageRoute("POST", "/console/tokens", "admin", create),
    PageRoute("POST", "/console/tokens/{id}/revoke", "admin", revoke),
]
