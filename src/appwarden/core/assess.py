"""Assessment of one device against one policy version: a pure function of its inputs.

    assess_device(facts, policy version, compiled rule, exemptions, attestations, previous, now)
        -> Verdict (None when the device is out of scope)

The fleet path (`fleet_assess`) finds candidates with bitmaps and then calls the same `settle`,
so the two paths cannot disagree on what a verdict is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from appwarden.core.exemptions import AttestationBook, ExemptionBook
from appwarden.core.inventory import (
    AppKey,
    DeviceFacts,
    Ownership,
    Platform,
    Visibility,
    parse_version,
    version_at_least,
)
from appwarden.core.matching import AppMatch, BarredApps
from appwarden.core.policy import Action, PolicyVersion, Scope, UnknownMode
from appwarden.core.staleness import StaleEffect, StaleMark, Staleness
from appwarden.core.verdict import Finding, FindingKind, Status, Verdict

# Findings a policy's `unknown:` attestation can answer: "the app is not there, trust me".
ATTESTABLE = frozenset({FindingKind.APPS_UNSEEN, FindingKind.DEVICE_STALE})


@dataclass(frozen=True, slots=True)
class ScopeFacts:
    """The few facts scope depends on, in the shape both assessment paths can supply."""

    platform: Platform
    ownership: Ownership
    reaches_mail: bool
    department: str
    groups: frozenset[str]


def in_scope(scope: Scope, facts: ScopeFacts) -> bool:
    if scope.mail_access_only and not facts.reaches_mail:
        return False
    if scope.platforms and facts.platform not in scope.platforms:
        return False
    if scope.ownership and facts.ownership not in scope.ownership:
        return False
    if scope.departments and facts.department not in scope.departments:
        return False
    if scope.groups and not (facts.groups & scope.groups):
        return False
    if facts.department and facts.department in scope.exclude_departments:
        return False
    return not (facts.groups & scope.exclude_groups)


def scope_facts(facts: DeviceFacts) -> ScopeFacts:
    owner = facts.owner
    return ScopeFacts(
        platform=facts.device.platform,
        ownership=facts.device.ownership,
        reaches_mail=facts.device.reaches_mail,
        department=owner.department if owner else "",
        groups=owner.groups if owner else frozenset(),
    )


def os_findings(
    pv: PolicyVersion,
    platform: Platform,
    os_version: tuple[int, ...] | None,
    patch: date | None,
    now: datetime,
) -> list[Finding]:
    """Minimum OS version and Android patch-level checks."""
    rule = pv.policy.rule
    out: list[Finding] = []
    need = rule.minimum_os.get(platform)
    if need is not None:
        if os_version is None:
            out.append(Finding(FindingKind.OS_UNREPORTED, detail="OS version not reported"))
        elif not version_at_least(os_version, need):
            have = ".".join(map(str, os_version))
            want = ".".join(map(str, need))
            out.append(Finding(FindingKind.OS_OUTDATED, detail=f"OS {have} < {want}"))
    if platform is Platform.ANDROID and (rule.minimum_android_patch or rule.maximum_patch_age):
        floor = rule.minimum_android_patch
        if rule.maximum_patch_age is not None:
            by_age = (now - rule.maximum_patch_age).date()
            floor = max(floor, by_age) if floor else by_age
        if patch is None:
            out.append(Finding(FindingKind.OS_UNREPORTED, detail="patch level not reported"))
        elif floor is not None and patch < floor:
            out.append(
                Finding(FindingKind.PATCH_OUTDATED, detail=f"patch {patch} < {floor.isoformat()}")
            )
    return out


def assess_device(
    facts: DeviceFacts,
    pv: PolicyVersion,
    barred: BarredApps,
    exemptions: ExemptionBook,
    attestations: AttestationBook,
    previous: Verdict | None,
    now: datetime,
    staleness: Staleness | None = None,
) -> Verdict | None:
    """The verdict of one device under one policy version, or None when out of scope."""
    if not in_scope(pv.policy.scope, scope_facts(facts)):
        return None
    device = facts.device
    findings: list[Finding] = []
    if not barred.is_empty:
        for app in device.apps:
            match = barred.match(app.key, app.name, app.publisher)
            if match is not None:
                findings.append(app_finding(app.key, app.name, match))
    findings += os_findings(
        pv, device.platform, parse_version(device.os_version), device.android_patch, now
    )
    unseen = not barred.is_empty and device.visibility is not Visibility.ALL
    return settle(
        device.key,
        facts.owner.email if facts.owner else (device.owner.lower() if device.owner else None),
        pv,
        findings,
        unseen,
        exemptions,
        attestations,
        previous,
        now,
        staleness.mark(device.last_seen, now) if staleness else None,
    )


def app_finding(key: AppKey, name: str, match: AppMatch) -> Finding:
    label = (
        f"{key.platform.value}:{key.identifier}" if key.identifier else f"name:{key.name_folded}"
    )
    return Finding(
        FindingKind.BARRED_APP,
        app=label,
        app_name=name or key.identifier or key.name_folded,
        detail=match.explain(),
        confidence=match.confidence,
    )


def settle(
    device: str,
    owner: str | None,
    pv: PolicyVersion,
    findings: list[Finding],
    unseen: bool,
    exemptions: ExemptionBook,
    attestations: AttestationBook,
    previous: Verdict | None,
    now: datetime,
    stale: StaleMark | None = None,
) -> Verdict:
    """Turn findings into a verdict: deadlines, exemptions, attestations, unknown inventory.

    This runs once per failing (device, policy) in a fleet assessment, so it avoids needless
    allocation; the cases in tests/cases pin its behaviour. `stale` marks a device that stopped
    reporting (core.staleness): under the `unknown` effect it cannot be known to be fine; under
    `block` staleness itself fails.
    """
    if stale is not None and stale.effect is not StaleEffect.IGNORE:
        findings = [*findings, stale.finding()]
    policy = pv.policy
    slug = pv.slug
    if not findings and not unseen:
        return Verdict(device, slug, pv.version, Status.COMPLIANT, policy.action)
    if len(findings) > 1:
        found = tuple(sorted(findings))
        kinds = {f.kind for f in found}
    else:
        found = tuple(findings)
        kinds = {found[0].kind} if found else set()
    real = found
    unknowing = _UNKNOWING if stale is None or stale.fails else _UNKNOWING_STALE
    if kinds & unknowing:
        real = tuple(f for f in found if f.kind not in unknowing)
    if previous is not None and previous.since is not None and not previous.is_plain_compliant:
        since = previous.since
    else:
        since = now
    deadline = pv.deadline_at
    grace = policy.deadline.late_grace
    if deadline is not None and grace is not None and since > deadline:
        deadline = since + grace
    exemption = exemptions.active(device, owner, slug, now) if exemptions else None
    if not real:  # nothing barred found, but we cannot see enough to say it is fine
        if unseen and _HIDDEN not in kinds:
            found = tuple(sorted((*found, _UNSEEN)))
            kinds.add(_HIDDEN)
        if policy.unknown is UnknownMode.ALLOW:
            return Verdict(
                device, slug, pv.version, Status.UNKNOWN, policy.action, found, None, None, since
            )
        only_unseen = bool(kinds) and kinds <= ATTESTABLE  # apps unseen, or the device stale
        attested = None
        if policy.unknown is UnknownMode.ATTEST and only_unseen and attestations:
            attested = attestations.valid(device, slug, now)
        if attested is not None:
            return Verdict(
                device,
                slug,
                pv.version,
                Status.COMPLIANT,
                policy.action,
                found,
                deadline,
                attested.expires_at,
                since,
                _later(attested.expires_at, deadline),
            )
        if exemption is None and (deadline is None or now < deadline):
            return Verdict(
                device,
                slug,
                pv.version,
                Status.UNKNOWN,
                policy.action,
                found,
                deadline,
                None,
                since,
                deadline,
            )
    if exemption is not None:
        return Verdict(
            device,
            slug,
            pv.version,
            Status.EXEMPT,
            policy.action,
            found,
            deadline,
            exemption.expires_at,
            since,
            _later(exemption.expires_at, deadline),
            exemption.id,
        )
    if deadline is None or now < deadline:
        status = Status.PENDING
    else:
        status = Status.BLOCKED if policy.action is Action.BLOCK_MAIL else Status.OVERDUE
    return Verdict(
        device, slug, pv.version, status, policy.action, found, deadline, None, since, deadline
    )


_UNSEEN = Finding(FindingKind.APPS_UNSEEN, detail="apps cannot be seen")
_UNREPORTED = FindingKind.OS_UNREPORTED
_HIDDEN = FindingKind.APPS_UNSEEN
_UNKNOWING = frozenset({_UNREPORTED})  # findings that say "cannot know", not "wrong"
_UNKNOWING_STALE = frozenset({_UNREPORTED, FindingKind.DEVICE_STALE})


def _later(a: datetime, b: datetime | None) -> datetime:
    return a if b is None or a >= b else b
