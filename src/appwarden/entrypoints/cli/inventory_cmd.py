"""`appwarden import`: our own formats and every MDM export we read, each file all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from appwarden.adapters.importers import fleet, google, headwind, intune, jamf
from appwarden.adapters.importers.native import parse_file
from appwarden.adapters.importers.native_stream import iter_jsonl
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
from appwarden.services.bulk_import import StreamImport
from appwarden.services.inventory import ImportBatch, ImportSummary

# source name -> parser of one file. Every importer registers here.
PARSERS: dict[str, Callable[[Path], ImportBatch]] = {
    "native": parse_file,
    "intune": intune.parse,
    "jamf": jamf.parse,
    "google-amapi": google.parse_amapi,
    "google-admin": google.parse_admin,
    "fleet": fleet.parse,
    "headwind": headwind.parse,
}
STREAMED = (".jsonl", ".ndjson")  # our JSON Lines: read in chunks, any size


def import_(
    files: Annotated[list[Path], typer.Argument(help="Files to import, each all or nothing.")],
    source: Annotated[
        str, typer.Option(help=f"Format of the files: {', '.join(PARSERS)}.")
    ] = "native",
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
        opts = {"skip_bad": skip_bad, "dry_run": dry_run}
        if source == "native" and file.suffix.lower() in STREAMED:
            summary, report = _stream(application, file, now, opts)
        else:
            summary, report = _whole(application, parser(file), file, now, opts)
        body: dict[str, Any] = summary.as_dict()
        body["transitions"] = report.transition_counts() if report else {}
        results.append(body)
        if not json_out:
            _print(file, summary, body, dry_run)
    if json_out:
        emit_json(results)


@contextmanager
def _bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with progress_bar() as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _whole(
    application: Any, batch: ImportBatch, file: Path, now: str | None, opts: dict[str, bool]
) -> tuple[ImportSummary, Any]:
    with _bar(f"importing {file.name}", max(batch.device_count, 1)) as advance:
        return application.engine.import_inventory(  # type: ignore[no-any-return]
            batch, STATE.who(), STATE.now(now), progress=advance, **opts
        )


def _stream(
    application: Any, file: Path, now: str | None, opts: dict[str, bool]
) -> tuple[ImportSummary, Any]:
    with _bar(f"importing {file.name}", None) as advance:
        run = StreamImport(
            application.engine,
            str(file),
            "jsonl",
            STATE.now(now),
            STATE.who(),
            progress=advance,
            **opts,
        )
        return run.run(iter_jsonl(file))


def _print(file: Path, summary: ImportSummary, body: dict[str, Any], dry_run: bool) -> None:
    devices = body["devices"]
    out.print(f"[bold]{'would import' if dry_run else 'imported'}[/] {file}")
    out.print(
        kv_table(
            [
                ("employees", _triple(body["employees"])),
                (
                    "devices",
                    _triple(devices)
                    + f", {devices['skipped']} older than known (skipped)"
                    + f", {devices['merged']} also reported by another source",
                ),
                ("without owner", devices["without_owner"]),
                ("conflicts", f"{devices['conflicts']} (appwarden inventory conflicts)"),
                (
                    "apps",
                    f"{body['apps']['seen']} seen, {body['apps']['installed']} installed, "
                    f"{body['apps']['removed']} removed",
                ),
                ("rejected rows", len(summary.rejected)),
                ("warnings", len(summary.warnings)),
                ("transitions", body["transitions"] or "none"),
            ]
        )
    )
    for problem in summary.rejected[:50]:
        out.print(f"  skipped: {problem.render()}", markup=False)
    for problem in summary.warnings[:20]:
        out.print(f"  warning: {problem.render()}", markup=False)
    if len(summary.warnings) > 20:
        out.print(f"  ... and {len(summary.warnings) - 20} more warnings (--json lists them)")


def _triple(counts: object) -> str:
    assert isinstance(counts, dict)
    return f"{counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged"
