"""`appwarden policy validate|diff|apply|list|show|history|retire`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from appwarden.adapters.policy_files import policy_paths, read_policy_file
from appwarden.core.errors import InvalidInput, NotFound
from appwarden.core.timeutil import iso
from appwarden.entrypoints.cli.context import (
    EXIT_BAD_INPUT,
    STATE,
    JsonOption,
    NowOption,
    emit_json,
    engine_loaded,
    err,
    out,
)
from appwarden.entrypoints.cli.render import breakdown_table, kv_table
from appwarden.entrypoints.views import diff_dict
from appwarden.services.policies import PolicyDiff

app = typer.Typer(help="Write, review and apply policies (one YAML file per policy).")


def _target(path: Path | None) -> Path:
    return path or Path(STATE.settings().raw("policies_dir"))


@app.command()
def validate(
    path: Annotated[Path | None, typer.Argument(help="A policy file or a folder of them.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Check policy files: every problem names the file, line, field and the fix."""
    results: list[dict[str, Any]] = []
    failed = False
    for file in policy_paths(_target(path)):
        try:
            parsed = read_policy_file(file)
            results.append({"file": str(file), "slug": parsed.policy.slug, "ok": True})
        except InvalidInput as exc:
            failed = True
            results.append(
                {"file": str(file), "ok": False, "problems": [p.render() for p in exc.problems]}
            )
    if json_out:
        emit_json(results)
    else:
        for result in results:
            if result["ok"]:
                out.print(f"[green]ok[/]   {result['file']} ({result['slug']})")
            else:
                out.print(f"[red]fail[/] {result['file']}")
                for problem in result["problems"]:
                    out.print(f"       - {problem}", markup=False)
    if not results:
        err.print("no policy files found")
        raise typer.Exit(EXIT_BAD_INPUT)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def _print_diff(diff: PolicyDiff) -> None:
    head = f"[bold]{diff.slug}[/]: "
    if diff.old_version is None:
        head += "new policy (version 1)"
    elif diff.unchanged:
        head += f"unchanged (version {diff.old_version})"
    else:
        head += f"version {diff.old_version} -> {diff.new_version.version}"
    out.print(head)
    if diff.changes:
        table = Table(title="What changes", title_justify="left")
        table.add_column("field")
        table.add_column("from")
        table.add_column("to")
        for path, old, new in diff.changes:
            table.add_row(path, "" if old is None else str(old), "" if new is None else str(new))
        out.print(table)
    after = diff.after
    counts = dict(after.counts)
    out.print(
        f"Who is affected: [bold]{after.in_scope}[/] devices of "
        f"[bold]{after.employees_in_scope}[/] employees in scope; "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
    )
    if diff.before is not None:
        out.print(
            f"Compared with the current version: [red]+{len(diff.added)}[/] devices newly "
            f"affected, [green]-{len(diff.dropped)}[/] no longer affected"
        )
    out.print(breakdown_table("By department", after.by_department, "department"))
    out.print(breakdown_table("By platform", after.by_platform, "platform"))
    for warning in diff.warnings:
        out.print(f"[yellow]warning:[/] {warning}")


@app.command()
def diff(
    file: Annotated[Path, typer.Argument(help="The policy file to compare with what is applied.")],
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """What would change, and who would be affected, if this file were applied."""
    parsed = read_policy_file(file)
    application = engine_loaded(now)
    result = application.engine.diff_policy(parsed.policy, STATE.now(now))
    if json_out:
        emit_json(diff_dict(result))
    else:
        _print_diff(result)


@app.command()
def apply(
    file: Annotated[Path, typer.Argument(help="The policy file to apply.")],
    reason: Annotated[str, typer.Option(help="Why this change is made (kept in history).")] = "",
    override_lead_time: Annotated[
        str,
        typer.Option(
            help="Apply although the deadline is closer than the minimum lead time; "
            "give the reason (audited)."
        ),
    ] = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    now: NowOption = None,
    json_out: JsonOption = False,
) -> None:
    """Apply a policy file: a new version, audited, and the fleet re-assessed in one transaction."""
    parsed = read_policy_file(file)
    application = engine_loaded(now)
    moment = STATE.now(now)
    preview = application.engine.diff_policy(parsed.policy, moment)
    if preview.unchanged:
        if json_out:
            emit_json({"slug": preview.slug, "version": preview.old_version, "unchanged": True})
        else:
            out.print(f"{preview.slug}: unchanged (version {preview.old_version}); nothing applied")
        return
    if not json_out:
        _print_diff(preview)
    if not yes and not json_out and not typer.confirm("Apply this version?", default=False):
        raise typer.Exit(1)
    version, report = application.engine.apply_policy(
        parsed.policy,
        parsed.source,
        STATE.who(),
        reason or "applied from " + file.name,
        moment,
        override_lead_reason=override_lead_time,
    )
    summary = {
        "slug": version.slug,
        "version": version.version,
        "deadline": iso(version.deadline_at),
        "applied_by": version.applied_by,
        "transitions": report.transition_counts() if report else {},
        "counts": report.counts().get(version.slug, {}) if report else {},
    }
    if json_out:
        emit_json(summary)
    else:
        out.print(f"[green]applied[/] {version.slug} version {version.version}")
        out.print(kv_table(summary.items()))


@app.command("list")
def list_(json_out: JsonOption = False) -> None:
    """Policies in force."""
    application = STATE.app()
    with application.store.read() as uow:
        stored = uow.policies.active()
    rows = [
        {
            "slug": s.version.slug,
            "version": s.version.version,
            "title": s.version.policy.text("title", "en"),
            "deadline": iso(s.version.deadline_at),
            "action": s.version.policy.action.value,
            "applied_by": s.version.applied_by,
            "applied_at": iso(s.version.published_at),
        }
        for s in stored
    ]
    if json_out:
        emit_json(rows)
        return
    table = Table()
    for col in ("slug", "version", "title", "deadline", "action", "applied_by"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            *(str(row[c]) for c in ("slug", "version", "title", "deadline", "action", "applied_by"))
        )
    out.print(table if rows else "no policies applied yet")


@app.command()
def show(
    slug: str,
    version: Annotated[int | None, typer.Option(help="An older version.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Show a policy as applied (the YAML of record)."""
    application = STATE.app()
    with application.store.read() as uow:
        history = uow.policies.history(slug)
    if not history:
        raise NotFound(f"no policy {slug!r}; `appwarden policy list` shows them")
    chosen = (
        history[-1]
        if version is None
        else next((h for h in history if h.version.version == version), None)
    )
    if chosen is None:
        raise NotFound(f"{slug} has no version {version}; it has 1..{len(history)}")
    if json_out:
        emit_json(
            {
                "slug": slug,
                "version": chosen.version.version,
                "source": chosen.source,
                "deadline": iso(chosen.version.deadline_at),
            }
        )
    else:
        out.print(
            f"# {slug} version {chosen.version.version}, applied by "
            f"{chosen.version.applied_by} at {iso(chosen.version.published_at)}"
        )
        out.print(chosen.source, markup=False, highlight=False)


@app.command()
def history(slug: str, json_out: JsonOption = False) -> None:
    """Every version of a policy: who applied it, when, and why."""
    application = STATE.app()
    with application.store.read() as uow:
        versions = uow.policies.history(slug)
    if not versions:
        raise NotFound(f"no policy {slug!r}")
    rows = [
        {
            "version": h.version.version,
            "applied_by": h.version.applied_by,
            "applied_at": iso(h.version.published_at),
            "reason": h.version.reason,
            "deadline": iso(h.version.deadline_at),
            "digest": h.version.digest[:12],
        }
        for h in versions
    ]
    if json_out:
        emit_json(rows)
        return
    table = Table(title=slug, title_justify="left")
    for col in rows[0]:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    out.print(table)


@app.command()
def retire(
    slug: str,
    reason: Annotated[str, typer.Option(help="Why the policy ends (audited).")],
    now: NowOption = None,
) -> None:
    """Stop enforcing a policy: its verdicts resolve and blocks lift."""
    application = engine_loaded(now)
    report = application.engine.retire_policy(slug, STATE.who(), reason, STATE.now(now))
    out.print(f"retired {slug}; {len(report.transitions)} device verdicts resolved")
