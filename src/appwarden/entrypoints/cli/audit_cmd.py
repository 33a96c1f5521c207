"""`appwarden audit verify|export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from appwarden.entrypoints.cli.context import EXIT_CHAIN_BROKEN, STATE, JsonOption, emit_json, out
from appwarden.services.audit import export_lines, verify

app = typer.Typer(help="The tamper-evident audit log.")


@app.command("verify")
def verify_cmd(
    expect: Annotated[
        str,
        typer.Option(
            help="A head hash recorded earlier outside the database (an anchor): "
            "verify fails if that event is gone, e.g. the log was truncated."
        ),
    ] = "",
    json_out: JsonOption = False,
) -> None:
    """Check the hash chain; any edited, removed or reordered event is named. Exit 12 if broken."""
    application = STATE.app()
    with application.store.read() as uow:
        report = verify(uow, expect)
    if json_out:
        emit_json(
            {
                "ok": report.ok,
                "events": report.events,
                "head": report.head,
                "problems": [
                    {"seq": p.seq, "kind": p.kind, "detail": p.detail} for p in report.problems
                ],
            }
        )
    elif report.ok:
        out.print(f"[green]chain intact[/]: {report.events} events, head {report.head[:16]}")
    else:
        out.print(
            f"[bold red]chain broken[/]: {len(report.problems)} problem(s) "
            f"in {report.events} events"
        )
        for problem in report.problems:
            out.print(f"  event {problem.seq}: {problem.kind}: {problem.detail}")
    if not report.ok:
        raise typer.Exit(EXIT_CHAIN_BROKEN)


@app.command()
def export(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="File to write (default stdout).")
    ] = None,
    after: Annotated[int, typer.Option(help="Only events after this sequence number.")] = 0,
    type_: Annotated[str | None, typer.Option("--type", help="Only this event type.")] = None,
) -> None:
    """Write the log as JSON lines (with hashes) for a SIEM."""
    application = STATE.app()
    with application.store.read() as uow:
        lines = list(export_lines(uow, after, type_))
    text = "".join(line + "\n" for line in lines)
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        out.print(f"wrote {len(lines)} events to {out_file}")
