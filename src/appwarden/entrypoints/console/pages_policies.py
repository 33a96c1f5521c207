"""Policies: list, view with history (and which campaign announced which version), edit YAML
with validation as you type, propose, preview the diff, and approve (a second person) or reject.
Approval applies the policy, which drafts its campaign; nobody is e-mailed until a second
approver approves that campaign, whose preview the approver is taken to."""

from __future__ import annotations

from starlette.responses import Response

from appwarden.adapters.policy_files import read_policy_text
from appwarden.core.errors import Forbidden, InvalidInput, NotFound
from appwarden.core.policy import Policy
from appwarden.entrypoints.console.web import Ctx, PageRoute
from appwarden.services.access import role_allows
from appwarden.services.campaign_console import by_version, hand_over
from appwarden.services.policy_preview import preview
from appwarden.services.proposals import MAX_SOURCE, approve, propose, reject

NEW_POLICY = """slug: new-policy
title:
  en: ...
  ar: ...
reason:
  en: ...
  ar: ...
owner: security@corp.example
scope:
  platforms: [ios, ipados, android]
  mail_access: required
rule:
  barred_apps:
    - id: com.example.app
deadline:
  after_publication: P14D
after_deadline: block_mail
unknown: attest
"""


def parse(source: str) -> Policy:
    if len(source) > MAX_SOURCE:
        raise InvalidInput("the policy is larger than 200 KB")
    return read_policy_text(source, "policy")


def policies(ctx: Ctx) -> Response:
    with ctx.app.store.read() as uow:
        active = uow.policies.active()
        proposals = uow.proposals.list(None, 50)
    return ctx.render("policies.html", active=active, proposals=proposals)


def policy(ctx: Ctx) -> Response:
    slug = ctx.request.path_params["slug"]
    with ctx.app.store.read() as uow:
        history = uow.policies.history(slug)
        current = uow.policies.current(slug)
        proposals = [p for p in uow.proposals.list(None, 200) if p.slug == slug]
        announced = by_version(uow, slug)
    if current is None:
        raise NotFound(f"no policy {slug!r}")
    return ctx.render(
        "policy.html",
        current=current,
        history=list(reversed(history)),
        proposals=proposals,
        announced=announced,
    )


def edit(ctx: Ctx) -> Response:
    slug = ctx.request.path_params.get("slug")
    source = NEW_POLICY
    if slug:
        with ctx.app.store.read() as uow:
            current = uow.policies.current(slug)
        if current is None:
            raise NotFound(f"no policy {slug!r}")
        source = current.source
    return ctx.render("policy_edit.html", source=source, problems=[], reason="", override="")


def validate(ctx: Ctx) -> Response:
    """The fragment under the editor: valid, or each problem with its line and fix."""
    try:
        parsed = parse(ctx.form.get("source", ""))
    except InvalidInput as exc:
        return ctx.render("_validation.html", policy=None, problems=exc.problems)
    return ctx.render("_validation.html", policy=parsed, problems=[])


def create_proposal(ctx: Ctx) -> Response:
    source = ctx.form.get("source", "")
    reason = ctx.field("reason")
    override = ctx.field("override_lead_time")
    try:
        parsed = parse(source)
        with ctx.app.store.unit_of_work() as uow:
            made = propose(uow, parsed, source, reason, override, ctx.viewer.email, ctx.now)
    except InvalidInput as exc:
        return ctx.render(
            "policy_edit.html",
            status=422,
            source=source,
            problems=exc.problems,
            reason=reason,
            override=override,
        )
    return ctx.redirect(f"/console/proposals/{made.id}", done="proposed")


def proposal(ctx: Ctx) -> Response:
    pid = ctx.request.path_params["id"]
    with ctx.app.store.read() as uow:
        found = uow.proposals.get(pid)
    if found is None:
        raise NotFound(f"no policy proposal {pid!r}")
    shown = (
        preview(ctx.app.engine, parse(found.source), ctx.now)
        if found.status == "proposed"
        else None
    )
    may_approve = (
        found.status == "proposed"
        and role_allows(ctx.viewer.role, "approver")
        and found.author.lower() != ctx.viewer.email
    )
    return ctx.render("proposal.html", proposal=found, preview=shown, may_approve=may_approve)


def approve_proposal(ctx: Ctx) -> Response:
    pid = ctx.request.path_params["id"]
    with ctx.app.store.read() as uow:
        found = uow.proposals.get(pid)
    if found is None:
        raise NotFound(f"no policy proposal {pid!r}")
    version = approve(ctx.app.engine, parse(found.source), pid, ctx.viewer.email, ctx.now)
    drafted = hand_over(
        ctx.app.notices, ctx.app.store, found.slug, version.version, ctx.viewer.email, ctx.now
    )
    if drafted is None:
        return ctx.redirect(f"/console/policies/{found.slug}", done="applied_nobody")
    return ctx.redirect(f"/console/campaigns/{drafted.id}", done="applied_campaign")


def reject_proposal(ctx: Ctx) -> Response:
    pid = ctx.request.path_params["id"]
    with ctx.app.store.unit_of_work() as uow:
        found = uow.proposals.get(pid)
        if found is None:
            raise NotFound(f"no policy proposal {pid!r}")
        own = found.author.lower() == ctx.viewer.email
        if not own and not role_allows(ctx.viewer.role, "approver"):
            raise Forbidden("only its author or an approver can close a proposal")
        reject(uow, pid, ctx.viewer.email, ctx.field("reason"), ctx.now)
    return ctx.redirect(f"/console/proposals/{pid}", done="rejected")


PAGES = [
    PageRoute("GET", "/console/policies", "viewer", policies),
    PageRoute("GET", "/console/policies/new", "author", edit),
    PageRoute("POST", "/console/policies/validate", "author", validate),
    PageRoute("GET", "/console/policies/{slug}", "viewer", policy),
    PageRoute("GET", "/console/policies/{slug}/edit", "author", edit),
    PageRoute("POST", "/console/proposals", "author", create_proposal),
    PageRoute("GET", "/console/proposals/{id}", "viewer", proposal),
    PageRoute("POST", "/console/proposals/{id}/approve", "approver", approve_proposal),
    PageRoute("POST", "/console/proposals/{id}/reject", "author", reject_proposal),
]
