"""`appwarden enroll ...` (device check-in credentials) and `appwarden attest ...`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from appwarden.core.inventory import Ownership
from appwarden.core.timeutil import iso, parse_duration
from appwarden.entrypoints.cli.context import (
    STATE,
    JsonOption,
    NowOption,
    emit_json,
    engine_loaded,
    out,
)
from appwarden.services.attestations import AttestationRequest
from appwarden.services.enrollment import CodeRequest

enroll_app = typer.Typer(help="Enrol devices for check-ins; revoke their credentials.")
attest_app = typer.Typer(help="Employees' signed attestations for devices whose apps are unseen.")


@enroll_app.command("code")
def code(
    owner: Annotated[str | None, typer.Option(help="Employee whose device this enrols.")] = None,
    ownership: Annotated[str, typer.Option(help="corporate, personal or unknown.")] = "unknown",
    device: Annotated[str | None, typer.Option(help="Re-enrol this existing device.")] = None,
    ttl: Annotated[str, typer.Option(help="How long the code stays usable (ISO 8601).")] = "P7D",
    json_out: JsonOption = False,
) -> None:
    """Create a one-time enrolment code (shown once; only its hash is stored)."""
    app = STATE.app()
    req = CodeRequest(owner, Ownership(ownership), device, parse_duration(ttl))
    made, secret = app.checkins.create_code(req, STATE.who())
    body = {"id": made.id, "code": secret, "owner": made.owner, "expires_at": iso(made.expires_at)}
    if json_out:
        emit_json(body)
        return
    out.print(f"enrolment code {made.id} for {made.owner}, usable once until {body['expires_at']}:")
    out.print(secret, markup=False)
    out.print("The agent posts it to /v1/enroll as `Authorization: Bearer <code>`.")


@enroll_app.command("revoke")
def revoke(
    device: Annotated[str, typer.Argument(help="Device key.")],
    reason: Annotated[str, typer.Option(help="Why the device may no longer report.")],
) -> None:
    """Revoke a device's check-in credentials (takes effect at its next check-in)."""
    revoked = STATE.app().checkins.revoke(device, STATE.who(), reason)
    out.print(f"revoked {', '.join(revoked)} of {device}")


@enroll_app.command("list")
def list_(device: Annotated[str | None, typer.Option(help="Only this device.")] = None) -> None:
    """Open enrolment codes and device credentials (never their secrets)."""
    app = STATE.app()
    with app.store.read() as uow:
        codes = uow.enrollments.codes()
        credentials = uow.enrollments.credentials(device)
    table = Table(title="Device credentials", title_justify="left")
    for col in ("id", "device", "created", "revoked"):
        table.add_column(col)
    for c in credentials:
        table.add_row(c.id, c.device, iso(c.created_at), iso(c.revoked_at) or "")
    out.print(table)
    out.print(f"{len(codes)} unused enrolment code(s)")


@attest_app.command("sign")
def sign(
    device: Annotated[str, typer.Option(help="Device key.")],
    policy: Annotated[str, typer.Option(help="Policy slug.")],
    employee: Annotated[str, typer.Option(help="The employee who attests (the owner).")],
    valid_for: Annotated[str | None, typer.Option(help="ISO 8601 duration.")] = None,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Record an employee's attestation (e.g. signed on paper) for their device."""
    app = engine_loaded(now)
    req = AttestationRequest(
        device, policy, employee, STATE.who(), parse_duration(valid_for) if valid_for else None
    )
    att, report = app.attestations.sign(req, STATE.now(now))
    body = {"id": att.id, "expires_at": iso(att.expires_at), "statement": att.statement}
    if json_out:
        emit_json(body | {"transitions": report.transition_counts()})
        return
    out.print(f"attestation {att.id} signed, valid until {body['expires_at']}")
    out.print(att.statement, markup=False)


@attest_app.command("list")
def list_attestations(
    device: Annotated[str, typer.Option(help="Device key.")], json_out: JsonOption = False
) -> None:
    """A device's attestations, with their signature check."""
    found = STATE.app().attestations.for_device(device)
    rows = [
        {
            "id": a.id,
            "policy": a.policy,
            "employee": a.employee,
            "signed_at": iso(a.signed_at),
            "expires_at": iso(a.expires_at),
            "revoked_at": iso(a.revoked_at),
            "signature_valid": valid,
        }
        for a, valid in found
    ]
    if json_out:
        emit_json(rows)
        return
    table = Table(title=f"Attestations of {device}", title_justify="left")
    for col in ("id", "policy", "employee", "signed", "expires", "revoked", "signature"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["policy"]),
            str(r["employee"]),
            str(r["signed_at"]),
            str(r["expires_at"]),
            str(r["revoked_at"] or ""),
            "valid" if r["signature_valid"] else "[red]INVALID[/]",
        )
    out.print(table)


@attest_app.command("revoke")
def revoke_attestation(
    attestation: Annotated[str, typer.Argument(help="Attestation id.")],
    reason: Annotated[str, typer.Option(help="Why it no longer holds.")],
    now: NowOption = None,
) -> None:
    """Revoke an attestation; the device is re-assessed at once."""
    app = engine_loaded(now)
    att, report = app.attestations.revoke(attestation, STATE.who(), reason, STATE.now(now))
    out.print(f"revoked {att.id}; transitions: {report.transition_counts() or 'none'}")
