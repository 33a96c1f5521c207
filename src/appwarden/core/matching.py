"""Does an installed app fall under a policy's barred-apps rule, and why?

`BarredApps` compiles a rule once against the catalog; `match` then answers per app in a few dict
lookups. Exact ids and catalog facts give high-confidence matches; a match that rests only on a
name or on a publisher string reported by an MDM is low confidence and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import translate

from appwarden.core.catalog import Catalog, CatalogApp
from appwarden.core.inventory import AppKey, AppRef
from appwarden.core.policy import AppMatcher, MatchKind


class Confidence(StrEnum):
    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class AppMatch:
    matcher: AppMatcher
    confidence: Confidence
    catalog_app: str = ""  # key of the catalog entry that explains the match, if any

    def explain(self) -> str:
        why = self.matcher.describe()
        if self.catalog_app:
            why += f" (catalog: {self.catalog_app})"
        if self.confidence is Confidence.LOW:
            why += " [low confidence]"
        return why


class BarredApps:
    """A compiled barred-apps rule."""

    def __init__(self, matchers: tuple[AppMatcher, ...], catalog: Catalog) -> None:
        self.matchers = matchers
        self.catalog = catalog
        self._patterns = [
            (m, re.compile(translate(m.value))) for m in matchers if m.kind is MatchKind.PATTERN
        ]
        self._names = {m.value.casefold(): m for m in matchers if m.kind is MatchKind.NAME}
        self._company_rule = self._companies_matched(catalog)
        self._build_prefilter(catalog)

    def _build_prefilter(self, catalog: Catalog) -> None:
        """Sets that let `match` reject most apps in a few lookups (same answers, much faster)."""
        self._ids = {m.value for m in self.matchers if m.kind is MatchKind.ID}
        self._catalog_ids: set[str] = set()
        self._catalog_names: set[str] = set()
        for entry in catalog.apps.values():
            self._catalog_names.add(entry.name.casefold())
            if entry.name.casefold() in self._names or entry.publisher in self._company_rule:
                self._catalog_ids.update(i.ref.identifier for i in entry.identifiers)
        self._publisher_labels = {
            label.casefold()
            for key in self._company_rule
            for company in (catalog.companies[key],)
            for label in (company.key, company.name, *company.aliases)
        }

    def _companies_matched(self, catalog: Catalog) -> dict[str, AppMatcher]:
        """company key -> the first matcher that bars its apps."""
        out: dict[str, AppMatcher] = {}
        for matcher in self.matchers:
            for company in catalog.companies.values():
                if company.key in out:
                    continue
                lineage = catalog.lineage(company.key)
                if matcher.kind is MatchKind.PUBLISHER:
                    target = catalog.company(matcher.value)
                    if target is not None and target.key == company.key:
                        out[company.key] = matcher
                elif matcher.kind is MatchKind.PARENT:
                    target = catalog.company(matcher.value)
                    if target is not None and any(c.key == target.key for c in lineage):
                        out[company.key] = matcher
                elif matcher.kind is MatchKind.JURISDICTION and any(
                    _in_jurisdiction(c.jurisdiction, matcher.value) for c in lineage
                ):
                    out[company.key] = matcher
        return out

    @property
    def is_empty(self) -> bool:
        return not self.matchers

    def catalog_refs(self) -> list[AppRef]:
        """Every catalog identifier this rule bars (for blast radius and warnings)."""
        return [
            ref
            for ref in self.catalog.refs()
            if self.match(AppKey(ref.platform, ref.identifier, ""))
        ]

    def match(self, key: AppKey, name: str = "", publisher: str = "") -> AppMatch | None:
        if not self.matchers:
            return None
        if key.identifier:
            if not self._could_match_ref(key.identifier, name, publisher):
                return None
            return self._match_ref(key, name, publisher)
        name = name or key.name_folded
        folded = name.casefold()
        if folded not in self._names and folded not in self._catalog_names:
            return None
        return self._match_name_only(key, name)

    @property
    def has_patterns(self) -> bool:
        return bool(self._patterns)

    def candidate_identifiers(self) -> set[str]:
        """Identifiers that can match without looking at names or publishers."""
        return self._ids | self._catalog_ids

    def candidate_names(self) -> set[str]:
        """Casefolded app names that can match (barred names and catalog app names)."""
        return set(self._names) | self._catalog_names

    def candidate_publishers(self) -> set[str]:
        return set(self._publisher_labels)

    def _could_match_ref(self, identifier: str, name: str, publisher: str) -> bool:
        return bool(
            identifier in self._ids
            or identifier in self._catalog_ids
            or self._patterns
            or (name and name.casefold() in self._names)
            or (publisher and publisher.casefold() in self._publisher_labels)
        )

    def _platform_ok(self, matcher: AppMatcher, key: AppKey) -> bool:
        return matcher.platform is None or matcher.platform is key.platform

    def _match_ref(self, key: AppKey, name: str, publisher: str) -> AppMatch | None:
        ref = AppRef(key.platform, key.identifier)
        entry = self.catalog.app_for(ref)
        for matcher in self.matchers:
            if not self._platform_ok(matcher, key):
                continue
            if matcher.kind is MatchKind.ID and matcher.value == key.identifier:
                return AppMatch(matcher, Confidence.HIGH, entry.key if entry else "")
        for matcher, regex in self._patterns:
            if self._platform_ok(matcher, key) and regex.match(key.identifier):
                return AppMatch(matcher, Confidence.HIGH, entry.key if entry else "")
        if entry is not None:
            found = self._by_catalog_entry(entry, key)
            if found is not None:
                return AppMatch(found, Confidence.HIGH, entry.key)
        return self._match_reported(key, name, publisher)

    def _by_catalog_entry(self, entry: CatalogApp, key: AppKey) -> AppMatcher | None:
        by_name = self._names.get(entry.name.casefold())
        if by_name is not None and self._platform_ok(by_name, key):
            return by_name
        matcher = self._company_rule.get(entry.publisher)
        if matcher is not None and self._platform_ok(matcher, key):
            return matcher
        return None

    def _match_reported(self, key: AppKey, name: str, publisher: str) -> AppMatch | None:
        """Facts an MDM reported (display name, publisher string) without catalog backing."""
        by_name = self._names.get(name.casefold()) if name else None
        if by_name is not None and self._platform_ok(by_name, key):
            return AppMatch(by_name, Confidence.LOW)
        if publisher:
            company = self.catalog.company(publisher)
            matcher = self._company_rule.get(company.key) if company else None
            if matcher is not None and self._platform_ok(matcher, key):
                return AppMatch(matcher, Confidence.LOW)
        return None

    def _match_name_only(self, key: AppKey, name: str) -> AppMatch | None:
        """A row with no identifier: match through catalog apps of that name, low confidence."""
        by_name = self._names.get(name.casefold())
        if by_name is not None and self._platform_ok(by_name, key):
            return AppMatch(by_name, Confidence.LOW)
        for entry in self.catalog.apps_named(name):
            for ident in entry.identifiers:
                probe = AppKey(ident.ref.platform, ident.ref.identifier, "")
                if key.platform.value != "other" and ident.ref.platform is not key.platform:
                    continue
                found = self._match_ref(probe, "", "")
                if found is not None:
                    return AppMatch(found.matcher, Confidence.LOW, entry.key)
        return None


def _in_jurisdiction(company_code: str, wanted: str) -> bool:
    """`US` matches `US` and `US-TX`; `US-TX` matches only `US-TX`."""
    if not company_code:
        return False
    return company_code == wanted or company_code.startswith(wanted + "-")
