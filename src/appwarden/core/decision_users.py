"""Per-user decisions: one entry for a person, combined from the entries of their devices.

Gateways that cannot see a device (SMTP submission without a client certificate, an IMAP login
without an ID) decide per user. Two rules:

    any   the user is denied while any of their devices is denied (nothing barred may reach mail
          under this account: the default)
    all   the user is denied only while every one of their devices is denied

Deadlines stay exact: the combined entry has a breakpoint wherever any device's entry has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from appwarden.core.decision import ALLOW, Effect, Entry, Outcome, Reason


class UserRule(StrEnum):
    ANY = "any"
    ALL = "all"


USER_ENTRY_DEVICE = ""  # user entries name no single device


def _unique(reasons: list[Reason]) -> tuple[Reason, ...]:
    return tuple(sorted(dict.fromkeys(reasons), key=lambda r: r.policy))


def merge_outcomes(outcomes: Sequence[Outcome], rule: UserRule) -> Outcome:
    denied = [o.effect is Effect.DENY for o in outcomes]
    effect_deny = all(denied) if rule is UserRule.ALL else any(denied)
    deny = [r for o in outcomes for r in o.deny]
    warn = [r for o in outcomes for r in o.warn]
    dry = [r for o in outcomes for r in o.dry_run]
    if not effect_deny:  # `all` with some device allowed: its denials are only warnings
        warn, deny = warn + deny, []
    if not (deny or warn or dry):
        return ALLOW
    return Outcome(
        Effect.DENY if effect_deny else Effect.ALLOW, _unique(deny), _unique(warn), _unique(dry)
    )


def combine_entries(entries: Sequence[Entry], rule: UserRule) -> Entry:
    """The entry of a person who uses these devices."""
    if len(entries) == 1 and rule is UserRule.ANY:
        only = entries[0]
        return Entry(USER_ENTRY_DEVICE, only.first, only.times, only.outcomes)
    first = merge_outcomes([e.first for e in entries], rule)
    times = sorted({t for e in entries for t in e.times})
    kept_times: list[float] = []
    kept: list[Outcome] = []
    last = first
    for t in times:
        outcome = merge_outcomes([e.at(t) for e in entries], rule)
        if outcome != last:
            kept_times.append(t)
            kept.append(outcome)
            last = outcome
    return Entry(USER_ENTRY_DEVICE, first, tuple(kept_times), tuple(kept))


def is_plain_allow(entry: Entry) -> bool:
    return entry.first == ALLOW and not entry.times
