"""`appwarden account set-password`: a console password for a person (argon2id, audited)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from appwarden.core.errors import InvalidInput, Problem
from appwarden.entrypoints.cli.context import STATE, NowOption, out
from appwarden.services.signin import set_password as set_password_service


def set_password(
    email: Annotated[str, typer.Argument(help="The person's account e-mail.")],
    stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    now: NowOption = None,
) -> None:
    """Set or replace a console password; the person's sessions end. Prompts twice unless
    --password-stdin (the password is never an argument, so it stays out of shell history)."""
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True)
        if typer.prompt("again", hide_input=True) != password:
            raise InvalidInput(Problem("the two entries differ", "password", "type it again"))
    application = STATE.app(now)
    with application.store.unit_of_work() as uow:
        set_password_service(
            uow,
            application.passwords,
            email.strip().lower(),
            password,
            STATE.who(),
            STATE.now(now),
        )
    out.print(f"password set for {email.strip().lower()}")
