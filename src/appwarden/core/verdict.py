"""Verdicts per (device, policy), and the transitions between two sets of them.

Statuses:
    compliant   in scope, nothing barred found (or the employee attested for an unseen device)
    pending     failing, before its deadline: the employee has until `deadline`
    overdue     failing after the deadline of a `warn` or `report` policy: mail keeps working
    blocked     failing after the deadline of a `block_mail` policy: gateways deny the device
    exempt      failing, but an exemption holds until `until`
    unknown     the device's apps cannot be seen; the policy's `unknown:` says what follows

`enforce_at` is the instant from which the policy's action applies if nothing changes. The
decision index uses it to turn a pending device into a blocked one at the deadline, to the
second, without waiting for the next assessment.

Transitions are what services act on (notices, gateway kicks, audit); re-assessing an unchanged
fleet yields none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from appwarden.core.matching import Confidence
from appwarden.core.policy import Action


class Status(StrEnum):
    COMPLIANT = "compliant"
    PENDING = "pending"
    OVERDUE = "overdue"
    BLOCKED = "blocked"
    EXEMPT = "exempt"
    UNKNOWN = "unknown"

    @property
    def failing(self) -> bool:
        return self in (Status.PENDING, Status.OVERDUE, Status.BLOCKED)


class FindingKind(StrEnum):
    BARRED_APP = "barred_app"
    OS_OUTDATED = "os_outdated"
    PATCH_OUTDATED = "patch_outdated"
    OS_UNREPORTED = "os_unreported"
    APPS_UNSEEN = "apps_unseen"
    DEVICE_STALE = "device_stale"  # no report for longer than the staleness threshold


class Finding(NamedTuple):
    """One reason a device fails a policy (immutable; ordered by kind, then app)."""

    kind: FindingKind
    app: str = ""  # "android:com.zhiliaoapp.musically", or "name:tiktok" for name-only rows
    app_name: str = ""
    detail: str = ""
    confidence: Confidence = Confidence.HIGH

    def label(self) -> str:
        if self.kind is FindingKind.BARRED_APP:
            return self.app_name or self.app
        return self.detail or self.kind.value


class Verdict(NamedTuple):
    """The verdict of one device under one policy version (an immutable value).

    A NamedTuple rather than a frozen dataclass: fleet assessment builds millions of these, and
    tuple construction is about 2.5x cheaper.
    """

    device: str
    policy: str
    version: int
    status: Status
    action: Action
    findings: tuple[Finding, ...] = ()
    deadline: datetime | None = None  # this device's deadline (policy deadline or late grace)
    until: datetime | None = None  # exemption or attestation end
    since: datetime | None = None  # first assessed as failing (kept across assessments)
    enforce_at: datetime | None = None  # when the action applies if nothing changes
    exemption: str = ""  # exemption id when exempt

    @property
    def is_plain_compliant(self) -> bool:
        """Compliant with nothing to remember: not stored (verdict storage is sparse)."""
        return self.status is Status.COMPLIANT and not self.findings and self.until is None

    @property
    def apps(self) -> tuple[str, ...]:
        return tuple(f.label() for f in self.findings if f.kind is FindingKind.BARRED_APP)

    def material(self) -> tuple[object, ...]:
        """What a transition is about: changes here are worth telling someone."""
        return (
            self.status,
            frozenset(f.app or f.kind.value for f in self.findings),
            self.deadline,
            self.until,
            self.action,
        )

    def enforced_at(self, instant: datetime) -> bool:
        return self.enforce_at is not None and self.enforce_at <= instant


class TransitionKind(StrEnum):
    NEWLY_FAILING = "newly_failing"  # compliant or out of scope -> pending/overdue/blocked
    DEADLINE_PASSED = "deadline_passed"  # pending/unknown -> blocked/overdue
    RESOLVED = "resolved"  # failing/unknown/exempt -> compliant or out of scope
    EXEMPTED = "exempted"  # -> exempt
    EXEMPTION_EXPIRED = "exemption_expired"  # exempt -> failing
    BECAME_UNKNOWN = "became_unknown"  # -> unknown
    CHANGED = "changed"  # same status, different apps / deadline / exemption end


class Transition(NamedTuple):
    """A change of verdict that services act on (notices, gateway kicks, audit)."""

    kind: TransitionKind
    device: str
    policy: str
    old: Verdict | None
    new: Verdict | None
    at: datetime

    @property
    def old_status(self) -> Status | None:
        return self.old.status if self.old else None

    @property
    def new_status(self) -> Status:
        return self.new.status if self.new else Status.COMPLIANT


VerdictKey = tuple[str, str]  # (device key, policy slug)
ByPolicy = Mapping[str, Mapping[str, Verdict]]  # policy slug -> device key -> verdict


def by_policy(verdicts: Mapping[VerdictKey, Verdict]) -> dict[str, dict[str, Verdict]]:
    out: dict[str, dict[str, Verdict]] = {}
    for (device, slug), verdict in verdicts.items():
        out.setdefault(slug, {})[device] = verdict
    return out


_COMPLIANT = Status.COMPLIANT


def _plain(v: Verdict) -> bool:
    return v.status is _COMPLIANT and not v.findings and v.until is None


def transition_kind(old: Verdict | None, new: Verdict | None) -> TransitionKind | None:
    """The kind of change from `old` to `new` (None = out of scope / plain compliant)."""
    old_s = None if old is None or _plain(old) else old.status
    new_s = None if new is None or _plain(new) else new.status
    if old_s is None and new_s is None:
        return None
    if new_s is None or new_s is Status.COMPLIANT:
        return TransitionKind.RESOLVED if old_s not in (None, Status.COMPLIANT) else None
    if new_s is Status.EXEMPT:
        return TransitionKind.EXEMPTED if old_s is not Status.EXEMPT else _changed(old, new)
    if new_s is Status.UNKNOWN:
        return TransitionKind.BECAME_UNKNOWN if old_s is not Status.UNKNOWN else _changed(old, new)
    # new status is failing
    if old_s is Status.EXEMPT:
        return TransitionKind.EXEMPTION_EXPIRED
    if old_s in (Status.PENDING, Status.UNKNOWN) and new_s in (Status.BLOCKED, Status.OVERDUE):
        return TransitionKind.DEADLINE_PASSED
    if old_s is None or old_s is Status.COMPLIANT or old_s is Status.UNKNOWN:
        return TransitionKind.NEWLY_FAILING
    if old_s != new_s:
        return TransitionKind.CHANGED
    return _changed(old, new)


def _changed(old: Verdict | None, new: Verdict | None) -> TransitionKind | None:
    if old is None or new is None:
        return TransitionKind.CHANGED
    return TransitionKind.CHANGED if old.material() != new.material() else None


def diff_policy(
    slug: str, previous: Mapping[str, Verdict], current: Mapping[str, Verdict], at: datetime
) -> list[Transition]:
    """Transitions of one policy, from its previous verdicts to its current ones (by device)."""
    out = []
    for device, new in current.items():
        old = previous.get(device)
        if old is new or (old is not None and old == new):
            continue
        kind = transition_kind(old, new)
        if kind is not None:
            out.append(Transition(kind, device, slug, old, new, at))
    for device, old in previous.items():
        if device not in current:
            kind = transition_kind(old, None)
            if kind is not None:
                out.append(Transition(kind, device, slug, old, None, at))
    return out


def diff_verdicts(
    previous: Mapping[VerdictKey, Verdict],
    current: Mapping[VerdictKey, Verdict],
    at: datetime,
    keys: Iterable[VerdictKey] | None = None,
) -> list[Transition]:
    """Transitions from `previous` to `current`, over `keys` (default: every key in either)."""
    if keys is None:
        keys = previous.keys() | current.keys()
    out = []
    for key in keys:
        old, new = previous.get(key), current.get(key)
        if old is new or (old is not None and old == new):
            continue  # unchanged verdicts cannot be a transition
        kind = transition_kind(old, new)
        if kind is not None:
            out.append(Transition(kind, key[0], key[1], old, new, at))
    out.sort(key=lambda t: (t.device, t.policy))
    return out
