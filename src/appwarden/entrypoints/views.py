"""JSON views shared by the CLI (--json) and the HTTP API: one shape for each answer."""

from __future__ import annotations

from typing import Any

from appwarden.core.decision import Decision
from appwarden.core.exemptions import Exemption
from appwarden.core.fleet import FleetIndex
from appwarden.core.inventory import DeviceFacts
from appwarden.core.timeutil import from_epoch, iso
from appwarden.core.verdict import Verdict
from appwarden.services.assessment import AssessmentReport
from appwarden.services.policies import BlastRadius, PolicyDiff, blast_radius


def assessment_dict(fleet: FleetIndex, report: AssessmentReport) -> dict[str, Any]:
    policies = {}
    for slug, result in report.results.items():
        radius = blast_radius(fleet, result)
        policies[slug] = {
            "version": result.version.version,
            "deadline": iso(result.version.deadline_at),
            "in_scope": radius.in_scope,
            "employees_in_scope": radius.employees_in_scope,
            "counts": dict(radius.counts),
            "by_department": radius.by_department,
            "by_platform": radius.by_platform,
        }
    return {
        "at": iso(report.at),
        "devices": len(fleet),
        "duration_ms": round(report.duration_ms, 1),
        "policies": policies,
        "transitions": report.transition_counts(),
        "verdicts_written": report.written,
        "verdicts_removed": report.removed,
    }


def decision_dict(decision: Decision, decision_id: str) -> dict[str, Any]:
    outcome = decision.outcome
    body: dict[str, Any] = {
        "decision_id": decision_id,
        "identity": decision.identity,
        "revision": decision.revision,
        "at": iso(from_epoch(decision.at)),
        "known": outcome is not None,
        "device": decision.device,
        "effect": outcome.effect.value if outcome else "unknown",
    }
    if outcome is not None:
        body["reasons"] = [
            {
                "policy": r.policy,
                "version": r.version,
                "title": r.title,
                "status": r.status.value,
                "apps": list(r.apps),
                "deadline": iso(r.deadline),
            }
            for r in outcome.deny
        ]
        body["warnings"] = [
            {
                "policy": r.policy,
                "status": r.status.value,
                "apps": list(r.apps),
                "deadline": iso(r.deadline),
            }
            for r in outcome.warn
        ]
        body["dry_run"] = [
            {"policy": r.policy, "apps": list(r.apps), "deadline": iso(r.deadline)}
            for r in outcome.dry_run
        ]
    return body


def _radius_dict(radius: BlastRadius | None) -> dict[str, object] | None:
    if radius is None:
        return None
    return {
        "in_scope": radius.in_scope,
        "employees_in_scope": radius.employees_in_scope,
        "counts": dict(radius.counts),
        "by_department": radius.by_department,
        "by_platform": radius.by_platform,
    }


def diff_dict(diff: PolicyDiff) -> dict[str, object]:
    return {
        "slug": diff.slug,
        "current_version": diff.old_version,
        "new_version": diff.new_version.version,
        "unchanged": diff.unchanged,
        "deadline": iso(diff.new_version.deadline_at),
        "changes": [{"field": p, "from": a, "to": b} for p, a, b in diff.changes],
        "before": _radius_dict(diff.before),
        "after": _radius_dict(diff.after),
        "devices_added": diff.added,
        "devices_dropped": diff.dropped,
        "warnings": diff.warnings,
    }


def device_dict(
    facts: DeviceFacts, verdicts: list[Verdict], history: list[dict[str, Any]]
) -> dict[str, Any]:
    d = facts.device
    return {
        "key": d.key,
        "owner": d.owner,
        "platform": d.platform.value,
        "ownership": d.ownership.value,
        "visibility": d.visibility.value,
        "os_version": d.os_version,
        "android_patch": d.android_patch.isoformat() if d.android_patch else None,
        "mail_identities": list(d.mail.identity_keys()),
        "apps": sorted(str(a.ref) if a.ref else f"name:{a.name}" for a in d.apps),
        "verdicts": [
            {
                "policy": v.policy,
                "version": v.version,
                "status": v.status.value,
                "apps": list(v.apps),
                "deadline": iso(v.deadline),
                "until": iso(v.until),
                "enforce_at": iso(v.enforce_at),
            }
            for v in verdicts
        ],
        "history": history[-200:],
    }


def exemption_dict(e: Exemption) -> dict[str, Any]:
    return {
        "id": e.id,
        "target": f"{e.target_kind.value}:{e.target}",
        "policy": e.policy,
        "reason": e.reason,
        "approver": e.approver,
        "created_by": e.created_by,
        "expires_at": iso(e.expires_at),
        "revoked_at": iso(e.revoked_at),
    }
