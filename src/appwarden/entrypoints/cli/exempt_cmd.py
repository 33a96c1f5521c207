"""`appwarden exempt add|list|revoke`: time-boxed exemptions approved by a second person."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from appwarden.core.errors import InvalidInput, Problem
from appwarden.core.exemptions import TargetKind
from appwarden.core.timeutil import TimeFormatError, iso, parse_duration, parse_instant
from appwarden.entrypoints.cli.context import (
    STATE,
    JsonOption,
    NowOption,
    emit_json,
    engine_loaded,
    out,
)
from appwarden.entrypoints.views import exemption_dict

app = typer.Typer(help="Grant, list and revoke exemptions.")


def _expiry(text: str, now: datetime) -> datetime:
    try:
        return now + parse_duration(text) if text.upper().startswith("P") else parse_instant(text)
    except TimeFormatError as exc:
        raise InvalidInput(
            Problem(str(exc), "--expires", "a date-time or a duration like P30D")
        ) from exc


@app.command()
def add(
    policy: Annotated[str, typer.Option(help="Policy slug, or * for every policy.")],
    reason: Annotated[str, typer.Option(help="Why the exemption is needed.")],
    approver: Annotated[str, typer.Option(help="Who approved it (not you).")],
    expires: Annotated[str, typer.Option(help="Expiry: an instant, or a duration like P30D.")],
    device: Annotated[str | None, typer.Option(help="Exempt one device.")] = None,
    employee: Annotated[
        str | None, typer.Option(help="Exempt every device of an employee.")
    ] = None,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Grant an exemption; the affected devices are re-assessed at once."""
    if (device is None) == (employee is None):
        raise InvalidInput(Problem("name exactly one target", "--device/--employee"))
    application = engine_loaded(now)
    moment = STATE.now(now)
    kind, target = (TargetKind.DEVICE, device) if device else (TargetKind.EMPLOYEE, employee)
    assert target is not None
    exemption, report = application.engine.grant_exemption(
        moment,
        target_kind=kind,
        target=target,
        policy=policy,
        reason=reason,
        approver=approver,
        actor=STATE.who(),
        expires_at=_expiry(expires, moment),
    )
    body = {
        "id": exemption.id,
        "target": f"{kind.value}:{exemption.target}",
        "policy": policy,
        "expires_at": iso(exemption.expires_at),
        "transitions": report.transition_counts(),
    }
    if json_out:
        emit_json(body)
    else:
        out.print(
            f"[green]granted[/] {exemption.id} for {body['target']} until {body['expires_at']}"
        )


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked and expired.")] = False,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Exemptions in force (or all of them)."""
    application = STATE.app(now)
    moment = STATE.now(now)
    with application.store.read() as uow:
        rows = uow.exemptions.all(include_inactive=all_)
    if not all_:
        rows = [e for e in rows if e.active_at(moment)]
    data = [exemption_dict(e) for e in rows]
    if json_out:
        emit_json(data)
        return
    if not data:
        out.print("no exemptions in force")
        return
    table = Table()
    for col in data[0]:
        table.add_column(col)
    for row in data:
        table.add_row(*(str(v or "") for v in row.values()))
    out.print(table)


@app.command()
def revoke(
    exemption_id: str,
    reason: Annotated[str, typer.Option(help="Why it ends early (audited).")],
    now: NowOption = None,
) -> None:
    """End an exemption now; the devices it covered are re-assessed at once."""
    application = engine_loaded(now)
    exemption, report = application.engine.revoke_exemption(
        exemption_id, STATE.who(), reason, STATE.now(now)
    )
    out.print(f"revoked {exemption.id}; transitions: {report.transition_counts() or 'none'}")
