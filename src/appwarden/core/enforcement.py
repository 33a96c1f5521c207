"""Enforcement that was announced: notices and enforcement are one object.

A `block_mail` verdict denies mail only if the device's owner was told about that block, for that
policy version and that deadline, by an approved live campaign that is not retracted. Each such
promise is an enforcement record `(campaign, device, policy, version, deadline)`:

    approved   the campaign was approved; the owner's notice has not been accepted by a relay yet
    armed      the owner's notice left (accepted by the relay): the block may take effect
    disarmed   the campaign was undone, halted before the notice left, or retracted

The decision index consults an `EnforcementBook` (the armed keys only). A block_mail verdict
whose key is not in the book behaves like a pending one: a warning, never a deny.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from appwarden.core.policy import Action
from appwarden.core.timeutil import iso
from appwarden.core.verdict import Status, Verdict


class EnforcementState(StrEnum):
    APPROVED = "approved"
    ARMED = "armed"
    DISARMED = "disarmed"


EnforcementKey = tuple[str, str, int, str]  # (device, policy, version, deadline ISO)
CHANGE_KIND = "enforcement"  # change-log kind: a device's announced block was armed or disarmed


def verdict_deadline(verdict: Verdict) -> datetime | None:
    return verdict.deadline or verdict.enforce_at


@lru_cache(maxsize=4096)
def deadline_text(deadline: datetime) -> str:
    """ISO text of a deadline (cached: a fleet shares a handful of deadlines)."""
    return iso(deadline) or ""


def key_of(verdict: Verdict) -> EnforcementKey | None:
    deadline = verdict_deadline(verdict)
    if deadline is None:
        return None
    return (verdict.device, verdict.policy, verdict.version, deadline_text(deadline))


def needs_announcement(verdict: Verdict) -> bool:
    """Would this verdict, if nothing changes, take something away that must be announced?"""
    if verdict.enforce_at is None or verdict_deadline(verdict) is None:
        return False
    if verdict.status.failing:
        return True
    return verdict.status is Status.UNKNOWN


@dataclass(frozen=True, slots=True)
class Enforcement:
    campaign: str
    device: str
    policy: str
    version: int
    deadline: datetime
    employee: str
    state: EnforcementState = EnforcementState.APPROVED

    @property
    def key(self) -> EnforcementKey:
        return (self.device, self.policy, self.version, deadline_text(self.deadline))


class EnforcementBook:
    """The armed enforcement keys: which announced blocks may deny mail.

    Mutable (arming happens one sent message at a time); the decision entries built from it are
    immutable snapshots, so changing the book never changes an index already in use.
    """

    __slots__ = ("_armed",)

    def __init__(self, armed: Iterable[EnforcementKey] = ()) -> None:
        self._armed = set(armed)

    def __len__(self) -> int:
        return len(self._armed)

    def arm(self, keys: Iterable[EnforcementKey]) -> None:
        self._armed.update(keys)

    def disarm(self, keys: Iterable[EnforcementKey]) -> None:
        self._armed.difference_update(keys)

    def covers(self, verdict: Verdict) -> bool:
        key = key_of(verdict)
        return key is not None and key in self._armed

    def unarmed_policies(self, verdicts: Iterable[Verdict]) -> frozenset[str]:
        """Policies whose block_mail verdicts on this device were never announced (or retracted)."""
        return frozenset(
            v.policy
            for v in verdicts
            if v.action is Action.BLOCK_MAIL and v.enforce_at is not None and not self.covers(v)
        )
