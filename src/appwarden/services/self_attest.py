"""What the employee's page offers to attest, and what an attestation answers now.

A device whose apps cannot be seen (or that stopped reporting) fails a policy with
`unknown: attest` at the deadline unless its owner attests that none of the barred apps is on
it. The page offers that statement for each such (device, policy), naming the barred apps on
the device's platform. Signing and withdrawing: `self_service.attest_mine` / `withdraw_mine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appwarden.core.assess import ATTESTABLE
from appwarden.core.exemptions import Attestation
from appwarden.core.inventory import Platform
from appwarden.core.policy import MatchKind, PolicyVersion, UnknownMode
from appwarden.core.verdict import Status, Verdict
from appwarden.services.compliance import Compliance

MAX_NAMES = 12  # a statement names at most this many apps, then says how many more


@dataclass(frozen=True, slots=True)
class AttestOffer:
    """What the employee may confirm for one (device, policy)."""

    apps: tuple[str, ...]  # barred apps on this device's platform, by name
    more: int = 0  # barred apps left out of `apps`
    attested: Attestation | None = None  # the attestation holding the verdict now, if any


def attestable(pv: PolicyVersion, verdict: Verdict | None) -> bool:
    """Would an attestation answer this verdict (or is one answering it now)?"""
    if verdict is None or pv.policy.unknown is not UnknownMode.ATTEST:
        return False
    if verdict.status is Status.EXEMPT or not verdict.findings:
        return False
    return all(f.kind in ATTESTABLE for f in verdict.findings)


def barred_names(engine: Compliance, pv: PolicyVersion, platform: Platform) -> list[str]:
    """The barred apps a person on `platform` would recognise: catalog names first, then the
    names, ids and patterns of the rule that the catalog does not know."""
    space = platform.app_space
    refs = engine.assessor.barred(pv).catalog_refs()
    names: dict[str, str] = {}
    for ref in refs:
        entry = engine.catalog.app_for(ref)
        if ref.platform is space and entry is not None:
            names.setdefault(entry.name.casefold(), entry.name)
    catalogued = {ref.identifier for ref in refs}
    for matcher in pv.policy.rule.barred:
        if matcher.platform is not None and matcher.platform is not space:
            continue
        if matcher.kind is MatchKind.ID and matcher.value in catalogued:
            continue  # named above by its catalog entry
        if matcher.kind in (MatchKind.NAME, MatchKind.ID, MatchKind.PATTERN):
            names.setdefault(matcher.value.casefold(), matcher.value)
    return sorted(names.values(), key=str.casefold)


def offer_for(
    engine: Compliance,
    pv: PolicyVersion,
    verdict: Verdict | None,
    platform: Platform,
    attestations: list[Attestation],
    now: datetime,
) -> AttestOffer | None:
    if not attestable(pv, verdict):
        return None
    names = barred_names(engine, pv, platform)
    holding = [a for a in attestations if a.policy == pv.slug and a.valid_at(now)]
    attested = max(holding, key=lambda a: a.expires_at) if holding else None
    return AttestOffer(tuple(names[:MAX_NAMES]), max(0, len(names) - MAX_NAMES), attested)
