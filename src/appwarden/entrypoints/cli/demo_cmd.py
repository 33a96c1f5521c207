"""`appwarden init` and `appwarden demo`: a working system on embedded SQLite in one command."""

from __future__ import annotations

import secrets
import shutil
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from appwarden.adapters.demo_fleet import DemoShape, generate
from appwarden.adapters.policy_files import read_policy_file
from appwarden.bootstrap import App
from appwarden.core.errors import Conflict
from appwarden.core.timeutil import parse_instant
from appwarden.entrypoints.cli.context import STATE, engine_loaded, out, progress_bar
from appwarden.entrypoints.cli.render import breakdown_table
from appwarden.entrypoints.cli.serve_cmd import run_server
from appwarden.entrypoints.views import assessment_dict
from appwarden.services.access import create_token
from appwarden.services.accounts import save_account
from appwarden.services.inventory import ImportBatch
from appwarden.services.notices import Actor
from appwarden.services.signin import set_password

DEMO_CLOCK = "2020-07-01T16:00:00Z"  # 9:00 in California, nine days before the seed deadline
DEMO_MARKER = ".demo"
DEMO_AUTHOR = "author@demo.example"  # drafts (applies the policy)
DEMO_APPROVER = "approver@demo.example"  # the second person who approves the notices
DEMO_ADMIN = "admin@demo.example"
DEMO_VIEWER = "viewer@demo.example"


def _write_settings(home: Path, lines: dict[str, str]) -> None:
    config = home / "appwarden.toml"
    existing = config.read_text(encoding="utf-8") if config.exists() else ""
    kept = [ln for ln in existing.splitlines() if ln.split("=")[0].strip() not in lines]
    kept += [f'{k} = "{v}"' for k, v in lines.items()]
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")


def init(
    force: Annotated[bool, typer.Option(help="Re-create settings even if present.")] = False,
) -> None:
    """Create the home folder and database, and print an admin token (shown once)."""
    settings = STATE.settings()
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    policies = Path(settings.raw("policies_dir"))
    policies.mkdir(parents=True, exist_ok=True)
    app = STATE.app()
    with app.store.read() as uow:
        has_tokens = bool(uow.tokens.all())
    if has_tokens and not force:
        out.print(f"{home} is already initialised; `appwarden token create` adds tokens")
        return
    with app.store.unit_of_work() as uow:
        token, secret = create_token(uow, "initial admin", "admin", STATE.who(), STATE.now(None))
    out.print(f"initialised {home} (database {settings.database})")
    out.print(f"admin token {token.id}, shown only now:")
    out.print(secret, markup=False)


def demo(
    employees: Annotated[
        int, typer.Option(help="Employees to generate (about 1.4 devices each).")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Generator seed (same seed, same fleet).")] = 7,
    serve: Annotated[bool, typer.Option(help="Start the server when ready.")] = True,
    fresh: Annotated[bool, typer.Option(help="Delete an earlier demo database first.")] = True,
) -> None:
    """Build a realistic demo fleet, apply the TikTok scenario policy, assess, and serve."""
    settings = STATE.settings()
    home = settings.home
    marker = home / DEMO_MARKER
    if settings.database.exists() and not marker.exists():
        raise Conflict(
            f"{settings.database} holds data that the demo did not create; "
            "run the demo with another --home (or delete that database yourself)"
        )
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(settings.database) + suffix).unlink(missing_ok=True)
        shutil.rmtree(home / "outbox", ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"seed={seed} employees={employees}\n", encoding="utf-8")
    _write_settings(home, {"clock": DEMO_CLOCK})
    STATE.overrides["clock"] = DEMO_CLOCK
    policies = Path(settings.raw("policies_dir"))
    policies.mkdir(parents=True, exist_ok=True)
    policy_file = policies / "tiktok-mail.yaml"
    if not policy_file.exists():
        shipped = resources.files("appwarden") / "data" / "policies" / "tiktok-mail.yaml"
        policy_file.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")

    app = engine_loaded()
    now = parse_instant(DEMO_CLOCK)
    batch = ImportBatch("demo", f"demo fleet (seed {seed})")
    with progress_bar() as bar:
        task = bar.add_task("generating fleet", total=employees)
        for employee, devices in generate(DemoShape(employees=employees, seed=seed)):
            batch.employees.append(employee)
            batch.devices.extend(devices)
            bar.advance(task)
        task = bar.add_task("importing", total=len(batch.devices))
        app.engine.import_inventory(batch, "demo", now, progress=lambda n: bar.advance(task, n))
    people = {
        DEMO_ADMIN: ("admin", "Demo Admin"),
        DEMO_AUTHOR: ("author", "Demo Author"),
        DEMO_APPROVER: ("approver", "Demo Approver"),
        DEMO_VIEWER: ("viewer", "Demo Viewer"),
    }
    passwords = {email: secrets.token_urlsafe(12) for email in people}
    with app.store.unit_of_work() as uow:
        for email, (role, name) in people.items():
            save_account(uow, email, role, "demo", now, name)
            set_password(uow, app.passwords, email, passwords[email], "demo", now)
    parsed = read_policy_file(policy_file)
    app.engine.apply_policy(parsed.policy, parsed.source, DEMO_AUTHOR, "seed scenario", now)
    report = app.engine.assess(now, "demo", "demo")
    _announce(app, now)
    with app.store.unit_of_work() as uow:
        _, admin = create_token(uow, "demo admin", "admin", "demo", now)
        _, gateway = create_token(uow, "demo gateway", "gateway", "demo", now)
    secrets_file = home / "demo-tokens.txt"
    lines = [f"admin={admin}", f"gateway={gateway}"]
    lines += [f"password {email}={passwords[email]}" for email in people]
    secrets_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    secrets_file.chmod(0o600)
    summary = assessment_dict(app.engine.fleet, report)["policies"]["tiktok-mail"]
    _print_intro(summary, secrets_file)
    if serve:
        run_server(
            app,
            settings.raw("api_host"),
            int(settings.raw("api_port")),
            settings.raw("decision_host"),
            int(settings.raw("decision_port")),
        )


def _announce(app: App, now: datetime) -> None:
    """Draft -> preview -> second-person approval -> waves, replaying the send times."""
    drafts = [c for c in app.notices.list_campaigns("tiktok-mail") if c.status.value == "draft"]
    if not drafts:
        return
    preview = app.notices.preview(drafts[0].id, DEMO_AUTHOR, now)
    result = app.notices.approve(drafts[0].id, Actor(DEMO_APPROVER, True), now, preview.digest)
    config = app.notices.config
    start = now + config.undo_window
    sent = 0
    for wave in range(result.campaign.waves + 1):
        _, report = app.notices.tick(start + config.wave_interval * wave)
        sent += report.sent
    transport = app.notices.transport()
    where = transport.name
    if where.startswith("file://"):
        where = f"{where} (.eml files: no SMTP relay is configured; set smtp_host to use one)"
    out.print(
        f"\nNotices: campaign [bold]{result.campaign.id}[/] drafted by {DEMO_AUTHOR}, previewed "
        f"({preview.radius.people} people, digest {preview.digest[:12]}), approved by "
        f"{DEMO_APPROVER}, sent in {result.campaign.waves} wave(s) after the "
        f"{config.undo_window} undo window: {sent} message(s) to {where}. "
        "Blocks take effect at the deadline only for devices whose owner was told."
    )


def _print_intro(summary: dict[str, object], secrets: Path) -> None:
    counts = summary["counts"]
    assert isinstance(counts, dict)
    out.print(
        f"\n[bold]Demo ready[/]: {summary['in_scope']} devices of "
        f"{summary['employees_in_scope']} employees in scope of [bold]tiktok-mail[/]; "
        f"[yellow]{counts.get('pending', 0)} pending[/] until {summary['deadline']}, "
        f"{counts.get('unknown', 0)} unknown (apps not visible)."
    )
    by_dept = summary["by_department"]
    assert isinstance(by_dept, dict)
    out.print(breakdown_table("By department", by_dept, "department"))
    pending = _a_pending_device()
    out.print(f"\nThe clock replays from {DEMO_CLOCK} (set in .appwarden/appwarden.toml).")
    out.print("Try next, in another terminal:")
    aw = _command_name()
    steps = [
        f"{aw} assess",
        f"{aw} decide --device {pending}",
        f"{aw} decide --device {pending} --now 2020-07-11T01:00:01Z   # after the deadline",
        f"{aw} policy diff policies/tiktok-mail.yaml",
        f"{aw} campaign list",
        f"{aw} audit verify",
        f'curl -H "Authorization: Bearer $(grep gateway {secrets} | cut -d= -f2)" '
        f"'http://127.0.0.1:8471/v1/decide?device={pending}'",
    ]
    for step in steps:
        out.print(f"  {step}", markup=False, soft_wrap=True)
    out.print(
        f"Console: http://127.0.0.1:8470/console/ (sign in as {DEMO_APPROVER}, {DEMO_AUTHOR}, "
        f"{DEMO_ADMIN} or {DEMO_VIEWER}); API tokens and console passwords are in {secrets} "
        "(mode 600)."
    )


def _command_name() -> str:
    """`appwarden` when it is on PATH, else the path it was run by (`.venv/bin/appwarden`)."""
    invoked = Path(sys.argv[0])
    if shutil.which("appwarden") or invoked.name != "appwarden":
        return "appwarden"
    try:
        return str(invoked.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(invoked)


def _a_pending_device() -> str:
    app = STATE.app()
    with app.store.read() as uow:
        verdicts = uow.verdicts.for_policy("tiktok-mail")
    pending = sorted(k for k, v in verdicts.items() if v.status.value == "pending")
    return pending[0] if pending else "dev-0000001"
