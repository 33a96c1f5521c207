"""Devices, employees and exemptions: search (paginated), one device with its apps' history,
verdicts and decision, and exemptions that one person asks for and another grants."""

from __future__ import annotations

from datetime import UTC, datetime, time

from starlette.responses import Response

from appwarden.core.errors import InvalidInput, NotFound, Problem
from appwarden.entrypoints.console.i18n import zone
from appwarden.entrypoints.console.web import Ctx, PageRoute
from appwarden.services.exemption_requests import decline_request, grant_request, request_exemption

PAGE = 50
STATUSES = ("pending", "overdue", "blocked", "exempt", "unknown", "compliant")


def devices(ctx: Ctx) -> Response:
    query, after = ctx.param("q", 200), ctx.param("after", 400)
    policy, status = ctx.param("policy", 100), ctx.param("status", 20)
    with ctx.app.store.read() as uow:
        if policy and status in STATUSES:
            page = uow.console.devices_with_status(policy, status, after, PAGE)
        else:
            page = uow.console.search_devices(query, after, PAGE)
    keep = {k: v for k, v in (("q", query), ("policy", policy), ("status", status)) if v}
    return ctx.render(
        "devices.html", page=page, q=query, policy=policy, status_filter=status, keep=keep
    )


def device(ctx: Ctx) -> Response:
    key = ctx.request.path_params["key"]
    engine = ctx.app.engine
    facts = engine.fleet.facts(key)
    if facts is None:
        raise NotFound(f"no device {key!r} in the inventory")
    with ctx.app.store.read() as uow:
        verdicts = uow.verdicts.for_device(key)
        history = uow.inventory.app_history(key)[-200:]
        transitions = uow.console.device_transitions(key, 50)
        policies = uow.policies.active()
        requests = uow.exemption_requests.list(None, key, 20)
        logged = uow.decision_log.for_device(key, 20)
    decision = engine.decide("device", key, ctx.now)
    attestations = sorted(
        ctx.app.attestations.for_device(key), key=lambda pair: pair[0].signed_at, reverse=True
    )
    return ctx.render(
        "device.html",
        attestations=attestations[:50],
        facts=facts,
        verdicts=verdicts,
        history=list(reversed(history)),
        transitions=transitions,
        decision=decision,
        logged=logged,
        policies=policies,
        requests=requests,
    )


def employees(ctx: Ctx) -> Response:
    query, after = ctx.param("q", 200), ctx.param("after", 400)
    with ctx.app.store.read() as uow:
        page = uow.console.search_employees(query, after, PAGE)
    return ctx.render("employees.html", page=page, q=query, keep={"q": query} if query else {})


def employee(ctx: Ctx) -> Response:
    email = ctx.request.path_params["email"].lower()
    fleet = ctx.app.engine.fleet
    person = fleet.employee(email)
    if person is None:
        raise NotFound(f"no employee {email!r}")
    slot = fleet.employee_slot[email]
    keys = sorted(fleet.keys[s] for s in fleet.employee_devices.get(slot, ()) if s in fleet.live)
    with ctx.app.store.read() as uow:
        verdicts = {k: uow.verdicts.for_device(k) for k in keys[:50]}
        policies = uow.policies.active()
        requests = uow.exemption_requests.list(None, email, 20)
    return ctx.render(
        "employee.html",
        person=person,
        keys=keys,
        verdicts=verdicts,
        policies=policies,
        requests=requests,
    )


def exemptions(ctx: Ctx) -> Response:
    with ctx.app.store.read() as uow:
        active = uow.exemptions.all()
        waiting = uow.exemption_requests.list("requested", None, 100)
        decided = [
            r for r in uow.exemption_requests.list(None, None, 100) if r.status != "requested"
        ]
    return ctx.render("exemptions.html", active=active, waiting=waiting, decided=decided[:30])


def parse_expiry(text: str, tz: str) -> datetime:
    """A date (end of that day in the viewer's zone) or an ISO instant."""
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            return datetime.combine(day, time(23, 59, 59), zone(tz)).astimezone(UTC)
        value = datetime.fromisoformat(text)
        return (value if value.tzinfo else value.replace(tzinfo=zone(tz))).astimezone(UTC)
    except ValueError as exc:
        raise InvalidInput(
            Problem(f"{text!r} is not a date", "expires", "use YYYY-MM-DD, e.g. 2020-08-01")
        ) from exc


def create_request(ctx: Ctx) -> Response:
    target_kind = ctx.field("target_kind", 20)
    target = ctx.field("target", 320)
    with ctx.app.store.unit_of_work() as uow:
        made = request_exemption(
            uow,
            target_kind=target_kind,
            target=target,
            policy=ctx.field("policy", 100),
            reason=ctx.field("reason"),
            expires_at=parse_expiry(ctx.field("expires", 40), ctx.viewer.timezone),
            requested_by=ctx.viewer.email,
            now=ctx.now,
            max_duration=ctx.app.settings.duration("max_exemption"),
        )
    return ctx.redirect("/console/exemptions", done="requested") if made else ctx.redirect("/")


def grant(ctx: Ctx) -> Response:
    grant_request(ctx.app.engine, ctx.request.path_params["id"], ctx.viewer.email, ctx.now)
    return ctx.redirect("/console/exemptions", done="granted")


def decline(ctx: Ctx) -> Response:
    with ctx.app.store.unit_of_work() as uow:
        decline_request(
            uow, ctx.request.path_params["id"], ctx.viewer.email, ctx.field("reason"), ctx.now
        )
    return ctx.redirect("/console/exemptions", done="declined")


def revoke(ctx: Ctx) -> Response:
    ctx.app.engine.revoke_exemption(
        ctx.request.path_params["id"], ctx.viewer.email, ctx.field("reason"), ctx.now
    )
    return ctx.redirect("/console/exemptions", done="revoked")


PAGES = [
    PageRoute("GET", "/console/devices", "viewer", devices),
    PageRoute("GET", "/console/devices/{key}", "viewer", device),
    PageRoute("GET", "/console/employees", "viewer", employees),
    PageRoute("GET", "/console/employees/{email}", "viewer", employee),
    PageRoute("GET", "/console/exemptions", "viewer", exemptions),
    PageRoute("POST", "/console/exemptions/requests", "author", create_request),
    PageRoute("POST", "/console/exemptions/requests/{id}/grant", "approver", grant),
    PageRoute("POST", "/console/exemptions/requests/{id}/decline", "approver", decline),
    PageRoute("POST", "/console/exemptions/{id}/revoke", "approver", revoke),
]
