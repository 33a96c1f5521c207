"""Policy changes through preview and a second person's approval.

An author proposes exact YAML; anyone may preview its diff; an approver who is not the author
applies exactly that text, and only while the version it was written against is still in force.
Applying never e-mails anyone: it drafts the campaign that announces the new version
(services/notices.py), which a second approver (neither the proposal's author nor the approver
who applied it) approves after its own preview.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from appwarden.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from appwarden.core.events import AuditEvent, EventType
from appwarden.core.policy import Policy, PolicyVersion
from appwarden.core.policy_data import policy_digest
from appwarden.services.compliance import Compliance
from appwarden.services.ports import PolicyProposal, UnitOfWork

MAX_SOURCE = 200_000


def propose(
    uow: UnitOfWork,
    policy: Policy,
    source: str,
    reason: str,
    lead_override: str,
    author: str,
    now: datetime,
) -> PolicyProposal:
    if not reason.strip():
        raise InvalidInput(Problem("is empty", "reason", "say why the policy changes"))
    if len(source) > MAX_SOURCE:
        raise InvalidInput(Problem("is larger than 200 KB", "source", "shorten the policy"))
    current = uow.policies.current(policy.slug)
    base = current.version.version if current and current.active else None
    digest = policy_digest(policy)
    if current and current.active and current.version.digest == digest:
        raise Conflict(f"this text is already version {base} of {policy.slug}: nothing to apply")
    proposal = PolicyProposal(
        id="pp-" + secrets.token_hex(5),
        slug=policy.slug,
        source=source,
        digest=digest,
        base_version=base,
        reason=reason.strip()[:2000],
        lead_override=lead_override.strip()[:2000],
        author=author,
        created_at=now,
    )
    uow.proposals.add(proposal)
    uow.audit.append(
        AuditEvent(
            EventType.POLICY_PROPOSED,
            author,
            now,
            subject=f"policy:{policy.slug}",
            reason=proposal.reason,
            data={"proposal": proposal.id, "digest": digest, "base_version": base},
        )
    )
    return proposal


def open_proposal(uow: UnitOfWork, proposal_id: str) -> PolicyProposal:
    proposal = uow.proposals.get(proposal_id)
    if proposal is None:
        raise NotFound(f"no policy proposal {proposal_id!r}")
    if proposal.status != "proposed":
        raise Conflict(f"proposal {proposal_id} is already {proposal.status}")
    return proposal


def check_still_current(uow: UnitOfWork, proposal: PolicyProposal) -> None:
    current = uow.policies.current(proposal.slug)
    base = current.version.version if current and current.active else None
    if base != proposal.base_version:
        raise Conflict(
            f"{proposal.slug} changed since this proposal was written (version {base} is now in "
            "force); reject it and propose again against the current version"
        )


def approve(
    engine: Compliance,
    policy: Policy,
    proposal_id: str,
    approver: str,
    now: datetime,
) -> PolicyVersion:
    """Apply exactly the proposed text. `policy` is the proposal's source, parsed by the caller."""
    with engine.lock:
        with engine.store.read() as uow:
            proposal = open_proposal(uow, proposal_id)
            check_still_current(uow, proposal)
        if proposal.author.lower() == approver.lower():
            raise Forbidden("the author of a change cannot approve it; ask another approver")
        if policy_digest(policy) != proposal.digest or policy.slug != proposal.slug:
            raise Conflict("the proposal's text no longer matches what was previewed")
        version, _report = engine.apply_policy(
            policy,
            proposal.source,
            approver,
            f"{proposal.reason} (proposed by {proposal.author} as {proposal.id})",
            now,
            proposal.lead_override,
        )
        with engine.store.unit_of_work() as uow:
            uow.proposals.decide(proposal_id, "applied", approver, now, version.version)
        return version


def reject(uow: UnitOfWork, proposal_id: str, actor: str, reason: str, now: datetime) -> None:
    """Rejected by an approver, or withdrawn by its author."""
    proposal = open_proposal(uow, proposal_id)
    withdrawn = proposal.author.lower() == actor.lower()
    status = "withdrawn" if withdrawn else "rejected"
    uow.proposals.decide(proposal_id, status, actor, now, None)
    uow.audit.append(
        AuditEvent(
            EventType.POLICY_PROPOSAL_WITHDRAWN
            if withdrawn
            else EventType.POLICY_PROPOSAL_REJECTED,
            actor,
            now,
            subject=f"policy:{proposal.slug}",
            reason=reason.strip()[:2000],
            data={"proposal": proposal_id},
        )
    )
