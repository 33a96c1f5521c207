"""Inventory routes: enrolment, device check-ins, sources and conflicts, history, attestations.

Devices authenticate with their own credentials (`Authorization: Bearer awd_...`); an agent that
enrols presents its one-time code the same way (`Bearer awe_...`). Both resolve to principals of
the machine role `device`, told apart by `via`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from appwarden.bootstrap import App
from appwarden.core.errors import Forbidden, InvalidInput, Problem
from appwarden.core.inventory import Ownership
from appwarden.core.timeutil import TimeFormatError, iso, parse_duration
from appwarden.entrypoints.api.admin import read_body, read_json, route
from appwarden.entrypoints.api.auth import RESOLVERS, Principal
from appwarden.entrypoints.api.openapi import RouteDoc
from appwarden.entrypoints.views import decision_dict
from appwarden.services.access import role_allows
from appwarden.services.attestations import AttestationRequest
from appwarden.services.enrollment import CODE_PREFIX, CREDENTIAL_PREFIX, CodeRequest, usable_code

VIA_CREDENTIAL = "device-credential"
VIA_CODE = "enrollment-code"


def _bearer(request: Request) -> str:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def device_principal(app: App, request: Request) -> Principal | None:
    secret = _bearer(request)
    if secret.startswith(CREDENTIAL_PREFIX):
        credential = app.checkins.authenticate(secret)
        return Principal(f"device:{credential.device}", "device", VIA_CREDENTIAL)
    if secret.startswith(CODE_PREFIX):
        with app.store.read() as uow:
            code = usable_code(uow, secret, app.clock.now())
        return Principal(f"enrollment:{code.id}", "device", VIA_CODE)
    return None


RESOLVERS.insert(0, device_principal)  # before API tokens: device secrets are not tokens


async def _body(request: Request, limit: int) -> bytes:
    return await read_body(
        request, limit, "send fewer apps per check-in (a delta), or raise checkin_max_bytes"
    )


def _decision(app: App, device: str) -> dict[str, Any]:
    decision = app.engine.decide("device", device, app.clock.now())
    return decision_dict(decision, app.engine.decisions.decision_id(decision))


@route(
    RouteDoc(
        "POST",
        "/v1/enroll",
        "Enrol a device with a one-time code (Bearer awe_...); returns its credential once",
        "device",
        body="application/json",
        responses={401: "unknown, used or expired code"},
    )
)
async def post_enroll(app: App, request: Request, who: Principal) -> Any:
    if who.via != VIA_CODE:
        raise Forbidden("enrol with a one-time code: `Authorization: Bearer awe_...`")
    body = await _body(request, app.checkins.limits.max_bytes)
    enrolled = await run_in_threadpool(app.checkins.enroll, _bearer(request), body)
    return {
        "device": enrolled.outcome.key,
        "credential": enrolled.secret,
        "credential_id": enrolled.credential.id,
        "checkin": "/v1/checkin",
    }


@route(
    RouteDoc(
        "POST",
        "/v1/checkin",
        "A device reports its apps (full list or delta), OS and mail identities",
        "device",
        body="application/json",
        responses={401: "unknown or revoked credential", 422: "bad field (named)"},
    )
)
async def post_checkin(app: App, request: Request, who: Principal) -> Any:
    if who.via != VIA_CREDENTIAL:
        raise Forbidden("check in with the device credential: `Authorization: Bearer awd_...`")
    body = await _body(request, app.checkins.limits.max_bytes)
    future = app.checkins.submit(_bearer(request), body)
    result = await asyncio.wrap_future(future)
    return {
        "device": result.device,
        "status": result.status,
        "detail": result.detail,
        "sequence": result.sequence,
        "apps": result.apps,
        "decision": _decision(app, result.device),
    }


@route(
    RouteDoc(
        "POST",
        "/v1/enrollment-codes",
        "Create a one-time enrolment code for an employee's device (shown once)",
        "admin",
        body="application/json",
    )
)
async def post_enrollment_code(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    try:
        ownership = Ownership(str(data.get("ownership") or "unknown"))
        ttl = parse_duration(str(data["ttl"])) if data.get("ttl") else app.checkins.limits.code_ttl
    except (ValueError, TimeFormatError) as exc:
        raise InvalidInput(Problem(str(exc), "ownership/ttl")) from exc
    req = CodeRequest(data.get("owner"), ownership, data.get("device") or None, ttl)
    code, secret = await run_in_threadpool(app.checkins.create_code, req, who.name)
    return {"id": code.id, "code": secret, "owner": code.owner, "expires_at": iso(code.expires_at)}


@route(
    RouteDoc(
        "POST",
        "/v1/devices/{key}/revoke",
        "Revoke a device's check-in credentials",
        "admin",
        (("key", "path", "device key", True),),
        body="application/json",
        responses={404: "no such device", 409: "no active credential"},
    )
)
async def post_revoke(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    key = request.path_params["key"]
    revoked = await run_in_threadpool(
        app.checkins.revoke, key, who.name, str(data.get("reason", ""))
    )
    return {"device": key, "revoked": revoked}


@route(
    RouteDoc(
        "GET",
        "/v1/devices/{key}/history",
        "When each app appeared on and left the device",
        "viewer",
        (("key", "path", "device key", True),),
    )
)
def get_history(app: App, request: Request, _: Principal) -> Any:
    key = request.path_params["key"]
    app.engine.device_facts(key)  # 404 when unknown
    with app.store.read() as uow:
        return uow.inventory.app_history(key)


@route(
    RouteDoc(
        "GET",
        "/v1/devices/{key}/sources",
        "What each source last reported about the device, and the conflicts between them",
        "viewer",
        (("key", "path", "device key", True),),
    )
)
def get_sources(app: App, request: Request, _: Principal) -> Any:
    key = request.path_params["key"]
    app.engine.device_facts(key)
    with app.store.read() as uow:
        stored = uow.sources.snapshots(key)
        conflicts = uow.sources.conflicts(key)
    return {
        "device": key,
        "sources": [
            {
                "source": s.facts.source,
                "source_id": s.facts.source_id,
                "observed_at": iso(s.facts.observed_at),
                "values": dict(s.facts.values),
                "visibility": s.facts.visibility.value if s.facts.visibility else None,
                "identities": list(s.facts.identities),
            }
            for s in stored.values()
        ],
        "conflicts": [conflict_dict(c) for c in conflicts],
    }


def conflict_dict(stored: Any) -> dict[str, Any]:
    c = stored.conflict
    return {
        "device": stored.device,
        "field": c.field,
        "chosen": c.chosen,
        "chosen_source": c.chosen_source,
        "others": [{"source": s, "value": v} for s, v in c.others],
        "first_seen_at": iso(stored.first_seen_at),
        "last_seen_at": iso(stored.last_seen_at),
    }


@route(
    RouteDoc(
        "GET",
        "/v1/conflicts",
        "Fields on which sources disagree (never silently overwritten)",
        "viewer",
        (("limit", "query", "max rows (default 500)", False),),
    )
)
def get_conflicts(app: App, request: Request, _: Principal) -> Any:
    raw = request.query_params.get("limit") or "500"
    if not raw.isdigit():
        raise InvalidInput(Problem("must be a whole number", "limit"))
    with app.store.read() as uow:
        return [conflict_dict(c) for c in uow.sources.conflicts(None, min(int(raw), 5000))]


@route(
    RouteDoc(
        "POST",
        "/v1/attestations",
        "An employee attests that no barred app is on their device (signed, expires)",
        "viewer",
        body="application/json",
        responses={403: "not the device's owner", 409: "policy does not accept attestations"},
    )
)
async def post_attestation(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    employee = _attesting_employee(who, str(data.get("employee") or ""))
    valid_for = None
    if data.get("valid_for"):
        try:
            valid_for = parse_duration(str(data["valid_for"]))
        except TimeFormatError as exc:
            raise InvalidInput(Problem(str(exc), "valid_for")) from exc
    req = AttestationRequest(
        str(data.get("device", "")), str(data.get("policy", "")), employee, who.name, valid_for
    )
    att, _ = await run_in_threadpool(app.attestations.sign, req, app.clock.now())
    return attestation_dict(att, True)


def _attesting_employee(who: Principal, named: str) -> str:
    """The signed-in employee attests for themself; an admin may record one for an employee."""
    if role_allows(who.role, "admin") and who.role != "device":
        if not named:
            raise InvalidInput(Problem("is missing", "employee", "name who attests"))
        return named
    if "@" in who.name and (not named or named.lower() == who.name.lower()):
        return who.name
    raise Forbidden("only the device's owner, signed in, or an admin can record an attestation")


def attestation_dict(att: Any, valid: bool) -> dict[str, Any]:
    return {
        "id": att.id,
        "device": att.device,
        "policy": att.policy,
        "employee": att.employee,
        "statement": att.statement,
        "signed_at": iso(att.signed_at),
        "expires_at": iso(att.expires_at),
        "revoked_at": iso(att.revoked_at),
        "signature_valid": valid,
    }


@route(
    RouteDoc(
        "GET",
        "/v1/devices/{key}/attestations",
        "The device's attestations with their signature check",
        "viewer",
        (("key", "path", "device key", True),),
    )
)
def get_attestations(app: App, request: Request, _: Principal) -> Any:
    found = app.attestations.for_device(request.path_params["key"])
    return [attestation_dict(att, valid) for att, valid in found]


@route(
    RouteDoc(
        "POST",
        "/v1/attestations/{id}/revoke",
        "Revoke an attestation (the device is re-assessed)",
        "admin",
        (("id", "path", "attestation id", True),),
        body="application/json",
    )
)
async def post_revoke_attestation(app: App, request: Request, who: Principal) -> Any:
    data = await read_json(request)
    att, _ = await run_in_threadpool(
        app.attestations.revoke,
        request.path_params["id"],
        who.name,
        str(data.get("reason", "")),
        app.clock.now(),
    )
    return {"id": att.id, "revoked": True}
