"""A decision, turned into what a gateway must be told.

`answer_decision` reads the outcome at the decision's instant: `deny` reasons deny; `dry_run`
reasons (policies in `report` mode) allow but are recorded as would-deny; an identity AppWarden
has never seen gets the protocol's `UnknownAnswer`. Requests answered without the index (exempt
service logins, identity-less OPTIONS) get a `fixed` answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from appwarden.core.decision import Decision, Effect
from appwarden.core.gateways.messages import (
    blocked_message,
    localised,
    no_identity_message,
    not_enrolled_message,
)
from appwarden.core.gateways.rules import GatewayRules, Protocol, UnknownAnswer

PolicyTitles = Mapping[str, Mapping[str, str]]  # slug -> locale -> title


class Result(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"  # identity never seen (allowed or denied by the unknown rule)
    WOULD_DENY = "would_deny"  # allowed, but a report-mode policy would deny (dry run)
    EXEMPT = "exempt"  # answered without the index (service login, open method)


@dataclass(frozen=True, slots=True)
class GatewayAnswer:
    allow: bool
    result: Result
    code: str  # machine reason: ok, blocked, not_enrolled, no_identity, exempt login, ...
    policies: tuple[str, ...] = ()  # the policies that deny (or would deny)
    message: str = ""  # for the person, in their locale
    eas_status: int = 0  # 449 when an EAS client should provision first


ALLOWED = GatewayAnswer(True, Result.ALLOWED, "ok")


def fixed(allow: bool, result: Result, code: str, message: str = "") -> GatewayAnswer:
    return GatewayAnswer(allow, result, code, (), message)


def no_identity(rules: GatewayRules, locale: str) -> GatewayAnswer:
    return GatewayAnswer(
        False, Result.DENIED, "no_identity", (), no_identity_message(rules.enroll_url, locale)
    )


def answer_decision(
    decision: Decision,
    protocol: Protocol,
    rules: GatewayRules,
    titles: PolicyTitles,
    locale: str,
) -> GatewayAnswer:
    outcome = decision.outcome
    if outcome is None:
        return _unknown(protocol, rules, locale)
    if outcome.effect is Effect.DENY:
        first = outcome.deny[0]
        title = localised(titles.get(first.policy, {}), locale, first.title)
        apps = tuple(dict.fromkeys(a for r in outcome.deny for a in r.apps))
        url = rules.info_url.replace("{policy}", first.policy)
        return GatewayAnswer(
            False,
            Result.DENIED,
            "blocked",
            tuple(r.policy for r in outcome.deny),
            blocked_message(title, apps, url, locale),
        )
    if outcome.dry_run:
        return GatewayAnswer(
            True, Result.WOULD_DENY, "dry_run", tuple(r.policy for r in outcome.dry_run)
        )
    if outcome.warn:
        return GatewayAnswer(True, Result.ALLOWED, "warn", tuple(r.policy for r in outcome.warn))
    return ALLOWED


def _unknown(protocol: Protocol, rules: GatewayRules, locale: str) -> GatewayAnswer:
    mode = rules.unknown.get(protocol, UnknownAnswer.REPORT)
    if mode is UnknownAnswer.DENY:
        status = rules.eas_unknown_status if protocol is Protocol.NGINX else 0
        message = not_enrolled_message(rules.enroll_url, locale)
        return GatewayAnswer(False, Result.UNKNOWN, "not_enrolled", (), message, status)
    code = "unknown_reported" if mode is UnknownAnswer.REPORT else "unknown_allowed"
    return GatewayAnswer(True, Result.UNKNOWN, code)
