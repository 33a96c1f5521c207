"""`appwarden assess`, `appwarden decide`, `appwarden device show`."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from appwarden.core.decision import Effect
from appwarden.core.errors import InvalidInput, Problem
from appwarden.core.timeutil import iso
from appwarden.core.verdict import Status
from appwarden.entrypoints.cli.context import (
    EXIT_DENY,
    EXIT_UNKNOWN_IDENTITY,
    STATE,
    JsonOption,
    NowOption,
    emit_json,
    engine_loaded,
    out,
)
from appwarden.entrypoints.cli.render import breakdown_table, kv_table, status_cell
from appwarden.entrypoints.views import assessment_dict, decision_dict, device_dict
from appwarden.services.assessment import AssessmentReport


def assess(
    now: NowOption = None,
    json_out: JsonOption = False,
    by: Annotated[
        str, typer.Option(help="Breakdown: department, platform, both or none.")
    ] = "both",
) -> None:
    """Assess the whole fleet against every policy in force; record verdicts and transitions."""
    application = engine_loaded(now)
    report = application.engine.assess(STATE.now(now), "cli", STATE.who())
    summary = assessment_dict(application.engine.fleet, report)
    if json_out:
        emit_json(summary)
        return
    out.print(
        f"Assessed [bold]{len(application.engine.fleet)}[/] devices against "
        f"[bold]{len(report.results)}[/] policies at {iso(report.at)} "
        f"in {report.duration_ms:.0f} ms"
    )
    for slug, policy in summary["policies"].items():
        counts = policy["counts"]
        deadline = policy["deadline"]
        out.print(
            f"\n[bold]{slug}[/] (version {policy['version']}): {policy['in_scope']} devices of "
            f"{policy['employees_in_scope']} employees in scope; "
            f"[yellow]{counts.get('pending', 0)} pending until {deadline}[/], "
            f"[red]{counts.get('blocked', 0)} blocked[/], "
            f"{counts.get('unknown', 0)} unknown, {counts.get('exempt', 0)} exempt, "
            f"{counts.get('overdue', 0)} overdue, {counts.get('compliant', 0)} compliant"
        )
        if by in ("department", "both"):
            out.print(breakdown_table("By department", policy["by_department"], "department"))
        if by in ("platform", "both"):
            out.print(breakdown_table("By platform", policy["by_platform"], "platform"))
    kinds = report.transition_counts()
    out.print(
        "\nTransitions: " + (", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none")
    )


def decide(
    device: Annotated[str | None, typer.Option(help="Device key.")] = None,
    eas: Annotated[str | None, typer.Option(help="Exchange ActiveSync DeviceId.")] = None,
    cert: Annotated[str | None, typer.Option(help="Client certificate fingerprint.")] = None,
    imap: Annotated[str | None, typer.Option(help="IMAP ID device id.")] = None,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """What a mail gateway would be told about this device. Exit 0 allow, 10 deny, 11 unknown."""
    given = [
        (k, v) for k, v in (("device", device), ("eas", eas), ("cert", cert), ("imap", imap)) if v
    ]
    if len(given) != 1:
        raise InvalidInput(Problem("name exactly one identity", "--device/--eas/--cert/--imap"))
    application = engine_loaded(now)
    kind, value = given[0]
    decision = application.engine.decide(kind, value, STATE.now(now))
    body = decision_dict(decision, application.engine.decisions.decision_id(decision))
    if json_out:
        emit_json(body)
    else:
        effect = body["effect"]
        style = {"allow": "bold green", "deny": "bold red"}.get(effect, "bold magenta")
        out.print(f"[{style}]{effect.upper()}[/]  {decision.identity} (device {decision.device})")
        for reason in body.get("reasons", []):
            out.print(
                f"  policy [bold]{reason['policy']}[/] v{reason['version']}: remove "
                f"{', '.join(reason['apps']) or 'the barred apps'} (deadline {reason['deadline']})"
            )
        for warning in body.get("warnings", []):
            out.print(
                f"  [yellow]{warning['status']}[/] {warning['policy']}: "
                f"{', '.join(warning['apps']) or '-'} by {warning['deadline']}"
            )
        for dry in body.get("dry_run", []):
            out.print(f"  [dim]report-only[/] {dry['policy']}: would deny")
        out.print(f"  decision {body['decision_id']}, index revision {decision.revision}")
    if decision.outcome is None:
        raise typer.Exit(EXIT_UNKNOWN_IDENTITY)
    if decision.outcome.effect is Effect.DENY:
        raise typer.Exit(EXIT_DENY)


device_app = typer.Typer(help="Look at one device.")


@device_app.command("show")
def device_show(key: str, json_out: JsonOption = False) -> None:
    """A device: its facts, apps, verdicts and app history."""
    application = engine_loaded()
    facts = application.engine.device_facts(key)
    verdicts = application.engine.device_verdicts(key)
    with application.store.read() as uow:
        history = uow.inventory.app_history(key)
    body = device_dict(facts, verdicts, history)
    if json_out:
        emit_json(body)
        return
    out.print(
        kv_table(
            [
                (k, body[k])
                for k in (
                    "key",
                    "owner",
                    "platform",
                    "ownership",
                    "visibility",
                    "os_version",
                    "android_patch",
                )
            ]
        )
    )
    out.print(f"mail identities: {', '.join(body['mail_identities']) or 'none'}")
    out.print(f"{len(body['apps'])} apps")
    table = Table(title="Verdicts (non-compliant only)", title_justify="left")
    for col in ("policy", "status", "apps", "deadline"):
        table.add_column(col)
    for v in body["verdicts"]:
        table.add_row(
            v["policy"], status_cell(v["status"]), ", ".join(v["apps"]), v["deadline"] or ""
        )
    out.print(table if body["verdicts"] else "compliant with every policy in force")


def status_counts(report: AssessmentReport) -> Counter[Status]:
    total: Counter[Status] = Counter()
    for result in report.results.values():
        total.update(result.counts())
    return total
