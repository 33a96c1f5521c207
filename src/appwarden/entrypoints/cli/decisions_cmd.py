"""`appwarden decisions tail`: the decision log, newest last (written by `appwarden serve`)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from appwarden.entrypoints.cli.context import STATE, JsonOption, emit_json, out

app = typer.Typer(help="The gateway decision log.")
RESULTS = ("allowed", "denied", "unknown", "would_deny", "exempt")


def _rows(after: int, limit: int, result: str | None, policy: str | None) -> list[dict[str, Any]]:
    with STATE.app().store.read() as uow:
        return uow.decision_log.tail(after, limit, result, policy)


def _print(rows: list[dict[str, Any]], json_out: bool) -> None:
    if json_out:
        for row in rows:
            emit_json(row)
        return
    table = Table(box=None, pad_edge=False)
    for col in ("at", "decision", "protocol", "identity", "user", "result", "policies", "code"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["at"], r["decision_id"], r["protocol"], r["identity"], r["user"],
            r["result"], ",".join(r["policies"]), r["code"],
        )  # fmt: skip
    if rows:
        out.print(table)


@app.command()
def tail(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, max=10_000)] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new ones.")] = False,
    result: Annotated[
        str | None, typer.Option(help=f"Only this result: {', '.join(RESULTS)}.")
    ] = None,
    policy: Annotated[str | None, typer.Option(help="Only decisions naming this policy.")] = None,
    json_out: JsonOption = False,
) -> None:
    """The latest decisions (identities as masked by decision_log_mask)."""
    if result is not None and result not in RESULTS:
        raise typer.BadParameter(f"choose one of {', '.join(RESULTS)}", param_hint="--result")
    rows = _rows(0, lines, result, policy)
    if not rows and not follow and not json_out:
        out.print("no decisions logged yet (gateways call `appwarden serve`)")
    _print(rows, json_out)
    last = rows[-1]["seq"] if rows else 0
    while follow:
        time.sleep(1.0)
        rows = _rows(last, 1000, result, policy)
        if rows:
            _print(rows, json_out)
            last = rows[-1]["seq"]
