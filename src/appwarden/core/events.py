"""Audit events: typed, named in stable snake_case, hash-chained.

Each stored event carries `prev_hash` (the hash of the event before it) and `hash` =
SHA-256(prev_hash + canonical JSON of the event). Editing, removing or reordering any stored event
breaks the chain at that point, and `verify_chain` says where and how.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from appwarden.core.timeutil import iso

GENESIS = "0" * 64


class EventType(StrEnum):
    """Every audit event name. Names are stable: add new ones, never rename."""

    # inventory
    INVENTORY_IMPORTED = "inventory_imported"
    DEVICE_ENROLLED = "device_enrolled"
    DEVICE_CREDENTIAL_REVOKED = "device_credential_revoked"
    DIRECTORY_SYNCED = "directory_synced"
    ATTESTATION_SIGNED = "attestation_signed"
    ATTESTATION_REVOKED = "attestation_revoked"
    ENROLLMENT_CODE_CREATED = "enrollment_code_created"
    # policy
    POLICY_APPLIED = "policy_applied"
    POLICY_RETIRED = "policy_retired"
    LEAD_TIME_OVERRIDDEN = "lead_time_overridden"
    # evaluation
    ASSESSMENT_RUN = "assessment_run"
    EXEMPTION_GRANTED = "exemption_granted"
    EXEMPTION_REVOKED = "exemption_revoked"
    # decisions (summaries; individual decisions go to the decision log)
    DECISION_DENIED = "decision_denied"
    # notices
    CAMPAIGN_DRAFTED = "campaign_drafted"
    CAMPAIGN_PREVIEWED = "campaign_previewed"
    CAMPAIGN_APPROVED = "campaign_approved"
    CAMPAIGN_RESET_TO_DRAFT = "campaign_reset_to_draft"
    CAMPAIGN_TEST_SENT = "campaign_test_sent"
    CAMPAIGN_WAVE_SENT = "campaign_wave_sent"
    CAMPAIGN_HALTED = "campaign_halted"
    CAMPAIGN_UNDONE = "campaign_undone"
    CAMPAIGN_RETRACTED = "campaign_retracted"
    NOTICE_SENT = "notice_sent"
    NOTICE_BOUNCED = "notice_bounced"
    NOTICE_REPLIED = "notice_replied"
    NOTICE_DROPPED = "notice_dropped"  # its devices resolved before it left
    CAMPAIGN_RESUMED = "campaign_resumed"
    # access
    TOKEN_CREATED = "token_created"  # noqa: S105 (an event name, not a secret)
    TOKEN_REVOKED = "token_revoked"  # noqa: S105
    USER_CREATED = "user_created"
    USER_ROLE_CHANGED = "user_role_changed"
    SIGNED_IN = "signed_in"
    # console (issue 6)
    PASSWORD_SET = "password_set"  # noqa: S105 (an event name, not a secret)
    SIGNED_OUT = "signed_out"
    SIGN_IN_LINK_SENT = "sign_in_link_sent"
    POLICY_PROPOSED = "policy_proposed"
    POLICY_PROPOSAL_REJECTED = "policy_proposal_rejected"
    POLICY_PROPOSAL_WITHDRAWN = "policy_proposal_withdrawn"
    EXEMPTION_REQUESTED = "exemption_requested"
    EXEMPTION_REQUEST_DECLINED = "exemption_request_declined"
    RECHECK_REQUESTED = "recheck_requested"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    type: EventType | str
    actor: str
    at: datetime
    subject: str = ""
    reason: str = ""
    before: Any = None
    after: Any = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def body(self, seq: int) -> dict[str, Any]:
        return {
            "seq": seq,
            "type": str(self.type),
            "actor": self.actor,
            "at": iso(self.at),
            "subject": self.subject,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
            "data": dict(self.data),
        }


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(body)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    body: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    kind: str  # edited | removed | reordered | inserted
    detail: str


def verify_chain(
    events: Iterable[StoredEvent], after: StoredEvent | None = None
) -> list[ChainProblem]:
    """Check the chain in storage order and name every break at the event it concerns.

    With `after` (an event already verified), `events` continue the chain from it.

    edited     an event's content no longer matches its hash, or it was re-hashed after the
               event that follows it was chained to it
    removed    sequence numbers are missing (named by the first missing number)
    reordered  an event is stored out of sequence order (the fewest events that explain it)
    inserted   an extra event chained into the middle of the log
    """
    anchor = _Anchor(after.seq, after.hash) if after else _Anchor(0, GENESIS)
    stored = list(events)
    sound = [chain_hash(e.prev_hash, e.body) == e.hash for e in stored]
    claims = [_claimed_seq(e, ok) for e, ok in zip(stored, sound, strict=True)]
    problems = [
        ChainProblem(claims[i], "edited", "content does not match its hash")
        for i, ok in enumerate(sound)
        if not ok
    ]
    inserted = _inserted(stored, sound, claims)
    problems += inserted.values()
    kept = [i for i in range(len(stored)) if i not in inserted]
    problems += _reordered(claims, kept, anchor.seq)
    kept = [i for i in kept if claims[i] > anchor.seq]
    problems += _removed(claims, kept, anchor.seq + 1)
    problems += _relinked(stored, sound, claims, kept, anchor)
    unique = {(p.seq, p.kind): p for p in reversed(problems)}
    return sorted(unique.values(), key=lambda p: (p.seq, p.kind))


class _Anchor(NamedTuple):
    """Where the events being verified continue the chain from."""

    seq: int
    hash: str


def _claimed_seq(event: StoredEvent, sound: bool) -> int:
    """The hashed sequence number when the content is intact, else the stored one."""
    inner = event.body.get("seq")
    return inner if sound and isinstance(inner, int) else event.seq


def _inserted(
    stored: list[StoredEvent], sound: list[bool], claims: list[int]
) -> dict[int, ChainProblem]:
    """Positions of events chained into the log beside a genuine one (a fork in the chain)."""
    referenced = {e.prev_hash for e in stored}
    claim_of = {e.hash: c for e, c in zip(stored, claims, strict=True)}
    siblings: dict[str, list[int]] = {}
    for i, event in enumerate(stored):
        if sound[i]:
            siblings.setdefault(event.prev_hash, []).append(i)
    out: dict[int, ChainProblem] = {}
    for group in siblings.values():
        if len(group) < 2:
            continue
        genuine = [i for i in group if stored[i].hash in referenced] or group[:1]
        for i in group:
            if i not in genuine[:1]:
                out[i] = _insertion(i, stored, claims, claim_of)
    return out


def _insertion(
    i: int, stored: list[StoredEvent], claims: list[int], claim_of: dict[str, int]
) -> ChainProblem:
    seq = claims[i]
    what = f"a second event {seq}" if claims.count(seq) > 1 else f"event {seq}"
    parent = claim_of.get(stored[i].prev_hash)
    chained = f"event {parent}" if parent is not None else "an unknown event"
    where = f"stored after event {claims[i - 1]}" if i else "stored first"
    return ChainProblem(seq, "inserted", f"{what}, chained to {chained}, {where}")


def _reordered(claims: list[int], kept: list[int], floor: int) -> list[ChainProblem]:
    """Events outside a longest run of increasing sequence numbers (above `floor`) were moved."""
    tails: list[int] = []  # claim values ending the best run of each length
    ends: list[int] = []  # position (in kept) of that run's last event
    before: list[int] = []  # predecessor in the run, per position in kept
    for n, i in enumerate(kept):
        if claims[i] <= floor:
            before.append(-1)
            continue
        length = bisect_left(tails, claims[i])
        before.append(ends[length - 1] if length else -1)
        if length == len(tails):
            tails.append(claims[i])
            ends.append(n)
        else:
            tails[length], ends[length] = claims[i], n
    in_order: set[int] = set()
    n = ends[-1] if ends else -1
    while n >= 0:
        in_order.add(n)
        n = before[n]
    return [
        ChainProblem(claims[i], "reordered", _between(claims, kept, n) + ", out of order")
        for n, i in enumerate(kept)
        if n not in in_order
    ]


def _between(claims: list[int], kept: list[int], n: int) -> str:
    left = f"event {claims[kept[n - 1]]}" if n > 0 else ""
    right = f"event {claims[kept[n + 1]]}" if n + 1 < len(kept) else ""
    if left and right:
        return f"stored between events {left[6:]} and {right[6:]}"
    return f"stored after {left}" if left else f"stored before {right}"


def _removed(claims: list[int], kept: list[int], first: int) -> list[ChainProblem]:
    present = {claims[i] for i in kept}
    out: list[ChainProblem] = []
    seq, last = first, max(present, default=0)
    while seq <= last:
        if seq in present:
            seq += 1
            continue
        end = seq
        while end + 1 not in present:
            end += 1
        what = f"event {seq} is missing" if end == seq else f"events {seq}-{end} are missing"
        out.append(ChainProblem(seq, "removed", what))
        seq = end + 1
    return out


def _relinked(
    stored: list[StoredEvent],
    sound: list[bool],
    claims: list[int],
    kept: list[int],
    anchor: _Anchor,
) -> list[ChainProblem]:
    """An intact event that does not chain to its predecessor: the predecessor was re-hashed."""
    hash_of = {claims[i]: stored[i].hash for i in kept}
    out: list[ChainProblem] = []
    for i in kept:
        seq, prev = claims[i], stored[i].prev_hash
        if seq == anchor.seq + 1 and prev != anchor.hash:
            what = f"event {anchor.seq}, verified before" if anchor.seq else "the genesis hash"
            out.append(ChainProblem(seq, "edited", f"does not chain to {what}"))
        elif sound[i] and seq - 1 in hash_of and prev != hash_of[seq - 1]:
            detail = f"changed and re-hashed: event {seq} does not chain to it"
            out.append(ChainProblem(seq - 1, "edited", detail))
    return out
