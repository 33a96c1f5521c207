"""Audit events: typed, named in stable snake_case, hash-chained.

Each stored event carries `prev_hash` (the hash of the event before it) and `hash` =
SHA-256(prev_hash + canonical JSON of the event). Editing, removing or reordering any stored event
breaks the chain at that point, and `verify_chain` says where and how.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

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
    """Walk the chain in storage order and report every break.

    With `after` (an event already verified), `events` continue the chain from it.
    """
    problems: list[ChainProblem] = []
    expected_prev = after.hash if after else GENESIS
    expected_seq = after.seq + 1 if after else 1
    for event in events:
        if event.body.get("seq") != event.seq:
            problems.append(ChainProblem(event.seq, "edited", "sequence number inside was changed"))
        if event.seq > expected_seq:
            missing = (
                f"{expected_seq}"
                if event.seq == expected_seq + 1
                else (f"{expected_seq}-{event.seq - 1}")
            )
            problems.append(ChainProblem(event.seq, "removed", f"event(s) {missing} are missing"))
        elif event.seq < expected_seq:
            problems.append(ChainProblem(event.seq, "reordered", "sequence goes backwards"))
        if chain_hash(event.prev_hash, event.body) != event.hash:
            problems.append(ChainProblem(event.seq, "edited", "content does not match its hash"))
        elif event.prev_hash != expected_prev and event.seq <= expected_seq:
            problems.append(
                ChainProblem(event.seq, "reordered", "does not follow the event stored before it")
            )
        elif event.prev_hash != expected_prev and not any(
            p.seq == event.seq and p.kind == "removed" for p in problems
        ):
            problems.append(ChainProblem(event.seq, "removed", "an event before it is missing"))
        expected_prev = event.hash
        expected_seq = event.seq + 1
    return problems
