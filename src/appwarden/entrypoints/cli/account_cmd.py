"""`appwarden account add|list`: people who use the console and approve changes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from appwarden.core.timeutil import iso
from appwarden.entrypoints.cli.context import STATE, JsonOption, NowOption, emit_json, out
from appwarden.services.access import RANKED_ROLES
from appwarden.services.accounts import save_account

app = typer.Typer(help="People and their roles (viewer < author < approver < admin).")


@app.command()
def add(
    email: Annotated[str, typer.Option(help="The person's email (their sign-in name).")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(RANKED_ROLES)}.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    locale: Annotated[str, typer.Option(help="Console language: en or ar.")] = "en",
    now: NowOption = None,
) -> None:
    """Add a person, or change their role (audited)."""
    application = STATE.app(now)
    with application.store.unit_of_work() as uow:
        account = save_account(uow, email, role, STATE.who(), STATE.now(now), name, locale)
    out.print(f"{account.email}: {account.role}")


@app.command("list")
def list_(json_out: JsonOption = False) -> None:
    """Everyone with an account."""
    application = STATE.app()
    with application.store.read() as uow:
        accounts = uow.accounts.all()
    rows = [
        {
            "email": a.email,
            "name": a.name,
            "role": a.role,
            "locale": a.locale,
            "created_at": iso(a.created_at),
            "active": a.active,
        }
        for a in accounts
    ]
    if json_out:
        emit_json(rows)
        return
    table = Table()
    for col in ("email", "name", "role", "locale", "created_at", "active"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    out.print(table if rows else "no accounts yet")
