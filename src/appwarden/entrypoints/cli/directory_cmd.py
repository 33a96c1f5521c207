"""`appwarden directory sync`: employees and their aliases from a directory export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from appwarden.adapters.importers.directory import parse_directory
from appwarden.entrypoints.cli.context import (
    STATE,
    JsonOption,
    NowOption,
    emit_json,
    engine_loaded,
    out,
    progress_bar,
)
from appwarden.entrypoints.cli.render import kv_table
from appwarden.services.directory import run_sync

app = typer.Typer(help="Employees, departments, groups and managers from your directory.")


@app.command("sync")
def sync(
    files: Annotated[list[Path], typer.Argument(help="CSV or SCIM JSON exports.")],
    skip_bad: Annotated[bool, typer.Option(help="Import the good rows, report the bad.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Show what would change; write nothing.")] = False,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Sync employees (and UPN aliases, so devices link to their owners). All or nothing."""
    application = engine_loaded(now)
    results: list[dict[str, Any]] = []
    for file in files:
        batch = parse_directory(file)
        with progress_bar() as bar:
            task = bar.add_task(f"syncing {file.name}", total=max(len(batch.entries), 1))
            summary, report = run_sync(
                application.engine,
                batch,
                STATE.who(),
                STATE.now(now),
                skip_bad=skip_bad,
                dry_run=dry_run,
            )
            bar.advance(task, len(batch.entries))
        body = summary.as_dict() | {"transitions": report.transition_counts() if report else {}}
        results.append(body)
        if not json_out:
            out.print(f"[bold]{'would sync' if dry_run else 'synced'}[/] {file}")
            employees = body["employees"]
            assert isinstance(employees, dict)
            out.print(
                kv_table(
                    [
                        (
                            "employees",
                            f"{employees['added']} added, {employees['updated']} updated, "
                            f"{employees['unchanged']} unchanged",
                        ),
                        ("inactive (skipped)", summary.inactive_skipped),
                        ("devices linked by alias", summary.devices_linked),
                        ("rejected rows", len(summary.rejected)),
                        ("transitions", body["transitions"] or "none"),
                    ]
                )
            )
            for problem in [*summary.rejected, *summary.warnings][:50]:
                out.print(f"  {problem.render()}", markup=False)
    if json_out:
        emit_json(results)
