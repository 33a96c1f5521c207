"""`appwarden inventory ...`: what each source reported, conflicts, app history, stale devices."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from appwarden.core.staleness import seen_before
from appwarden.core.timeutil import iso
from appwarden.entrypoints.cli.context import (
    STATE,
    JsonOption,
    NowOption,
    emit_json,
    engine_loaded,
    out,
)

app = typer.Typer(help="Look into the inventory: sources, conflicts, history, stale devices.")


@app.command("conflicts")
def conflicts(
    device: Annotated[str | None, typer.Option(help="Only this device.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 500,
    json_out: JsonOption = False,
) -> None:
    """Fields on which two sources disagree, and which value was kept."""
    with STATE.app().store.read() as uow:
        found = uow.sources.conflicts(device, limit)
    rows = [
        {
            "device": c.device,
            "field": c.conflict.field,
            "chosen": c.conflict.chosen,
            "from": c.conflict.chosen_source,
            "others": [f"{s}: {v}" for s, v in c.conflict.others],
            "since": iso(c.first_seen_at),
        }
        for c in found
    ]
    if json_out:
        emit_json(rows)
        return
    table = Table(title="Conflicts between sources", title_justify="left")
    for col in ("device", "field", "kept", "from", "other sources say", "since"):
        table.add_column(col)
    for r in rows:
        others = r["others"]
        assert isinstance(others, list)
        table.add_row(
            str(r["device"]), str(r["field"]), str(r["chosen"]), str(r["from"]),
            "; ".join(others), str(r["since"]),
        )  # fmt: skip
    out.print(table if rows else "no conflicts")


@app.command("history")
def history(
    device: Annotated[str, typer.Argument(help="Device key.")], json_out: JsonOption = False
) -> None:
    """When each app appeared on the device and when it left."""
    with STATE.app().store.read() as uow:
        events = uow.inventory.app_history(device)
    if json_out:
        emit_json(events)
        return
    table = Table(title=f"App history of {device}", title_justify="left")
    for col in ("at", "event", "app", "name", "source"):
        table.add_column(col)
    for e in events:
        event = f"{e['event']} (first report)" if e["first_report"] else e["event"]
        table.add_row(e["at"], event, e["app"], e["name"], e["source"])
    out.print(table if events else f"no app history for {device}")


@app.command("sources")
def sources(
    device: Annotated[str, typer.Argument(help="Device key.")], json_out: JsonOption = False
) -> None:
    """What each source last reported about the device."""
    with STATE.app().store.read() as uow:
        stored = uow.sources.snapshots(device)
    rows = [
        {
            "source": s.facts.source,
            "source_id": s.facts.source_id,
            "observed_at": iso(s.facts.observed_at),
            "visibility": s.facts.visibility.value if s.facts.visibility else None,
            "values": dict(s.facts.values),
        }
        for s in stored.values()
    ]
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        out.print(f"[bold]{r['source']}[/] {r['source_id']} at {r['observed_at']}")
        out.print(f"  sees: {r['visibility'] or 'no apps reported'}; {r['values']}", markup=False)


@app.command("stale")
def stale(now: NowOption = None, json_out: JsonOption = False) -> None:
    """Devices that have not reported within `stale_after`, oldest first."""
    application = engine_loaded(now)
    engine = application.engine
    staleness = engine.staleness
    if staleness is None:
        out.print("staleness is off")
        return
    fleet = engine.fleet
    cutoff = staleness.cutoff(STATE.now(now))
    slots = sorted(seen_before(fleet, cutoff), key=lambda s: fleet.last_seen[s])
    rows = [{"device": fleet.keys[s], "last_seen": iso(fleet.last_seen_of(s))} for s in slots]
    if json_out:
        emit_json({"cutoff": iso(cutoff), "effect": staleness.effect.value, "devices": rows})
        return
    out.print(
        f"{len(rows)} device(s) silent since before {iso(cutoff)} "
        f"(effect: {staleness.effect.value})"
    )
    for r in rows[:200]:
        out.print(f"  {r['device']}  last report {r['last_seen']}")
