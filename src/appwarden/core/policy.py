"""Policies: which apps, for whom, why, by when, and what happens after.

A policy is a value. Parsing from a YAML file lives in `policy_spec`; versions (who applied it,
when it was published, the resolved deadline) live in `PolicyVersion`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from appwarden.core.inventory import AppPlatform, Ownership, Platform


class Action(StrEnum):
    """What happens to a failing device after the deadline."""

    BLOCK_MAIL = "block_mail"  # mail gateways deny the device
    WARN = "warn"  # mail keeps working; the employee is warned
    REPORT = "report"  # nothing visible; decisions log what would have been denied (dry run)


class UnknownMode(StrEnum):
    """What a device whose apps cannot be seen must do."""

    ALLOW = "allow"  # stays `unknown`, never enforced
    ATTEST = "attest"  # enforced at the deadline unless the employee attests
    BLOCK = "block"  # enforced at the deadline


class MatchKind(StrEnum):
    ID = "id"
    PATTERN = "pattern"
    NAME = "name"
    PUBLISHER = "publisher"
    PARENT = "parent"  # the company and every company it owns, directly or not
    JURISDICTION = "jurisdiction"  # a company in this jurisdiction publishes or controls it


@dataclass(frozen=True, slots=True)
class AppMatcher:
    kind: MatchKind
    value: str
    platform: AppPlatform | None = None

    def describe(self) -> str:
        where = f" on {self.platform.value}" if self.platform else ""
        return f"{self.kind.value} {self.value}{where}"


@dataclass(frozen=True, slots=True)
class Scope:
    platforms: frozenset[Platform] = frozenset()  # empty: every platform
    ownership: frozenset[Ownership] = frozenset()  # empty: every ownership
    mail_access_only: bool = True  # only devices that reach corporate mail
    departments: frozenset[str] = frozenset()  # empty: every department
    groups: frozenset[str] = frozenset()  # empty: everyone; else member of any
    exclude_departments: frozenset[str] = frozenset()
    exclude_groups: frozenset[str] = frozenset()

    @property
    def is_everyone(self) -> bool:
        return not (
            self.platforms
            or self.ownership
            or self.departments
            or self.groups
            or self.exclude_departments
            or self.exclude_groups
        )


@dataclass(frozen=True, slots=True)
class Rule:
    barred: tuple[AppMatcher, ...] = ()
    minimum_os: Mapping[Platform, tuple[int, ...]] = field(default_factory=dict)
    minimum_android_patch: date | None = None
    maximum_patch_age: timedelta | None = None

    @property
    def checks_apps(self) -> bool:
        return bool(self.barred)

    @property
    def checks_os(self) -> bool:
        return bool(self.minimum_os or self.minimum_android_patch or self.maximum_patch_age)


@dataclass(frozen=True, slots=True)
class Deadline:
    at: datetime | None = None  # absolute instant (UTC)
    timezone: str = "UTC"  # the zone the author wrote it in (for display)
    after_publication: timedelta | None = None  # lead time after the version is published
    late_grace: timedelta | None = None  # devices failing after the deadline get this long

    def resolve(self, published_at: datetime | None) -> datetime | None:
        if self.at is not None:
            return self.at
        if self.after_publication is not None and published_at is not None:
            return published_at + self.after_publication
        return None


@dataclass(frozen=True, slots=True)
class Policy:
    slug: str
    title: Mapping[str, str]
    reason: Mapping[str, str]
    owner: str
    scope: Scope
    rule: Rule
    deadline: Deadline
    action: Action = Action.BLOCK_MAIL
    unknown: UnknownMode = UnknownMode.ATTEST
    remediation: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""

    def text(self, field_name: str, locale: str) -> str:
        """A localised field, falling back to English, then to any locale present."""
        values: Mapping[str, str] = getattr(self, field_name)
        base = locale.split("-")[0].split("_")[0]
        for candidate in (locale, base, "en"):
            if candidate in values:
                return values[candidate]
        return next(iter(values.values()), "")


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """A policy as applied: numbered, attributed, with its deadline resolved to an instant."""

    policy: Policy
    version: int
    published_at: datetime
    deadline_at: datetime | None
    applied_by: str = ""
    reason: str = ""
    digest: str = ""  # sha256 of the canonical spec

    @property
    def slug(self) -> str:
        return self.policy.slug
