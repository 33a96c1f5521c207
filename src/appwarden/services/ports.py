"""The ports services depend on. Adapters implement them; tests may use the SQLite adapter on
an in-memory database (it is fast and it is the real thing) or the fakes in adapters/fakes.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from appwarden.core.campaign import Campaign, Mode, NoticeKind
from appwarden.core.enforcement import Enforcement, EnforcementKey, EnforcementState
from appwarden.core.errors import AppWardenError
from appwarden.core.events import AuditEvent, StoredEvent
from appwarden.core.exemptions import Attestation, Exemption
from appwarden.core.fleet import FleetIndex
from appwarden.core.inventory import Device, Employee, InstalledApp
from appwarden.core.notice import Lane, NewNotice, Notice, NoticeState, OutboxMessage, OutboxState
from appwarden.core.policy import PolicyVersion
from appwarden.core.sources import FieldConflict, SourceFacts
from appwarden.core.verdict import Transition, Verdict, VerdictKey

Progress = Callable[[int], None]  # called with the number of items just done


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    version: PolicyVersion
    source: str  # the YAML text as applied
    active: bool


@dataclass(frozen=True, slots=True)
class DeviceChange:
    """What an upsert of one device changed."""

    created: bool
    fields_changed: bool
    apps_added: tuple[InstalledApp, ...]
    apps_removed: tuple[InstalledApp, ...]
    versions_changed: int = 0  # apps whose version changed (nothing to re-assess)

    @property
    def changed(self) -> bool:
        return self.created or self.fields_changed or bool(self.apps_added or self.apps_removed)


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    name: str
    role: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A person who uses the console or the CLI, with one role."""

    email: str
    name: str
    role: str  # viewer | author | approver | admin
    locale: str
    created_by: str
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in browser: an account (console) or an employee (self-service page)."""

    token_hash: str
    kind: str  # account | employee
    subject: str  # email, lower-case
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def valid_at(self, instant: datetime) -> bool:
        return self.revoked_at is None and instant < self.expires_at


@dataclass(frozen=True, slots=True)
class MagicLink:
    token_hash: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


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


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str = ""


class Mailer(Protocol):
    """Sends one message; raises StorageError-free AppWardenError subclasses on failure."""

    def send(self, mail: OutgoingMail) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, stored: str, password: str) -> bool: ...
    def needs_rehash(self, stored: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class StoredSource:
    """One source's last report on a device, as kept between reports."""

    facts: SourceFacts
    apps: frozenset[InstalledApp] | None = None  # to write; None: the device's list is its list
    sequence: int = 0  # last check-in sequence applied
    kept: bool = False  # read back: a list of its own is stored (`Sources.app_list`)


@dataclass(frozen=True, slots=True)
class StoredConflict:
    device: str
    conflict: FieldConflict
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class EnrollmentCode:
    id: str
    owner: str | None
    ownership: str
    device_key: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    id: str
    device: str  # device key
    created_at: datetime
    code_id: str | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class Inventory(Protocol):
    def upsert_employee(self, employee: Employee, at: datetime) -> bool: ...
    def employee(self, email: str) -> Employee | None: ...
    def employees(self) -> Iterator[Employee]: ...
    def upsert_device(
        self,
        device: Device,
        at: datetime,
        source: str,
        replace_apps: bool = True,
        first_apps: bool = False,
    ) -> DeviceChange: ...
    def create_devices(
        self, devices: list[Device], at: datetime, source: str
    ) -> list[DeviceChange]: ...
    def device(self, key: str) -> Device | None: ...
    def device_key_for_identity(self, kind: str, value: str) -> str | None: ...
    def count_devices(self) -> int: ...
    def count_employees(self) -> int: ...
    def load_fleet(self, index: FleetIndex, progress: Progress | None = None) -> None: ...
    def app_history(self, key: str) -> list[dict[str, Any]]: ...


class Sources(Protocol):
    """Per-source reports, cross-source identifiers, merge conflicts and employee aliases."""

    def find(self, probes: Sequence[tuple[str, str]]) -> list[str | None]: ...
    def find_many(self, probes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]: ...
    def has_aliases(self) -> bool: ...
    def snapshots(self, key: str) -> dict[str, StoredSource]: ...
    def app_list(self, key: str, source: str) -> frozenset[InstalledApp] | None: ...
    def put(self, key: str, stored: StoredSource) -> None: ...
    def put_many(self, items: Sequence[tuple[str, StoredSource]]) -> None: ...
    def add_keys(self, key: str, keys: Sequence[tuple[str, str]]) -> None: ...
    def add_keys_many(self, items: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None: ...
    def conflicts(self, key: str | None = None, limit: int = 1000) -> list[StoredConflict]: ...
    def set_conflicts(self, key: str, conflicts: Sequence[FieldConflict], at: datetime) -> bool: ...
    def resolve_owner(self, address: str) -> str: ...
    def set_aliases(self, email: str, aliases: Sequence[str]) -> None: ...
    def relink_owners(self) -> list[str]: ...


class Enrollments(Protocol):
    def add_code(self, code: EnrollmentCode, code_hash: str) -> None: ...
    def code_by_hash(self, code_hash: str) -> EnrollmentCode | None: ...
    def use_code(self, code_id: str, at: datetime, device_key: str) -> bool: ...
    def codes(self, include_used: bool = False) -> list[EnrollmentCode]: ...
    def add_credential(self, credential: DeviceCredential, secret_hash: str) -> None: ...
    def credential_by_hash(self, secret_hash: str) -> DeviceCredential | None: ...
    def credentials(self, device_key: str | None = None) -> list[DeviceCredential]: ...
    def revoke_credentials(self, device_key: str, at: datetime, by: str) -> list[str]: ...


class Attestations(Protocol):
    def get(self, attestation_id: str) -> Attestation | None: ...
    def for_device(self, device: str) -> list[Attestation]: ...
    def revoke(self, attestation_id: str, at: datetime) -> bool: ...


class Policies(Protocol):
    def current(self, slug: str) -> StoredPolicy | None: ...
    def active(self) -> list[StoredPolicy]: ...
    def history(self, slug: str) -> list[StoredPolicy]: ...
    def add_version(self, version: PolicyVersion, source: str) -> None: ...
    def retire(self, slug: str) -> None: ...


class Verdicts(Protocol):
    def all(self) -> dict[VerdictKey, Verdict]: ...
    def for_device(self, device: str) -> list[Verdict]: ...
    def for_policy(self, slug: str) -> dict[str, Verdict]: ...
    def write(
        self, changed: Iterable[Verdict], removed: Iterable[VerdictKey], at: datetime
    ) -> None: ...
    def record_assessment(
        self,
        at: datetime,
        started: datetime,
        duration_ms: float,
        trigger: str,
        counts: Mapping[str, Mapping[str, int]],
        transitions: Sequence[Transition],
    ) -> int: ...
    def transitions(self, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...


class Exemptions(Protocol):
    def add(self, exemption: Exemption) -> None: ...
    def get(self, exemption_id: str) -> Exemption | None: ...
    def all(self, include_inactive: bool = False) -> list[Exemption]: ...
    def revoke(self, exemption_id: str, at: datetime, by: str, reason: str) -> None: ...
    def attestations(self) -> list[Attestation]: ...
    def add_attestation(self, attestation: Attestation) -> None: ...


class AuditLog(Protocol):
    def append(self, event: AuditEvent) -> StoredEvent: ...
    def events(
        self, after_seq: int = 0, limit: int | None = None, type_: str | None = None
    ) -> Iterator[StoredEvent]: ...
    def head(self) -> StoredEvent | None: ...


class Tokens(Protocol):
    def add(self, token: ApiToken, token_hash: str) -> None: ...
    def by_hash(self, token_hash: str) -> ApiToken | None: ...
    def all(self) -> list[ApiToken]: ...
    def revoke(self, token_id: str, at: datetime) -> bool: ...
    def touch(self, token_id: str, at: datetime) -> None: ...
    def active_hashes(self, roles: Sequence[str]) -> list[str]: ...


class Accounts(Protocol):
    def upsert(self, account: Account, at: datetime) -> None: ...
    def get(self, email: str) -> Account | None: ...
    def all(self) -> list[Account]: ...


class Credentials(Protocol):
    def password_hash(self, email: str) -> str | None: ...
    def set_password_hash(self, email: str, password_hash: str, at: datetime) -> None: ...


class Sessions(Protocol):
    def add(self, session: ConsoleSession) -> None: ...
    def get(self, token_hash: str) -> ConsoleSession | None: ...
    def revoke(self, token_hash: str, at: datetime) -> None: ...
    def revoke_subject(self, subject: str, at: datetime) -> int: ...
    def add_link(self, link: MagicLink) -> None: ...
    def get_link(self, token_hash: str) -> MagicLink | None: ...
    def use_link(self, token_hash: str, at: datetime) -> bool: ...
    def links_since(self, email: str, since: datetime) -> int: ...


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


class ChangeRecorder(Protocol):
    def record(self, kind: str, keys: Iterable[str]) -> None: ...


class Changes(ChangeRecorder, Protocol):
    """What committed transactions changed, for other processes to pick up."""

    def head(self) -> int: ...
    def since(self, seq: int, limit: int = 100_000) -> list[tuple[int, str, str]]: ...


class LoggedDecision(NamedTuple):
    """One decision-log row, identities already masked (a tuple: batches encode fast)."""

    decision_id: str
    at: str  # ISO 8601 UTC, to the millisecond
    revision: int
    protocol: str
    identity: str
    user: str
    device: str
    allow: bool
    result: str
    code: str
    policies: str  # comma-separated slugs


class DecisionRecords(Protocol):
    def append(self, rows: Sequence[LoggedDecision]) -> None: ...
    def append_encoded(self, chunks: Sequence[bytes]) -> None: ...
    def tail(
        self,
        after_seq: int = 0,
        limit: int = 50,
        result: str | None = None,
        policy: str | None = None,
    ) -> list[dict[str, Any]]: ...
    def prune(self, before: str) -> int: ...  # an instant as the log writes it


class Campaigns(Protocol):
    """Campaigns, their notices and the enforcement they announced (services/campaigns.py)."""

    def add(self, campaign: Campaign, at: datetime) -> None: ...
    def save(self, campaign: Campaign, at: datetime) -> None: ...
    def get(self, campaign_id: str) -> Campaign | None: ...
    def find(
        self, policy: str | None = None, statuses: Sequence[str] | None = None
    ) -> list[Campaign]: ...
    def children(self, parent: str) -> list[Campaign]: ...
    def verdicts_to_announce(self, policy: str, version: int) -> list[Verdict]: ...
    def armed_keys(self) -> list[EnforcementKey]: ...
    def announced_keys(self, policy: str) -> set[EnforcementKey]: ...
    def told_employees(self, policy: str) -> set[str]: ...
    def add_enforcements(self, items: Iterable[Enforcement], at: datetime) -> None: ...
    def set_enforcement(
        self,
        campaign_id: str,
        state: EnforcementState,
        at: datetime,
        employees: Sequence[str] | None = None,
        only: Sequence[EnforcementState] = ...,
    ) -> list[EnforcementKey]: ...
    def enforcement_counts(self, campaign_id: str) -> dict[str, int]: ...
    def enforcements(self, campaign_id: str) -> list[Enforcement]: ...
    def live_enforcement_for(self, device: str, policy: str) -> Enforcement | None: ...
    def add_notices(self, notices: Iterable[NewNotice], at: datetime) -> None: ...
    def notices(
        self,
        campaign_id: str,
        states: Sequence[NoticeState] | None = None,
        wave: int | None = None,
        with_data: bool = True,
    ) -> list[Notice]: ...
    def notices_of_message(self, outbox_id: int) -> list[Notice]: ...
    def notice_by_token(self, token: str) -> Notice | None: ...
    def notice_counts(self, campaign_id: str, kind: NoticeKind | None = None) -> dict[str, int]: ...
    def locales(self, campaign_id: str) -> list[str]: ...
    def replies(self, campaign_id: str) -> int: ...
    def set_notices(
        self,
        ids: Iterable[int],
        state: NoticeState,
        outbox_id: int | None = None,
        sent_at: datetime | None = None,
    ) -> None: ...
    def link_to_messages(self, links: Iterable[tuple[str, int]]) -> None: ...
    def link_campaign_by_token(self, campaign_id: str, idem_prefix: str) -> None: ...
    def cancel_unsent(self, campaign_id: str) -> list[int]: ...
    def mark_replied(self, notice_id: int) -> None: ...
    def received(self, campaign_id: str) -> list[Notice]: ...
    def reminders_done(self, campaign_id: str) -> list[int]: ...
    def add_reminder(self, campaign_id: str, offset_s: int, at: datetime) -> None: ...
    def cursor(self, name: str) -> int: ...
    def set_cursor(self, name: str, value: int) -> None: ...


class Outbox(Protocol):
    def daily_message(self, to_addr: str, day: str, mode: Mode) -> OutboxMessage | None: ...
    def add(
        self,
        idem_key: str,
        message_id: str,
        to_addr: str,
        mode: Mode,
        lane: Lane,
        day: str,
        not_before: datetime,
        at: datetime,
    ) -> int: ...
    def add_many(
        self,
        rows: list[tuple[str, str, str, Mode, Lane, str]],
        not_before: datetime,
        at: datetime,
    ) -> None: ...
    def postpone(self, message_id: int, not_before: datetime) -> None: ...
    def get(self, message_id: int) -> OutboxMessage | None: ...
    def by_message_id(self, message_id: str) -> OutboxMessage | None: ...
    def claim(self, now: datetime, limit: int) -> list[OutboxMessage]: ...
    def in_doubt(self) -> list[OutboxMessage]: ...
    def mark(
        self,
        message_id: int,
        state: OutboxState,
        at: datetime,
        *,
        error: str = "",
        retry_at: datetime | None = None,
        relay: str = "",
        reply: str = "",
    ) -> None: ...
    def cancel(self, ids: Iterable[int]) -> None: ...
    def counts(self, ids_of_campaign: str) -> dict[str, int]: ...
    def errors(self, campaign_id: str, limit: int = 20) -> list[tuple[str, str, int]]: ...
    def receipt(self, message_id: str) -> str | None: ...
    def add_receipt(self, message_id: str, reply: str, at: datetime) -> None: ...


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving the block commits, an error rolls back."""

    @property
    def inventory(self) -> Inventory: ...
    @property
    def policies(self) -> Policies: ...
    @property
    def verdicts(self) -> Verdicts: ...
    @property
    def exemptions(self) -> Exemptions: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def tokens(self) -> Tokens: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def changes(self) -> Changes: ...
    @property
    def credentials(self) -> Credentials: ...
    @property
    def sessions(self) -> Sessions: ...
    @property
    def proposals(self) -> Proposals: ...
    @property
    def exemption_requests(self) -> ExemptionRequests: ...
    @property
    def console(self) -> ConsoleReads: ...
    @property
    def campaigns(self) -> Campaigns: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def decision_log(self) -> DecisionRecords: ...
    @property
    def campaign_pages(self) -> CampaignPages: ...
    @property
    def sources(self) -> Sources: ...
    @property
    def enrollments(self) -> Enrollments: ...
    @property
    def attestations(self) -> Attestations: ...
    def savepoint(self) -> AbstractContextManager[None]:
        """A nested step: an error inside rolls back only this step, then propagates."""
        ...


class Store(Protocol):
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...
    def read(self) -> AbstractContextManager[UnitOfWork]: ...
    def close(self) -> None: ...


class MailUnavailable(Exception):
    """The mail relay refused or could not be reached; the message says which and why."""


# -- mail ----------------------------------------------------------------------------------------


class DeliveryError(AppWardenError):
    """A relay did not accept a message. Temporary errors are retried with backoff."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailTransport(Protocol):
    """Hands finished messages to a relay (SMTP) or a folder (the file sink)."""

    name: str

    def open(self) -> None: ...
    def send(self, sender: str, recipient: str, message: bytes) -> str: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    locale: str


class NoticeRenderer(Protocol):
    """Turns one person's notices into a message (Jinja2 sandbox; adapters/notice_templates)."""

    def render(self, context: Mapping[str, Any]) -> Rendered: ...
    def digest(self) -> str: ...
    def locales(self) -> list[str]: ...
