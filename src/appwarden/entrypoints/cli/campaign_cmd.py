"""`appwarden campaign ...`: preview, approve, send, halt, undo, retract, test."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import TaskID
from rich.table import Table

from appwarden.adapters.mail.returns import mark_seen, read_messages
from appwarden.bootstrap import App
from appwarden.core.campaign import Campaign
from appwarden.core.errors import InvalidInput, Problem
from appwarden.entrypoints.cli.context import (
    EXIT_CONFLICT,
    STATE,
    JsonOption,
    NowOption,
    emit_json,
    engine_loaded,
    err,
    out,
    progress_bar,
)
from appwarden.entrypoints.cli.render import kv_table
from appwarden.entrypoints.notice_views import (
    campaign_dict,
    preview_dict,
    status_dict,
    tick_dict,
)
from appwarden.entrypoints.returns import take_return
from appwarden.services.access import role_allows
from appwarden.services.campaign_preview import Preview
from appwarden.services.notices import Actor

app = typer.Typer(help="Employee notices: preview, two-person approval, staged sends, retraction.")
IdArg = Annotated[str, typer.Argument(help="Campaign id (`appwarden campaign list`).")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (audited).")]


def _actor(application: App) -> Actor:
    """The acting person, with the approver role checked against their account."""
    who = STATE.who()
    with application.store.read() as uow:
        account = uow.accounts.get(who)
    ok = account is not None and account.active and role_allows(account.role, "approver")
    return Actor(who, ok)


@app.command("list")
def list_(
    policy: Annotated[str | None, typer.Option(help="Only this policy.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Every campaign, newest last."""
    application = STATE.app()
    rows = [campaign_dict(c) for c in application.notices.list_campaigns(policy)]
    if json_out:
        emit_json(rows)
        return
    table = Table()
    for col in ("id", "policy", "v", "kind", "mode", "status", "people", "author", "approved_by"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"],
            r["policy"],
            str(r["version"]),
            r["kind"],
            r["mode"],
            r["status"],
            str(r["recipients"]),
            r["author"],
            r["approved_by"] or "",
        )
    out.print(table if rows else "no campaigns yet: applying a policy drafts one")


@app.command()
def preview(
    campaign: IdArg,
    samples: Annotated[bool, typer.Option(help="Print the rendered samples too.")] = False,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """The exact blast radius and rendered samples; records the digest an approval binds."""
    application = engine_loaded(now, quiet=json_out)
    result = application.notices.preview(campaign, STATE.who(), STATE.now(now))
    body = preview_dict(result, samples=json_out or samples)
    if json_out:
        emit_json(body)
        return
    _print_preview(result, body)
    if samples:
        for key, s in sorted(result.samples.items()):
            out.print(f"\n[bold]--- {key}: {s.subject}[/]")
            out.print(s.text, markup=False)
    out.print(
        f"\napprove with: appwarden campaign approve {result.campaign.id} --digest {result.digest}"
    )


def _print_preview(result: Preview, body: dict[str, Any]) -> None:
    c = result.campaign
    diff = body["diff"]
    approval = "a second person with the approver role" if result.second_person else "the author"
    out.print(
        kv_table(
            [
                ("campaign", f"{c.id} ({c.kind.value}, {c.policy} v{c.version})"),
                ("people", body["people"]),
                ("devices", body["devices"]),
                ("locales", ", ".join(f"{k}: {v}" for k, v in body["locales"].items())),
                ("unreachable", f"{len(body['unreachable'])} device(s) whose owner has no email"),
                (
                    "added / dropped",
                    f"{len(diff['added'])} / {len(diff['dropped'])} people vs earlier",
                ),
                ("approval", approval),
                ("digest", result.digest),
            ],
            title="Preview",
        )
    )
    for dim, b in body["breakdown"].items():
        table = Table(title=f"By {dim}", title_justify="left")
        for col in (dim, "people", "devices"):
            table.add_column(col)
        for value, n in b["people"].items():
            table.add_row(value, str(n), str(b["devices"].get(value, 0)))
        out.print(table)
    for day in body["lose_mail"]:
        out.print(
            f"lose mail on {day['day']} (from {day['from']}): {day['people']} people, "
            f"{day['devices']} devices"
        )
    for u in body["unreachable"][:20]:
        out.print(f"  [yellow]unreachable[/]: {u['device']} ({u['why']})")
    out.print(f"samples: {', '.join(sorted(result.samples))}")


@app.command()
def approve(
    campaign: IdArg,
    digest: Annotated[str, typer.Option(help="The digest the preview showed you.")] = "",
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Approve a previewed campaign (or a retraction) exactly as previewed."""
    application = engine_loaded(now, quiet=json_out)
    result = application.notices.approve(campaign, _actor(application), STATE.now(now), digest)
    if json_out:
        emit_json(
            {
                "approved": result.ok,
                "message": result.message,
                "campaign": campaign_dict(result.campaign),
            }
        )
    elif result.ok:
        c = result.campaign
        out.print(f"{c.id} approved by {c.approved_by}: {c.recipients} people, {c.waves} wave(s)")
        if c.undo_until:
            out.print(
                f"the first notice leaves at {c.undo_until.isoformat()}; until then "
                f"`appwarden campaign undo {c.id}` cancels everything"
            )
    else:
        err.print(f"[bold red]not approved:[/] {result.message}; the campaign is a draft again")
    if not result.ok:
        raise typer.Exit(EXIT_CONFLICT)


@app.command()
def send(
    now: NowOption = None,
    follow: Annotated[
        float, typer.Option(help="Keep going: one round every this many seconds (0: once).")
    ] = 0,
    json_out: JsonOption = False,
) -> None:
    """Send what is due (waves, reminders, blocked/restored notices, corrections, tests)."""
    application = engine_loaded(now, quiet=json_out)
    while True:
        with progress_bar() as bar:
            task = bar.add_task("sending", total=None)

            def advance(n: int, task: TaskID = task) -> None:
                bar.advance(task, n)

            events, report = application.notices.tick(STATE.now(now), advance)
        body = tick_dict(events, report)
        if json_out:
            emit_json(body)
        else:
            out.print(kv_table(list(body.items()), title="Delivery"))
        if follow <= 0 or now:
            return
        time.sleep(follow)


@app.command()
def status(campaign: IdArg, json_out: JsonOption = False) -> None:
    """Notices, messages, enforcement and errors of one campaign."""
    application = STATE.app()
    body = status_dict(application.notices.status(campaign))
    if json_out:
        emit_json(body)
        return
    c = body["campaign"]
    out.print(
        kv_table(
            [
                ("campaign", f"{c['id']} {c['kind']} {c['mode']} {c['policy']} v{c['version']}"),
                ("status", c["status"] + (f" ({c['halt_reason']})" if c["halt_reason"] else "")),
                ("waves", f"{c['waves']['released']} of {c['waves']['total']} released"),
                ("notices", body["notices"]),
                ("messages", body["messages"]),
                ("enforcement", body["enforcement"]),
                ("replies", body["replies"]),
            ]
        )
    )
    for e in body["errors"]:
        out.print(f"  [red]{e['to']}[/]: {e['error']} (attempt {e['attempts']})", soft_wrap=True)


def _done(json_out: bool, campaign: Campaign, text: str, **extra: object) -> None:
    if json_out:
        emit_json({"campaign": campaign_dict(campaign), **extra})
    else:
        out.print(text)


@app.command()
def halt(
    campaign: IdArg,
    reason: ReasonOpt = "halted by hand",
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Stop releasing waves now (no approval needed to stop)."""
    application = STATE.app(now)
    c = application.notices.halt(campaign, STATE.who(), reason, STATE.now(now))
    _done(json_out, c, f"{c.id} halted; `appwarden campaign resume {c.id}` (an approver) continues")


@app.command()
def resume(campaign: IdArg, now: NowOption = None, json_out: JsonOption = False) -> None:
    """Let a halted campaign continue (a second person with the approver role)."""
    application = engine_loaded(now, quiet=json_out)
    c = application.notices.resume(campaign, _actor(application), STATE.now(now))
    _done(json_out, c, f"{c.id} resumed")


@app.command()
def undo(campaign: IdArg, now: NowOption = None, json_out: JsonOption = False) -> None:
    """Within the undo window: cancel every notice and the enforcement it announced."""
    application = engine_loaded(now, quiet=json_out)
    result = application.notices.undo(campaign, STATE.who(), STATE.now(now))
    n = len(result.disarmed)
    text = f"{result.campaign.id} undone: nothing was sent, {n} enforcement record(s) disarmed"
    _done(json_out, result.campaign, text, disarmed=n)


@app.command()
def retract(
    campaign: IdArg, reason: ReasonOpt, now: NowOption = None, json_out: JsonOption = False
) -> None:
    """Halt a sent campaign now and draft its correction (then preview; an approver approves)."""
    application = engine_loaded(now, quiet=json_out)
    c = application.notices.retract(campaign, STATE.who(), reason, STATE.now(now))
    text = (
        f"{campaign} halted; correction {c.id} drafted. Next: "
        f"`appwarden campaign preview {c.id}`, then an approver runs "
        f"`appwarden campaign approve {c.id} --digest ...`"
    )
    _done(json_out, c, text)


@app.command()
def test(campaign: IdArg, now: NowOption = None, json_out: JsonOption = False) -> None:
    """Send marked samples to the test list (setting notice_test_recipients) only."""
    application = engine_loaded(now, quiet=json_out)
    c = application.notices.test(campaign, STATE.who(), STATE.now(now))
    to = ", ".join(application.notices.config.test_recipients)
    _done(json_out, c, f"test campaign {c.id} queued for {to}; `appwarden campaign send` sends it")


@app.command()
def returns(
    paths: Annotated[
        list[Path],
        typer.Argument(help="The bounce mailbox: a Maildir, an mbox file or .eml files."),
    ],
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Read bounces and replies to our notices from the mailbox their Return-Path leads to.

    Bounces (delivery status notifications with a failed recipient) and replies by people
    become the wave signals that halt a campaign; automatic replies and anything else are
    counted and left alone. Messages read from a Maildir are flagged seen and not read again.
    """
    application = STATE.app(now)
    counts = {"bounce": 0, "reply": 0, "ignored": 0, "unmatched": 0}
    ignored: dict[str, int] = {}
    for path in paths:
        if not path.exists():
            raise InvalidInput(Problem(f"{path} does not exist", "paths", "give a Maildir or file"))
        for label, raw, box in read_messages(path):
            kind, found = take_return(application, raw, "returns", STATE.now(now))
            counts[kind] += 1
            if kind == "ignored":
                ignored[found.detail] = ignored.get(found.detail, 0) + 1
            if box is not None:
                mark_seen(box, label)
    if json_out:
        emit_json({**counts, "ignored_why": ignored})
        return
    out.print(
        f"{counts['bounce']} bounce(s), {counts['reply']} reply(ies) recorded; "
        f"{counts['unmatched']} about messages we do not know; {counts['ignored']} ignored"
        + (f" ({'; '.join(f'{n} {why}' for why, n in sorted(ignored.items()))})" if ignored else "")
    )
