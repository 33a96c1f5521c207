"""`appwarden token create|list|revoke`: API tokens for automation and gateways."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from appwarden.core.timeutil import iso
from appwarden.entrypoints.cli.context import STATE, JsonOption, NowOption, emit_json, out
from appwarden.services.access import ROLES, create_token, revoke_token

app = typer.Typer(help="API tokens (the secret is shown once, then only its hash is kept).")


@app.command()
def create(
    name: Annotated[str, typer.Option(help="What the token is for.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")] = "viewer",
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create a token and print its secret once."""
    application = STATE.app(now)
    with application.store.unit_of_work() as uow:
        token, secret = create_token(uow, name, role, STATE.who(), STATE.now(now))
    if json_out:
        emit_json({"id": token.id, "name": token.name, "role": token.role, "secret": secret})
    else:
        out.print(f"created {token.id} ({token.role}). Secret, shown only now:")
        out.print(secret, markup=False)


@app.command("list")
def list_(json_out: JsonOption = False) -> None:
    """Tokens (never their secrets)."""
    application = STATE.app()
    with application.store.read() as uow:
        tokens = uow.tokens.all()
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "role": t.role,
            "created_by": t.created_by,
            "created_at": iso(t.created_at),
            "revoked_at": iso(t.revoked_at),
        }
        for t in tokens
    ]
    if json_out:
        emit_json(rows)
        return
    table = Table()
    for col in ("id", "name", "role", "created_by", "created_at", "revoked_at"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(v or "") for v in row.values()))
    out.print(table if rows else "no tokens")


@app.command()
def revoke(token_id: str, now: NowOption = None) -> None:
    """Revoke a token immediately."""
    application = STATE.app(now)
    with application.store.unit_of_work() as uow:
        revoke_token(uow, token_id, STATE.who(), STATE.now(now))
    out.print(f"revoked {token_id}")
