"""`appwarden import`: our own CSV / JSON / JSON Lines formats (MDM sources plug in here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from appwarden.adapters.importers.native import parse_file
from appwarden.core.errors import InvalidInput, Problem
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
from appwarden.services.inventory import ImportBatch

# source name -> parser. Importers for MDM exports register here.
PARSERS: dict[str, Callable[[Path], ImportBatch]] = {"native": parse_file}


def import_(
    files: Annotated[list[Path], typer.Argument(help="Files to import, each all or nothing.")],
    source: Annotated[str, typer.Option(help="Format of the files.")] = "native",
    skip_bad: Annotated[bool, typer.Option(help="Import the good rows, report the bad.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Show what would change; write nothing.")] = False,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Import employees and devices. A bad row rejects its file unless --skip-bad."""
    parser = PARSERS.get(source)
    if parser is None:
        raise InvalidInput(
            Problem(f"unknown source {source!r}", "--source", f"use one of: {', '.join(PARSERS)}")
        )
    application = engine_loaded(now)
    results: list[dict[str, Any]] = []
    for file in files:
        batch = parser(file)
        with progress_bar() as bar:
            task = bar.add_task(f"importing {file.name}", total=max(len(batch.devices), 1))

            def advance(n: int, task: int = task, bar: object = bar) -> None:
                assert hasattr(bar, "advance")
                bar.advance(task, n)

            summary, report = application.engine.import_inventory(
                batch,
                STATE.who(),
                STATE.now(now),
                skip_bad=skip_bad,
                dry_run=dry_run,
                progress=advance,
            )
        body: dict[str, Any] = summary.as_dict()
        body["transitions"] = report.transition_counts() if report else {}
        results.append(body)
        if not json_out:
            verb = "would import" if dry_run else "imported"
            out.print(f"[bold]{verb}[/] {file}")
            out.print(
                kv_table(
                    [
                        ("employees", _triple(body["employees"])),
                        ("devices", _triple(body["devices"])),
                        (
                            "apps",
                            f"{body['apps']['seen']} seen, {body['apps']['installed']} installed, "
                            f"{body['apps']['removed']} removed",
                        ),
                        ("rejected rows", len(summary.rejected)),
                        ("transitions", body["transitions"] or "none"),
                    ]
                )
            )
            for problem in summary.rejected[:50]:
                out.print(f"  skipped: {problem.render()}", markup=False)
    if json_out:
        emit_json(results)


def _triple(counts: object) -> str:
    assert isinstance(counts, dict)
    return f"{counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged"
