"""The app catalog: app -> publisher -> parent company -> jurisdiction, each link with provenance.

Policies name what a law or a security team names ("any app of ByteDance or its subsidiaries",
"apps controlled from CN"); the catalog turns those names into app identifiers. Every link records
where the fact came from and when, because ownership changes and lists have errors.

`catalog_from_data` builds a `Catalog` from plain data (the parsed YAML file) and reports every
problem with its path in the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from appwarden.core.errors import CatalogInvalid, Problem
from appwarden.core.inventory import AppPlatform, AppRef

ID_STATUSES = ("verified", "third_party", "uncertain")


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str
    date: date | None = None
    status: str = "verified"


@dataclass(frozen=True, slots=True)
class Company:
    key: str
    name: str
    aliases: tuple[str, ...] = ()
    jurisdiction: str = ""
    jurisdiction_source: Provenance | None = None
    parent: str = ""
    parent_source: Provenance | None = None


@dataclass(frozen=True, slots=True)
class CatalogId:
    ref: AppRef
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class CatalogApp:
    key: str
    name: str
    publisher: str = ""
    publisher_source: Provenance | None = None
    identifiers: tuple[CatalogId, ...] = ()
    named_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ban:
    key: str
    jurisdiction: str
    date: date | None
    instrument: str
    scope: str = ""
    source: str = ""


@dataclass(frozen=True)
class Catalog:
    companies: Mapping[str, Company] = field(default_factory=dict)
    apps: Mapping[str, CatalogApp] = field(default_factory=dict)
    bans: Mapping[str, Ban] = field(default_factory=dict)
    sources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    _by_ref: dict[AppRef, CatalogApp] = field(default_factory=dict, repr=False)
    _by_name: dict[str, tuple[CatalogApp, ...]] = field(default_factory=dict, repr=False)
    _company_by_name: dict[str, Company] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_name: dict[str, list[CatalogApp]] = {}
        for app in self.apps.values():
            for ident in app.identifiers:
                self._by_ref[ident.ref] = app
            by_name.setdefault(app.name.casefold(), []).append(app)
        self._by_name.update({k: tuple(v) for k, v in by_name.items()})
        for company in self.companies.values():
            for label in (company.key, company.name, *company.aliases):
                self._company_by_name.setdefault(label.casefold(), company)

    # -- lookups ---------------------------------------------------------------------------------
    def app_for(self, ref: AppRef) -> CatalogApp | None:
        return self._by_ref.get(ref)

    def apps_named(self, name: str) -> tuple[CatalogApp, ...]:
        return self._by_name.get(name.strip().casefold(), ())

    def company(self, name_or_key: str) -> Company | None:
        return self._company_by_name.get(name_or_key.strip().casefold())

    def lineage(self, company_key: str) -> tuple[Company, ...]:
        """The company and its parents, nearest first (cycle-safe)."""
        chain: list[Company] = []
        seen: set[str] = set()
        key = company_key
        while key and key not in seen and key in self.companies:
            seen.add(key)
            company = self.companies[key]
            chain.append(company)
            key = company.parent
        return tuple(chain)

    def publisher_lineage(self, app: CatalogApp) -> tuple[Company, ...]:
        return self.lineage(app.publisher) if app.publisher else ()

    def refs(self) -> Iterable[AppRef]:
        return self._by_ref.keys()


EMPTY_CATALOG = Catalog()


# -- building from data -------------------------------------------------------------------------
class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(message, field=path, fix=fix))

    def text(self, data: Mapping[str, Any], key: str, path: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.fail(f"{path}.{key}", "is missing", f"add `{key}:`")
            return ""
        return str(value)

    def day(self, value: Any, path: str) -> date | None:
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(path, f"{value!r} is not a date", "write YYYY-MM-DD")
            return None

    def provenance(self, data: Any, path: str, sources: Mapping[str, Any]) -> Provenance | None:
        if data is None:
            return None
        if not isinstance(data, Mapping):
            self.fail(
                path,
                "must be a mapping with source and date",
                "write {source: <key>, date: YYYY-MM-DD}",
            )
            return None
        source = str(data.get("source", ""))
        if source and source not in sources:
            self.fail(f"{path}.source", f"names unknown source {source!r}", "add it under sources:")
        status = str(data.get("status", "verified"))
        if status not in ID_STATUSES:
            self.fail(f"{path}.status", f"{status!r} is not a status", f"use {ID_STATUSES}")
        return Provenance(source, self.day(data.get("date"), f"{path}.date"), status)


def catalog_from_data(data: Mapping[str, Any], origin: str = "catalog") -> Catalog:
    """Validate and build a catalog; raise CatalogInvalid listing every problem found."""
    reader = _Reader()
    sources = data.get("sources") or {}
    companies = _read_companies(reader, data.get("companies") or [], sources)
    apps = _read_apps(reader, data.get("apps") or [], sources, companies)
    bans = _read_bans(reader, data.get("bans") or [])
    for app in apps.values():
        for ban in app.named_in:
            if ban not in bans:
                fix = "add it under bans: or remove it from named_in"
                reader.fail(f"apps.{app.key}.named_in", f"names unknown ban {ban!r}", fix)
    if reader.problems:
        raise CatalogInvalid([Problem(p.message, p.field, p.fix, origin) for p in reader.problems])
    return Catalog(companies=companies, apps=apps, bans=bans, sources=dict(sources))


def merge_catalogs(base: Catalog, extra: Catalog) -> Catalog:
    """A local catalog adds to (and overrides by key) the shipped one."""
    return Catalog(
        companies={**base.companies, **extra.companies},
        apps={**base.apps, **extra.apps},
        bans={**base.bans, **extra.bans},
        sources={**base.sources, **extra.sources},
    )


def _read_companies(
    reader: _Reader, rows: list[Any], sources: Mapping[str, Any]
) -> dict[str, Company]:
    out: dict[str, Company] = {}
    for i, row in enumerate(rows):
        path = f"companies[{i}]"
        if not isinstance(row, Mapping):
            reader.fail(path, "must be a mapping", "write `- key: ...` then `name: ...`")
            continue
        key = reader.text(row, "key", path)
        juris = row.get("jurisdiction") or {}
        parent = row.get("parent") or {}
        company = Company(
            key=key,
            name=reader.text(row, "name", path),
            aliases=tuple(str(a) for a in row.get("aliases") or ()),
            jurisdiction=str(juris.get("value", "")).upper() if isinstance(juris, Mapping) else "",
            jurisdiction_source=reader.provenance(juris or None, f"{path}.jurisdiction", sources),
            parent=str(parent.get("company", "")) if isinstance(parent, Mapping) else "",
            parent_source=reader.provenance(parent or None, f"{path}.parent", sources),
        )
        if key in out:
            reader.fail(
                f"{path}.key", f"duplicate company key {key!r}", "give each company its own key"
            )
        out[key] = company
    for company in out.values():
        if company.parent and company.parent not in out:
            reader.fail(
                f"companies.{company.key}.parent",
                f"unknown company {company.parent!r}",
                "add that company under companies: or name an existing key",
            )
    return out


def _read_apps(
    reader: _Reader, rows: list[Any], sources: Mapping[str, Any], companies: Mapping[str, Company]
) -> dict[str, CatalogApp]:
    out: dict[str, CatalogApp] = {}
    seen_refs: dict[AppRef, str] = {}
    for i, row in enumerate(rows):
        path = f"apps[{i}]"
        if not isinstance(row, Mapping):
            reader.fail(path, "must be a mapping", "write `- key: ...` then `name: ...`")
            continue
        key = reader.text(row, "key", path)
        publisher = row.get("publisher") or {}
        pub_key = str(publisher.get("company", "")) if isinstance(publisher, Mapping) else ""
        if pub_key and pub_key not in companies:
            reader.fail(
                f"{path}.publisher.company",
                f"unknown company {pub_key!r}",
                "add that company under companies: or name an existing key",
            )
        idents = []
        for j, ident in enumerate(row.get("identifiers") or []):
            ipath = f"{path}.identifiers[{j}]"
            try:
                ref = AppRef.of(AppPlatform(str(ident.get("platform"))), str(ident.get("id", "")))
            except (ValueError, AttributeError) as exc:
                reader.fail(ipath, f"bad identifier: {exc}", "platform: android|ios, id: <app id>")
                continue
            if ref in seen_refs:
                reader.fail(
                    ipath,
                    f"{ref} also listed under app {seen_refs[ref]!r}",
                    "list each identifier under one app only",
                )
            seen_refs[ref] = key
            prov = reader.provenance(ident, ipath, sources) or Provenance("")
            idents.append(CatalogId(ref, prov))
        app = CatalogApp(
            key=key,
            name=reader.text(row, "name", path),
            publisher=pub_key,
            publisher_source=reader.provenance(publisher or None, f"{path}.publisher", sources),
            identifiers=tuple(idents),
            named_in=tuple(str(b) for b in row.get("named_in") or ()),
        )
        if key in out:
            reader.fail(f"{path}.key", f"duplicate app key {key!r}", "give each app its own key")
        out[key] = app
    return out


def _read_bans(reader: _Reader, rows: list[Any]) -> dict[str, Ban]:
    out: dict[str, Ban] = {}
    for i, row in enumerate(rows):
        path = f"bans[{i}]"
        if not isinstance(row, Mapping):
            reader.fail(path, "must be a mapping", "write `- key: ...` then `jurisdiction: ...`")
            continue
        key = reader.text(row, "key", path)
        out[key] = Ban(
            key=key,
            jurisdiction=reader.text(row, "jurisdiction", path),
            date=reader.day(row.get("date"), f"{path}.date"),
            instrument=reader.text(row, "instrument", path),
            scope=str(row.get("scope", "")),
            source=str(row.get("source", "")),
        )
    return out
