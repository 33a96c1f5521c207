"""Campaign routes of the admin API (roles checked on the server) and the public notice page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from appwarden.adapters.mail.returns import MAX_MESSAGE_BYTES
from appwarden.bootstrap import App
from appwarden.core.errors import InvalidInput, NotFound, Problem
from appwarden.entrypoints.api.admin import read_body, read_json, route
from appwarden.entrypoints.api.auth import Principal
from appwarden.entrypoints.api.errors import error_body
from appwarden.entrypoints.api.openapi import RouteDoc
from appwarden.entrypoints.notice_views import (
    campaign_dict,
    preview_dict,
    status_dict,
    tick_dict,
)
from appwarden.entrypoints.rate_limit import ClientLimiter, client_address
from appwarden.entrypoints.returns import take_return
from appwarden.services.access import role_allows
from appwarden.services.notices import Actor

ID = (("id", "path", "campaign id", True),)


def _now(app: App) -> Any:
    return app.clock.now().replace(microsecond=0)


def _actor(who: Principal) -> Actor:
    return Actor(who.name, role_allows(who.role, "approver"))


@route(
    RouteDoc(
        "GET",
        "/v1/campaigns",
        "Campaigns",
        "viewer",
        (("policy", "query", "only this policy", False),),
    )
)
def list_campaigns(app: App, request: Request, _: Principal) -> Any:
    found = app.notices.list_campaigns(request.query_params.get("policy"))
    return [campaign_dict(c) for c in found]


@route(
    RouteDoc(
        "GET",
        "/v1/campaigns/{id}",
        "A campaign's status",
        "viewer",
        ID,
        responses={404: "no such campaign"},
    )
)
def get_campaign(app: App, request: Request, _: Principal) -> Any:
    return status_dict(app.notices.status(request.path_params["id"]))


@route(
    RouteDoc(
        "POST", "/v1/campaigns/{id}/preview", "Preview: blast radius and samples", "author", ID
    )
)
def post_preview(app: App, request: Request, who: Principal) -> Any:
    return preview_dict(app.notices.preview(request.path_params["id"], who.name, _now(app)))


@route(
    RouteDoc(
        "POST",
        "/v1/campaigns/{id}/approve",
        "Approve exactly what was previewed (body: {digest})",
        "approver",
        ID,
        body="application/json",
        responses={409: "changed since the preview"},
    )
)
async def post_approve(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    result = app.notices.approve(
        request.path_params["id"], _actor(who), _now(app), str(data.get("digest", ""))
    )
    body = {
        "approved": result.ok,
        "message": result.message,
        "campaign": campaign_dict(result.campaign),
    }
    return body if result.ok else JSONResponse(body, status_code=409)


@route(RouteDoc("POST", "/v1/campaigns/send", "Send what is due now", "author"))
def post_send(app: App, _request: Request, _: Principal) -> Any:
    return tick_dict(*app.notices.tick(_now(app)))


@route(
    RouteDoc(
        "POST",
        "/v1/campaigns/{id}/halt",
        "Halt (body: {reason})",
        "author",
        ID,
        body="application/json",
    )
)
async def post_halt(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    reason = str(data.get("reason") or "halted via API")
    return campaign_dict(app.notices.halt(request.path_params["id"], who.name, reason, _now(app)))


@route(RouteDoc("POST", "/v1/campaigns/{id}/resume", "Resume a halted campaign", "approver", ID))
def post_resume(app: App, request: Request, who: Principal) -> Any:
    return campaign_dict(app.notices.resume(request.path_params["id"], _actor(who), _now(app)))


@route(RouteDoc("POST", "/v1/campaigns/{id}/undo", "Undo within the undo window", "author", ID))
def post_undo(app: App, request: Request, who: Principal) -> Any:
    result = app.notices.undo(request.path_params["id"], who.name, _now(app))
    return {"campaign": campaign_dict(result.campaign), "disarmed": len(result.disarmed)}


@route(
    RouteDoc(
        "POST",
        "/v1/campaigns/{id}/retract",
        "Halt and draft the correction (body: {reason})",
        "author",
        ID,
        body="application/json",
    )
)
async def post_retract(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    correction = app.notices.retract(
        request.path_params["id"], who.name, str(data.get("reason", "")), _now(app)
    )
    return campaign_dict(correction)


@route(
    RouteDoc(
        "POST", "/v1/campaigns/{id}/test", "Send marked samples to the test list", "author", ID
    )
)
def post_test(app: App, request: Request, who: Principal) -> Any:
    return campaign_dict(app.notices.test(request.path_params["id"], who.name, _now(app)))


@route(
    RouteDoc(
        "POST",
        "/v1/notices/signals",
        "A bounce or reply for a sent message (body: {message_id, kind})",
        "admin",
        body="application/json",
    )
)
async def post_signal(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    kind = str(data.get("kind", ""))
    if kind not in ("bounce", "reply"):
        raise InvalidInput(Problem(f"{kind!r} is not a signal", "kind", "use bounce or reply"))
    hit = app.notices.signal(
        str(data.get("message_id", "")), kind, who.name, _now(app), str(data.get("detail", ""))
    )
    return {"notices": hit}


@route(
    RouteDoc(
        "POST",
        "/v1/notices/returns",
        "One returned message as the mail server received it (a bounce report or a reply;"
        " body: message/rfc822, at most 5 MB): recorded as a wave signal or ignored",
        "admin",
        body="message/rfc822",
    )
)
async def post_return(app: App, request: Request, who: Principal) -> Any:
    raw = await read_body(request, MAX_MESSAGE_BYTES, "send one message at a time")
    if not raw:
        raise InvalidInput(Problem("is empty", "body", "send the returned message itself"))
    kind, found = take_return(app, raw, who.name, _now(app))
    return {"result": kind, "message_id": found.message_id, "detail": found.detail}


def verify_page(app: App) -> Route:
    """Public: the JSON answer for a notice token; browsers are sent to the console's page
    (`/verify/{token}`, localized). Limited per client address like that page."""
    limiter = ClientLimiter(int(app.settings.get("verify_per_minute")))

    async def endpoint(request: Request) -> Response:
        token = request.path_params["token"]
        wait = limiter.allow(client_address(request))
        if wait:
            return JSONResponse(
                {"error": "TooManyRequests", "detail": "too many checks; wait a minute"},
                status_code=429,
                headers={"retry-after": str(int(wait) + 1)},
            )
        wants_json = "json" in request.headers.get("accept", "") or request.query_params.get(
            "format"
        )
        if not wants_json:
            return RedirectResponse(f"/verify/{quote(token, safe='')}", status_code=303)
        try:
            found = app.notices.verify(token)
        except NotFound as exc:
            status, body = error_body(exc)
            return JSONResponse(body, status_code=status)
        return JSONResponse(found)

    return Route("/v1/verify/{token}", endpoint, methods=["GET"])
