"""The admin API (Starlette). Every route but /healthz and /openapi.json needs a token."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from appwarden.adapters.policy_files import read_policy_text
from appwarden.bootstrap import App
from appwarden.core.errors import InvalidInput, NotFound, Problem
from appwarden.core.exemptions import TargetKind
from appwarden.core.inventory import IDENTITY_KINDS
from appwarden.core.timeutil import iso, parse_instant
from appwarden.entrypoints.api.auth import Principal, principal
from appwarden.entrypoints.api.errors import error_body
from appwarden.entrypoints.api.openapi import RouteDoc, build_openapi
from appwarden.entrypoints.views import (
    assessment_dict,
    decision_dict,
    device_dict,
    diff_dict,
    exemption_dict,
)
from appwarden.services.audit import verify

log = logging.getLogger("appwarden.api")
MAX_BODY = 1_000_000

Handler = Callable[[App, Request, Principal], Any]
ROUTES: list[tuple[RouteDoc, Handler]] = []


def route(doc: RouteDoc) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((doc, handler))
        return handler

    return register


async def read_body(request: Request, limit: int = MAX_BODY, fix: str = "send less") -> bytes:
    """The request body, refused (naming `body` and `fix`) as soon as it passes `limit` bytes:
    by its declared length before reading, else while it streams in."""
    too_big = Problem(f"request body larger than {limit / 1e6:g} MB", "body", fix)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput(too_big)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(too_big)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await read_body(request) or b"{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(Problem(f"not valid JSON: {exc.msg}", "body")) from exc
    if not isinstance(data, dict):
        raise InvalidInput(Problem("must be a JSON object", "body"))
    return data


def _now(app: App) -> Any:
    return app.clock.now().replace(microsecond=0)


@route(
    RouteDoc(
        "GET",
        "/v1/decide",
        "Mail-access decision for one identity",
        "viewer",
        tuple((k, "query", f"{k} identity", False) for k in IDENTITY_KINDS),
    )
)
def get_decide(app: App, request: Request, _: Principal) -> Any:
    given = [(k, request.query_params[k]) for k in IDENTITY_KINDS if request.query_params.get(k)]
    if len(given) != 1:
        raise InvalidInput(Problem("name exactly one identity", "query", "?device=<key>"))
    decision = app.engine.decide(*given[0], _now(app))
    return decision_dict(decision, app.engine.decisions.decision_id(decision))


@route(
    RouteDoc(
        "GET",
        "/v1/devices/{key}",
        "A device: facts, apps, verdicts, history",
        "viewer",
        (("key", "path", "device key", True),),
        responses={404: "no such device"},
    )
)
def get_device(app: App, request: Request, _: Principal) -> Any:
    key = request.path_params["key"]
    facts = app.engine.device_facts(key)
    with app.store.read() as uow:
        verdicts = uow.verdicts.for_device(key)
        history = uow.inventory.app_history(key)
    return device_dict(facts, verdicts, history)


@route(RouteDoc("GET", "/v1/policies", "Policies in force", "viewer"))
def list_policies(app: App, _request: Request, _: Principal) -> Any:
    with app.store.read() as uow:
        stored = uow.policies.active()
    return [
        {
            "slug": s.version.slug,
            "version": s.version.version,
            "title": dict(s.version.policy.title),
            "deadline": iso(s.version.deadline_at),
            "action": s.version.policy.action.value,
            "applied_by": s.version.applied_by,
            "applied_at": iso(s.version.published_at),
        }
        for s in stored
    ]


@route(
    RouteDoc(
        "GET",
        "/v1/policies/{slug}",
        "A policy with its history",
        "viewer",
        (("slug", "path", "policy slug", True),),
        responses={404: "no such policy"},
    )
)
def get_policy(app: App, request: Request, _: Principal) -> Any:
    slug = request.path_params["slug"]
    with app.store.read() as uow:
        history = uow.policies.history(slug)
        current = uow.policies.current(slug)
    if not history or current is None:
        raise NotFound(f"no policy {slug!r}")
    return {
        "slug": slug,
        "active": current.active,
        "version": current.version.version,
        "source": current.source,
        "deadline": iso(current.version.deadline_at),
        "history": [
            {
                "version": h.version.version,
                "applied_by": h.version.applied_by,
                "applied_at": iso(h.version.published_at),
                "reason": h.version.reason,
                "digest": h.version.digest,
            }
            for h in history
        ],
    }


async def _policy_from_body(request: Request) -> Any:
    raw = await read_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Problem("body is not UTF-8", "body")) from exc
    return read_policy_text(text, "request body"), text


@route(
    RouteDoc(
        "POST",
        "/v1/policies/diff",
        "What applying this YAML would change",
        "author",
        body="application/yaml",
    )
)
async def post_diff(app: App, request: Request, _: Principal) -> Any:
    policy, _text = await _policy_from_body(request)
    result = await run_in_threadpool(app.engine.diff_policy, policy, _now(app))
    return diff_dict(result)


@route(
    RouteDoc(
        "POST",
        "/v1/policies",
        "Apply a policy (new version, audited, re-assessed)",
        "admin",
        (
            ("reason", "query", "why", False),
            ("override_lead_time", "query", "reason to override", False),
        ),
        body="application/yaml",
        responses={409: "lead time too short"},
    )
)
async def post_policy(app: App, request: Request, who: Principal) -> Any:
    policy, text = await _policy_from_body(request)
    version, report = await run_in_threadpool(
        app.engine.apply_policy,
        policy,
        text,
        who.name,
        request.query_params.get("reason") or "applied via API",
        _now(app),
        request.query_params.get("override_lead_time", ""),
    )
    return {
        "slug": version.slug,
        "version": version.version,
        "deadline": iso(version.deadline_at),
        "transitions": report.transition_counts() if report else {},
    }


@route(RouteDoc("POST", "/v1/assessments", "Assess the fleet now", "admin"))
def post_assessment(app: App, _request: Request, who: Principal) -> Any:
    report = app.engine.assess(_now(app), "api", who.name)
    return assessment_dict(app.engine.fleet, report)


@route(
    RouteDoc(
        "GET",
        "/v1/transitions",
        "Verdict transitions after an id",
        "viewer",
        (("after", "query", "last id seen", False), ("limit", "query", "max rows", False)),
    )
)
def get_transitions(app: App, request: Request, _: Principal) -> Any:
    after = int(request.query_params.get("after") or 0)
    limit = min(int(request.query_params.get("limit") or 500), 5000)
    with app.store.read() as uow:
        return uow.verdicts.transitions(after, limit)


@route(RouteDoc("GET", "/v1/exemptions", "Exemptions (active unless ?all=1)", "viewer"))
def get_exemptions(app: App, request: Request, _: Principal) -> Any:
    with app.store.read() as uow:
        rows = uow.exemptions.all(include_inactive=request.query_params.get("all") == "1")
    return [exemption_dict(e) for e in rows]


@route(
    RouteDoc("POST", "/v1/exemptions", "Grant an exemption", "approver", body="application/json")
)
async def post_exemption(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    try:
        kind = TargetKind(str(data.get("target_kind", "device")))
        expires = parse_instant(str(data.get("expires_at", "")))
    except ValueError as exc:
        raise InvalidInput(Problem(str(exc), "target_kind/expires_at")) from exc
    exemption, _report = await run_in_threadpool(
        lambda: app.engine.grant_exemption(
            _now(app),
            target_kind=kind,
            target=str(data.get("target", "")),
            policy=str(data.get("policy", "")),
            reason=str(data.get("reason", "")),
            approver=who.name,
            actor=str(data.get("requested_by", "")) or who.name,
            expires_at=expires,
        )
    )
    return {"id": exemption.id, "expires_at": iso(exemption.expires_at)}


@route(
    RouteDoc(
        "POST",
        "/v1/exemptions/{id}/revoke",
        "Revoke an exemption",
        "approver",
        (("id", "path", "exemption id", True),),
        body="application/json",
    )
)
async def revoke_exemption(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    exemption, _ = await run_in_threadpool(
        app.engine.revoke_exemption,
        request.path_params["id"],
        who.name,
        str(data.get("reason", "")),
        _now(app),
    )
    return {"id": exemption.id, "revoked": True}


@route(RouteDoc("GET", "/v1/audit/verify", "Verify the audit chain", "admin"))
def get_audit_verify(app: App, _request: Request, _: Principal) -> Any:
    with app.store.read() as uow:
        report = verify(uow)
    return {
        "ok": report.ok,
        "events": report.events,
        "head": report.head,
        "problems": [{"seq": p.seq, "kind": p.kind, "detail": p.detail} for p in report.problems],
    }


def _endpoint(
    app: App, doc: RouteDoc, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    is_async = hasattr(handler, "__code__") and handler.__code__.co_flags & 0x80

    async def endpoint(request: Request) -> Response:
        try:
            assert doc.role is not None
            if doc.role == "device":  # device credentials resolve in memory: no thread hop
                who = principal(app, request, doc.role)
            else:
                who = await run_in_threadpool(principal, app, request, doc.role)
            if is_async:
                result = await handler(app, request, who)
            else:
                result = await run_in_threadpool(handler, app, request, who)
            return result if isinstance(result, Response) else JSONResponse(result)
        except Exception as exc:  # mapped to a status in one table
            status, body = error_body(exc)
            if status == 500:
                log.exception("API route %s %s failed", doc.method, doc.path)
            headers = {"www-authenticate": "Bearer"} if status == 401 else None
            return JSONResponse(body, status_code=status, headers=headers)

    return endpoint


def create_api(app: App, extra: list[Route] | None = None) -> Starlette:
    from appwarden.entrypoints.api import inventory_routes  # noqa: F401 (registers its routes)

    docs = [doc for doc, _ in ROUTES] + [
        RouteDoc("GET", "/healthz", "Liveness and index revision", None),
        RouteDoc("GET", "/openapi.json", "This document", None),
    ]
    spec = build_openapi(docs)

    async def healthz(_request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "revision": app.engine.decisions.index.revision,
                "loaded": app.engine.loaded,
            }
        )

    async def openapi(_request: Request) -> Response:
        return JSONResponse(spec)

    from appwarden.entrypoints.api.campaign_routes import verify_page

    routes = [Route("/healthz", healthz), Route("/openapi.json", openapi), verify_page(app)]
    endpoints = {(doc.method, doc.path): _endpoint(app, doc, handler) for doc, handler in ROUTES}
    routes += [Route(path, ep, methods=[method]) for (method, path), ep in endpoints.items()]
    api = Api(routes=routes + (extra or []))
    api.hot = {key: endpoints[key] for key in HOT_ROUTES if key in endpoints}
    return api


# Device check-ins arrive by the thousand per second: their endpoint is called directly, past
# Starlette's middleware and the walk over every route (the endpoint maps every error itself).
HOT_ROUTES = (("POST", "/v1/checkin"),)


class Api(Starlette):
    hot: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            endpoint = self.hot.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                response = await endpoint(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


# Route modules of later features register themselves through `route` when imported.
from appwarden.entrypoints.api import campaign_routes  # noqa: E402,F401
