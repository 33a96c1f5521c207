"""The ports services depend on, by area; every name is also importable from here.

Adapters implement them. Service tests run on the real SQLite adapter over a temporary file
(fast, and the real thing); the other systems have stand-ins shipped beside their adapters: a
fixed clock (adapters/clock.py), a file-sink mail transport (adapters/mail/file_sink.py).
"""

from appwarden.services.ports.access import (
    Account,
    Accounts,
    ApiToken,
    ConsoleSession,
    Credentials,
    MagicLink,
    PasswordHasher,
    Sessions,
    Tokens,
)
from appwarden.services.ports.compliance import (
    AuditLog,
    ChangeRecorder,
    Changes,
    Exemptions,
    Policies,
    StoredPolicy,
    Verdicts,
)
from appwarden.services.ports.console import (
    CampaignPages,
    ConsoleReads,
    ExemptionRequest,
    ExemptionRequests,
    Page,
    PolicyProposal,
    Proposals,
    StoredPreview,
)
from appwarden.services.ports.gateways import DecisionRecords, LoggedDecision
from appwarden.services.ports.inventory import (
    Attestations,
    DeviceChange,
    DeviceCredential,
    EnrollmentCode,
    Enrollments,
    Inventory,
    Progress,
    Sources,
    StoredConflict,
    StoredSource,
)
from appwarden.services.ports.notices import (
    Campaigns,
    DeliveryError,
    Mailer,
    MailTransport,
    MailUnavailable,
    NoticeRenderer,
    Outbox,
    OutgoingMail,
    Rendered,
)
from appwarden.services.ports.store import Store, UnitOfWork

__all__ = [
    "Account",
    "Accounts",
    "ApiToken",
    "Attestations",
    "AuditLog",
    "CampaignPages",
    "Campaigns",
    "ChangeRecorder",
    "Changes",
    "ConsoleReads",
    "ConsoleSession",
    "Credentials",
    "DecisionRecords",
    "DeliveryError",
    "DeviceChange",
    "DeviceCredential",
    "EnrollmentCode",
    "Enrollments",
    "ExemptionRequest",
    "ExemptionRequests",
    "Exemptions",
    "Inventory",
    "LoggedDecision",
    "MagicLink",
    "MailTransport",
    "MailUnavailable",
    "Mailer",
    "NoticeRenderer",
    "Outbox",
    "OutgoingMail",
    "Page",
    "PasswordHasher",
    "Policies",
    "PolicyProposal",
    "Progress",
    "Proposals",
    "Rendered",
    "Sessions",
    "Sources",
    "Store",
    "StoredConflict",
    "StoredPolicy",
    "StoredPreview",
    "StoredSource",
    "Tokens",
    "UnitOfWork",
    "Verdicts",
]
