"""The `appwarden` command: one Typer app, one error handler, exit codes that mean something."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from appwarden import __version__
from appwarden.entrypoints.cli import (
    account_cmd,
    assess_cmd,
    audit_cmd,
    campaign_cmd,
    decisions_cmd,
    demo_cmd,
    directory_cmd,
    enroll_cmd,
    exempt_cmd,
    gateway_cmd,
    inventory_cmd,
    password_cmd,
    policy_cmd,
    serve_cmd,
    sources_cmd,
    token_cmd,
)
from appwarden.entrypoints.cli.context import EXIT_INTERNAL, STATE, err, fail

app = typer.Typer(
    name="appwarden",
    help="Keep barred apps off devices that reach corporate mail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        print(f"appwarden {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    home: Annotated[
        Path | None,
        typer.Option(
            help="Data folder (database, settings). Env: APPWARDEN_HOME.", show_default=False
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who is acting, for the audit log. Env: APPWARDEN_ACTOR.", show_default=False
        ),
    ] = None,
    version: Annotated[  # noqa: ARG001 (handled by its eager callback)
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """AppWarden: inventory, policy as code, fleet verdicts, mail-gateway decisions."""
    STATE.home = str(home) if home else None
    STATE.actor = actor


app.command()(demo_cmd.init)
app.command()(demo_cmd.demo)
app.command("import")(inventory_cmd.import_)
app.add_typer(policy_cmd.app, name="policy")
app.command()(assess_cmd.assess)
app.command()(assess_cmd.decide)
app.add_typer(assess_cmd.device_app, name="device")
app.add_typer(exempt_cmd.app, name="exempt")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(token_cmd.app, name="token")
app.add_typer(account_cmd.app, name="account")
account_cmd.app.command("set-password")(password_cmd.set_password)
app.add_typer(campaign_cmd.app, name="campaign")
app.command()(serve_cmd.serve)
app.add_typer(gateway_cmd.app, name="gateway")
app.add_typer(decisions_cmd.app, name="decisions")
app.add_typer(directory_cmd.app, name="directory")
app.add_typer(enroll_cmd.enroll_app, name="enroll")
app.add_typer(enroll_cmd.attest_app, name="attest")
app.add_typer(sources_cmd.app, name="inventory")


def run() -> None:
    """Entry point: map every error to its exit code; stack traces only with APPWARDEN_DEBUG=1."""
    try:
        result = app(standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        err.print("interrupted")
        code = 130
    except Exception as exc:
        import click

        names = {k.__name__ for k in type(exc).__mro__}  # click, or the click typer vendors
        if isinstance(exc, click.exceptions.Abort) or "Abort" in names:
            err.print("aborted")
            code = 1
        elif isinstance(exc, click.ClickException) or "ClickException" in names:
            exc.show()  # type: ignore[attr-defined]
            code = 2
        elif os.environ.get("APPWARDEN_DEBUG"):
            raise
        else:
            code = fail(exc)
            if code == EXIT_INTERNAL:
                err.print("  (this is a bug; rerun with APPWARDEN_DEBUG=1 for details)")
    finally:
        STATE.close()
    sys.exit(code)
