"""Mail-access decisions from an immutable, versioned in-memory index.

The index maps every mail identity of every known device (`device:<key>`, `eas:<DeviceId>`,
`cert:<fingerprint>`, `imap:<id>`) to an `Entry`: the device's outcome now, and the instants at
which that outcome changes by itself (a deadline, the end of an exemption or attestation). A
lookup is a dict probe and, rarely, a bisect: no database, no policy evaluation, no allocation
beyond the small `Decision` tuple.

Indexes are never mutated. `updated()` returns a new index that shares the large base dict and
carries a small overlay of changed keys; when the overlay grows past a fraction of the base, it
is folded into a fresh base. Swapping the service's reference to the new index is atomic.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from appwarden.core.policy import Action, PolicyVersion
from appwarden.core.timeutil import to_epoch
from appwarden.core.verdict import Status, Verdict


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Reason:
    policy: str
    version: int
    title: str
    status: Status  # the status this verdict has at the decision's instant
    apps: tuple[str, ...]
    deadline: datetime | None
    enforce_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    effect: Effect
    deny: tuple[Reason, ...] = ()  # block_mail policies in force
    warn: tuple[Reason, ...] = ()  # pending deadlines, warn-mode policies past their deadline
    dry_run: tuple[Reason, ...] = ()  # report-mode policies that would deny

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.deny or self.dry_run or self.warn


ALLOW = Outcome(Effect.ALLOW)


class Entry:
    """One device's outcome over time.

    `first` holds until `times[0]`; from `times[i]` on, `outcomes[i]` holds.
    """

    __slots__ = ("device", "first", "outcomes", "times")

    def __init__(
        self,
        device: str,
        first: Outcome,
        times: tuple[float, ...] = (),
        outcomes: tuple[Outcome, ...] = (),
    ) -> None:
        self.device = device
        self.first = first
        self.times = times
        self.outcomes = outcomes

    def at(self, now: float) -> Outcome:
        times = self.times
        if not times or now < times[0]:
            return self.first
        return self.outcomes[bisect_right(times, now) - 1]

    def next_change(self, now: float) -> float | None:
        i = bisect_right(self.times, now)
        return self.times[i] if i < len(self.times) else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return (self.device, self.first, self.times, self.outcomes) == (
            other.device,
            other.first,
            other.times,
            other.outcomes,
        )

    def __hash__(self) -> int:
        return hash((self.device, self.first, self.times))


def _reason(verdict: Verdict, title: str, status: Status) -> Reason:
    return Reason(
        verdict.policy,
        verdict.version,
        title,
        status,
        verdict.apps,
        verdict.deadline,
        verdict.enforce_at,
    )


def outcome_at(
    verdicts: Iterable[Verdict],
    titles: Mapping[str, str],
    instant: float,
    unarmed: frozenset[str] = frozenset(),
) -> Outcome:
    """What the device's verdicts mean for mail access at `instant` (epoch seconds).

    `unarmed` names block_mail policies whose block was never announced to the owner (see
    core/enforcement.py): they warn as pending and never deny.
    """
    deny: list[Reason] = []
    warn: list[Reason] = []
    dry: list[Reason] = []
    for v in sorted(verdicts, key=lambda v: v.policy):
        title = titles.get(v.policy, v.policy)
        enforced = v.enforce_at is not None and to_epoch(v.enforce_at) <= instant
        if enforced and v.action is Action.BLOCK_MAIL and v.policy in unarmed:
            warn.append(_reason(v, title, Status.PENDING))
        elif enforced and v.action is Action.BLOCK_MAIL:
            deny.append(_reason(v, title, Status.BLOCKED))
        elif enforced and v.action is Action.WARN:
            warn.append(_reason(v, title, Status.OVERDUE))
        elif enforced:
            dry.append(_reason(v, title, Status.OVERDUE))
        elif v.enforce_at is not None and v.status is not Status.COMPLIANT:
            before = Status.PENDING if v.status in (Status.BLOCKED, Status.OVERDUE) else v.status
            warn.append(_reason(v, title, before))
    if not (deny or warn or dry):
        return ALLOW
    effect = Effect.DENY if deny else Effect.ALLOW
    return Outcome(effect, tuple(deny), tuple(warn), tuple(dry))


class EntryBuilder:
    """Builds entries, sharing one outcome timeline among devices whose verdicts say the same.

    Across a fleet most failing devices have the same verdicts but for the device key (same
    policy, status, apps, deadline); their entries then share the outcome objects, which saves
    most of the memory and build time of the index.
    """

    def __init__(self, titles: Mapping[str, str]) -> None:
        self.titles = titles
        self._timelines: dict[
            tuple[object, ...], tuple[Outcome, tuple[float, ...], tuple[Outcome, ...]]
        ] = {}

    def build(
        self, device: str, verdicts: Iterable[Verdict], unarmed: frozenset[str] = frozenset()
    ) -> Entry:
        """`unarmed`: block_mail policies never announced to this device's owner (they warn)."""
        relevant = [v for v in verdicts if not v.is_plain_compliant]
        if not relevant:
            return Entry(device, ALLOW)
        key = (
            tuple(
                sorted(
                    (v.policy, v.version, v.status, v.action, v.findings, v.deadline, v.enforce_at)
                    for v in relevant
                )
            ),
            unarmed,
        )
        timeline = self._timelines.get(key)
        if timeline is None:
            entry = build_entry(device, relevant, self.titles, unarmed)
            self._timelines[key] = (entry.first, entry.times, entry.outcomes)
            return entry
        return Entry(device, *timeline)


def build_entry(
    device: str,
    verdicts: Iterable[Verdict],
    titles: Mapping[str, str],
    unarmed: frozenset[str] = frozenset(),
) -> Entry:
    relevant = [v for v in verdicts if not v.is_plain_compliant]
    if not relevant:
        return Entry(device, ALLOW)
    times = sorted({to_epoch(v.enforce_at) for v in relevant if v.enforce_at is not None})
    first = outcome_at(relevant, titles, float("-inf"), unarmed)
    kept_times: list[float] = []
    kept: list[Outcome] = []
    last = first
    for t in times:
        outcome = outcome_at(relevant, titles, t, unarmed)
        if outcome != last:
            kept_times.append(t)
            kept.append(outcome)
            last = outcome
    return Entry(device, first, tuple(kept_times), tuple(kept))


_GONE = Entry("", ALLOW)  # tombstone in overlays


class DecisionIndex:
    """Identity -> entry, in three immutable layers (a small log-structured merge).

    An update copies only the small top layer; when it outgrows `SMALL` it is folded into the
    middle layer, and the middle layer into the base when it outgrows a sixteenth of it. Each
    update therefore copies a few thousand entries at most (amortised), however large the base,
    and the previous index stays valid for whoever still reads it. A lookup is at most three dict
    probes; tombstones hide removed keys.
    """

    __slots__ = ("_base", "_mid", "_overlay", "revision")
    SMALL = 2048

    def __init__(
        self,
        entries: dict[str, Entry],
        revision: int = 0,
        overlay: dict[str, Entry] | None = None,
        mid: dict[str, Entry] | None = None,
    ) -> None:
        self._base = entries
        self._mid = mid or {}
        self._overlay = overlay or {}
        self.revision = revision

    def get(self, key: str) -> Entry | None:
        overlay = self._overlay
        if overlay:
            entry = overlay.get(key)
            if entry is not None:
                return None if entry is _GONE else entry
        mid = self._mid
        if mid:
            entry = mid.get(key)
            if entry is not None:
                return None if entry is _GONE else entry
        return self._base.get(key)

    def _above_base(self) -> dict[str, Entry]:
        merged = dict(self._mid)
        merged.update(self._overlay)
        return merged

    def __len__(self) -> int:
        above = self._above_base()
        gone = sum(1 for k, e in above.items() if e is _GONE and k in self._base)
        new = sum(1 for k, e in above.items() if e is not _GONE and k not in self._base)
        return len(self._base) + new - gone

    def shares_base(self, other: DecisionIndex) -> bool:
        """Whether `other` has the same base layer (False once an update folded it anew)."""
        return self._base is other._base

    @property
    def overlay_size(self) -> int:
        return len(self._overlay) + len(self._mid)

    def updated(self, changes: Mapping[str, Entry | None], revision: int) -> DecisionIndex:
        """A new index with `changes` applied (None removes a key); this one is untouched."""
        overlay = dict(self._overlay)
        for key, entry in changes.items():
            overlay[key] = _GONE if entry is None else entry
        if len(overlay) <= self.SMALL:
            return DecisionIndex(self._base, revision, overlay, self._mid)
        mid = dict(self._mid)
        mid.update(overlay)
        if len(mid) <= max(self.SMALL * 8, len(self._base) // 16):
            return DecisionIndex(self._base, revision, None, mid)
        base = dict(self._base)
        for key, entry in mid.items():
            if entry is _GONE:
                base.pop(key, None)
            else:
                base[key] = entry
        return DecisionIndex(base, revision)

    def layers(self) -> tuple[Mapping[str, Entry], Mapping[str, Entry | None]]:
        """(base, everything above it) for incremental readers; None marks a removed key.

        The base is shared by every index derived with `updated()` until it is folded, so a
        reader that saw this base needs to look only at what lies above it.
        """
        return self._base, {k: (None if e is _GONE else e) for k, e in self._above_base().items()}

    def keys_of(self, device: str) -> list[str]:
        """Every identity key that resolves to `device` (slow: for tests and diagnostics)."""
        keys = {k for k, e in self._base.items() if e.device == device}
        for key, entry in self._above_base().items():
            if entry is _GONE or entry.device != device:
                keys.discard(key)
            else:
                keys.add(key)
        return sorted(keys)


class Decision(NamedTuple):
    id: int
    revision: int
    identity: str
    device: str | None
    outcome: Outcome | None  # None: the identity is not known to AppWarden
    at: float

    @property
    def known(self) -> bool:
        return self.outcome is not None


def decide(index: DecisionIndex, identity: str, now: float, decision_id: int) -> Decision:
    """The hot path: look an identity up and evaluate its entry at `now`."""
    entry = index.get(identity)
    if entry is None:
        return Decision(decision_id, index.revision, identity, None, None, now)
    return Decision(decision_id, index.revision, identity, entry.device, entry.at(now), now)


def titles_of(versions: Iterable[PolicyVersion]) -> dict[str, str]:
    return {pv.slug: pv.policy.text("title", "en") for pv in versions}


def entries_for_device(
    identity_keys: Iterable[str],
    device: str,
    verdicts: Iterable[Verdict],
    titles: Mapping[str, str],
    unarmed: frozenset[str] = frozenset(),
) -> dict[str, Entry]:
    entry = build_entry(device, verdicts, titles, unarmed)
    return dict.fromkeys(identity_keys, entry)
