"""Ports the console reads and writes: proposals, exemption requests, pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from appwarden.core.campaign import Campaign
from appwarden.core.events import StoredEvent


@dataclass(frozen=True, slots=True)
class PolicyProposal:
    """A policy change waiting for a second person to approve exactly this text."""

    id: str
    slug: str
    source: str
    digest: str
    base_version: int | None
    reason: str
    lead_override: str
    author: str
    created_at: datetime
    status: str = "proposed"  # proposed | applied | rejected | withdrawn
    decided_by: str | None = None
    decided_at: datetime | None = None
    applied_version: int | None = None


@dataclass(frozen=True, slots=True)
class ExemptionRequest:
    id: str
    target_kind: str  # device | employee
    target: str
    policy: str
    reason: str
    expires_at: datetime
    requested_by: str
    created_at: datetime
    status: str = "requested"  # requested | granted | declined
    decided_by: str | None = None
    decided_at: datetime | None = None
    exemption_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredPreview:
    """A campaign preview as the console showed it (services/campaign_console.py)."""

    campaign: str
    digest: str
    taken_by: str
    taken_at: datetime
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a keyset-paginated listing: `next_after` is None on the last page."""

    rows: list[dict[str, Any]]
    next_after: str | None


class Proposals(Protocol):
    def add(self, proposal: PolicyProposal) -> None: ...
    def get(self, proposal_id: str) -> PolicyProposal | None: ...
    def list(self, status: str | None = None, limit: int = 100) -> list[PolicyProposal]: ...
    def applied_as(self, slug: str, version: int) -> PolicyProposal | None: ...
    def decide(
        self, proposal_id: str, status: str, by: str, at: datetime, applied_version: int | None
    ) -> bool: ...


class ExemptionRequests(Protocol):
    def add(self, request: ExemptionRequest) -> None: ...
    def get(self, request_id: str) -> ExemptionRequest | None: ...
    def list(
        self, status: str | None = None, target: str | None = None, limit: int = 100
    ) -> list[ExemptionRequest]: ...
    def decide(
        self, request_id: str, status: str, by: str, at: datetime, exemption_id: str | None
    ) -> bool: ...


class ConsoleReads(Protocol):
    """Indexed, paginated reads for the console; none of them scans the fleet."""

    def search_devices(self, query: str, after: str, limit: int) -> Page: ...
    def devices_with_status(self, policy: str, status: str, after: str, limit: int) -> Page: ...
    def search_employees(self, query: str, after: str, limit: int) -> Page: ...
    def status_counts(self, policy: str) -> dict[str, int]: ...
    def device_transitions(self, key: str, limit: int) -> list[dict[str, Any]]: ...
    def policy_transitions(self, policy: str, after_id: int, limit: int) -> list[Any]: ...
    def audit_page(
        self, type_: str, actor: str, subject: str, before_seq: int, limit: int
    ) -> list[StoredEvent]: ...


class CampaignPages(Protocol):
    """Indexed reads and the preview cache of the console's campaign pages."""

    def put_preview(self, preview: StoredPreview) -> None: ...
    def preview(self, campaign_id: str) -> StoredPreview | None: ...
    def page(self, policy: str, before: str, limit: int) -> tuple[list[Campaign], str | None]: ...
    def wave_counts(self, campaign_id: str) -> dict[int, dict[str, int]]: ...
    def sent_between(self, campaign_id: str) -> tuple[datetime | None, datetime | None]: ...
