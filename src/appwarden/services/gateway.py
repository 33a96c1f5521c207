"""Gateway decisions: one call per gateway request, the same for every protocol.

    ask (from core/gateways/identify) -> decision index -> answer (allow / deny + message)
                                                        -> decision log (buffered) + counters

Nothing here touches the database or blocks: the index is in memory, the log is a buffer, and
the locale of the person comes from the in-memory fleet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appwarden.core.decision import Decision, Effect
from appwarden.core.fleet import FleetIndex
from appwarden.core.gateways.answer import (
    GatewayAnswer,
    PolicyTitles,
    answer_decision,
    no_identity,
)
from appwarden.core.gateways.identify import Ask
from appwarden.core.gateways.rules import GatewayRules, Protocol
from appwarden.services.decision_log import DecisionLog, Record
from appwarden.services.decisions import DecisionService
from appwarden.services.ports import Store


@dataclass(frozen=True, slots=True)
class Told:
    """What a gateway was told, with the decision id it can log."""

    answer: GatewayAnswer
    decision_id: str
    decision: Decision | None


class GatewayService:
    def __init__(
        self,
        decisions: DecisionService,
        rules: GatewayRules,
        log: DecisionLog,
        epoch: Callable[[], float],
        fleet: Callable[[], FleetIndex],
    ) -> None:
        self.decisions = decisions
        self.rules = rules
        self.log = log
        self.epoch = epoch
        self.fleet = fleet
        self.titles: PolicyTitles = {}
        self.titles_revision = -1

    def ask(self, protocol: Protocol, ask: Ask) -> Told:
        decisions = self.decisions
        if ask.fixed is not None:
            return self._fixed(protocol, ask)
        decision = decisions.decide(ask.key, self.epoch())
        outcome = decision.outcome
        locale = self.rules.default_locale
        if protocol is not Protocol.POSTFIX and (outcome is None or outcome.effect is Effect.DENY):
            locale = self.locale_of(decision.device, ask.user)  # SMTP replies stay ASCII English
        answer = answer_decision(decision, protocol, self.rules, self.titles, locale)
        decision_id = f"{decisions.id_prefix}-{decision.id:x}"
        self.log.record(
            Record(
                decision_id,
                decision.at,
                decision.revision,
                protocol,
                ask.key,
                ask.user,
                decision.device or "",
                answer,
            )
        )
        return Told(answer, decision_id, decision)

    def _fixed(self, protocol: Protocol, ask: Ask) -> Told:
        answer = ask.fixed
        assert answer is not None
        if answer.code == "no_identity" and ask.user:
            answer = no_identity(self.rules, self.locale_of(None, ask.user))
        decisions = self.decisions
        decision_id = f"{decisions.id_prefix}-{decisions.new_id():x}"
        record = Record(
            decision_id, self.epoch(), decisions.index.revision, protocol, "", ask.user, "",
            answer,
        )  # fmt: skip
        self.log.record(record)
        return Told(answer, decision_id, None)

    # -- people ----------------------------------------------------------------------------------
    def locale_of(self, device: str | None, user: str) -> str:
        """The owner's locale (device first, then the user), else the default."""
        fleet = self.fleet()
        employee = None
        if device:
            slot = fleet.slot_of.get(device)
            owner = fleet.owner[slot] if slot is not None else -1
            employee = fleet.employees[owner] if owner >= 0 else None
        if employee is None and user:
            slot = fleet.employee_slot.get(user)
            employee = fleet.employees[slot] if slot is not None else None
        return (
            employee.locale
            if employee is not None and employee.locale
            else (self.rules.default_locale)
        )

    # -- policy texts ----------------------------------------------------------------------------
    def refresh_titles(self, store: Store) -> bool:
        """Reload localised policy titles when the index moved on (off the hot path)."""
        revision = self.decisions.index.revision
        if revision == self.titles_revision:
            return False
        with store.read() as uow:
            self.titles = {
                s.version.slug: dict(s.version.policy.title) for s in uow.policies.active()
            }
        self.titles_revision = revision
        return True
