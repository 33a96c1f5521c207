"""Several sources, one device: what each source reported, and how the reports merge.

A `SourceReport` is one source's view of one device at one instant (an Intune export row, a Jamf
record, an agent check-in). What we keep per (device, source) is its `SourceFacts`: the last known
value of each field, the mail identities, what the source can see of the apps, and when.

Merging (`merge_facts`) is a pure function of the stored facts:

* Reports older than the freshest one by more than the *window* are *outdated*: they count for a
  field only when no current report knows it.
* Per field, the value of the current report whose source ranks first in the *precedence* list
  wins; between equal ranks, the fresher report wins. Every other current source that knows a
  different value is recorded as a `FieldConflict`: visible, never silently overwritten.
* Mail identities are the union of the current reports'; visibility is the best current one.
* Apps (`merge_apps`): when some current source sees every app, the freshest such list is the
  device's (an app removed since an older report is gone), plus what managed-only views at
  least as fresh add; an older full list that disagrees is a conflict on `apps`. Without a
  full view, the union of the current lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from appwarden.core.inventory import (
    AppKey,
    Device,
    InstalledApp,
    MailIdentities,
    Ownership,
    Platform,
    Visibility,
)
from appwarden.core.visibility import Enrollment, visibility_for

FIELDS = (
    "owner",
    "platform",
    "ownership",
    "os_version",
    "android_patch",
    "name",
    "model",
    "serial",
    "mail_access",
)
_VISIBILITY_RANK = {Visibility.NONE: 0, Visibility.MANAGED: 1, Visibility.ALL: 2}
_JUNK_SERIALS = frozenset({"", "UNKNOWN", "NONE", "NULL", "N/A", "NA", "0", "DEFAULT"})


def normal_serial(value: str) -> str:
    """Serial numbers compared upper-case without spaces; placeholders count as none."""
    text = "".join(value.split()).upper()
    return "" if text in _JUNK_SERIALS or len(text) < 4 or set(text) == {"0"} else text


def normal_imei(value: str) -> str:
    """IMEIs compared on their first 14 digits (the check digit is optional in exports)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[:14] if len(digits) >= 14 and set(digits) != {"0"} else ""


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One source's view of one device. `device.key` may be empty: matching assigns it."""

    source: str
    device: Device
    source_id: str = ""  # the device's id in that source (Intune id, Jamf id, AMAPI name)
    observed_at: datetime | None = None  # when the source last heard from the device
    imei: tuple[str, ...] = ()
    apps_known: bool = True  # False: this report says nothing about apps (leave them alone)
    enrollment: Enrollment | None = None  # None: `device.visibility` is as given (our formats)

    def hardware_keys(self) -> list[tuple[str, str]]:
        """Identifiers that name the same physical device in every source."""
        keys = []
        serial = normal_serial(self.device.serial)
        if serial:
            keys.append(("serial", serial))
        for raw in self.imei:
            imei = normal_imei(raw)
            if imei:
                keys.append(("imei", imei))
        return keys


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What one source last said about one device."""

    source: str
    observed_at: datetime
    values: Mapping[str, str] = field(default_factory=dict)  # FIELDS -> text, "" unknown
    identities: tuple[str, ...] = ()  # mail identity keys ("eas:...")
    visibility: Visibility | None = None  # None: the source never said anything about apps
    source_id: str = ""

    def value(self, name: str) -> str:
        return self.values.get(name, "")


@dataclass(frozen=True, slots=True, order=True)
class FieldConflict:
    field: str
    chosen: str
    chosen_source: str
    others: tuple[tuple[str, str], ...]  # (source, value) of current sources that disagree


@dataclass(frozen=True, slots=True)
class Merged:
    values: dict[str, str]
    identities: tuple[str, ...]
    visibility: Visibility
    last_seen: datetime
    current: frozenset[str]  # sources whose reports are not outdated
    chosen_from: dict[str, str]  # field -> source
    conflicts: tuple[FieldConflict, ...]


@dataclass(frozen=True, slots=True)
class MergeRules:
    precedence: tuple[str, ...] = ()
    window: timedelta = timedelta(days=7)

    def rank(self, source: str) -> int:
        try:
            return self.precedence.index(source)
        except ValueError:
            return len(self.precedence)


def facts_of(report: SourceReport, observed: datetime) -> SourceFacts:
    device = report.device
    values = {
        "owner": (device.owner or "").lower(),
        "platform": device.platform.value,
        "ownership": "" if device.ownership is Ownership.UNKNOWN else device.ownership.value,
        "os_version": device.os_version,
        "android_patch": device.android_patch.isoformat() if device.android_patch else "",
        "name": device.name,
        "model": device.model,
        "serial": device.serial,
        "mail_access": "1" if device.reaches_mail else "",
        "imei": ",".join(sorted({normal_imei(i) for i in report.imei} - {""})),  # kept, not merged
        "enrollment": "" if report.enrollment in (None, Enrollment.UNKNOWN) else report.enrollment,
    }
    return SourceFacts(
        report.source,
        observed,
        {k: v for k, v in values.items() if v},
        device.mail.identity_keys(),
        device.visibility if report.apps_known else None,
        report.source_id,
    )


def with_visibility(facts: SourceFacts, report: SourceReport) -> SourceFacts:
    """For MDM reports, what the source can see follows from its enrolment and the ownership
    it knows (possibly from an earlier report of the same source), not from the record."""
    if report.enrollment is None or facts.visibility is None or not report.apps_known:
        return facts
    enrollment = Enrollment(facts.value("enrollment") or "unknown")
    ownership = Ownership(facts.value("ownership") or "unknown")
    seen = visibility_for(report.source, enrollment, ownership, True, report.device.visibility)
    return replace(facts, visibility=seen)


def overlay(old: SourceFacts | None, new: SourceFacts) -> SourceFacts:
    """A new report from the same source: known values replace, unknown ones keep the old."""
    if old is None:
        return new
    return replace(
        new,
        values={**old.values, **new.values},
        identities=new.identities or old.identities,
        visibility=new.visibility if new.visibility is not None else old.visibility,
        source_id=new.source_id or old.source_id,
    )


def merge_facts(facts: Sequence[SourceFacts], rules: MergeRules) -> Merged:
    if not facts:
        raise ValueError("nothing to merge")
    newest = max(f.observed_at for f in facts)
    current = [f for f in facts if f.observed_at >= newest - rules.window]
    outdated = [f for f in facts if f not in current]
    values: dict[str, str] = {}
    chosen_from: dict[str, str] = {}
    conflicts: list[FieldConflict] = []
    for name in FIELDS:
        pool = [f for f in current if f.value(name)] or [f for f in outdated if f.value(name)]
        if not pool:
            continue
        pool.sort(key=lambda f: (rules.rank(f.source), -f.observed_at.timestamp(), f.source))
        winner = pool[0]
        values[name] = winner.value(name)
        chosen_from[name] = winner.source
        others = tuple(
            (f.source, f.value(name))
            for f in pool[1:]
            if f in current and _differs(name, f.value(name), values[name])
        )
        if others:
            conflicts.append(FieldConflict(name, values[name], winner.source, others))
    seen = [f for f in current if f.visibility is not None] or [
        f for f in facts if f.visibility is not None
    ]
    visibility = max(
        (f.visibility for f in seen if f.visibility is not None),
        key=_VISIBILITY_RANK.__getitem__,
        default=Visibility.NONE,
    )
    identities = sorted({i for f in current for i in f.identities})
    return Merged(
        values,
        tuple(identities),
        visibility,
        newest,
        frozenset(f.source for f in current),
        chosen_from,
        tuple(conflicts),
    )


def merge_one(facts: SourceFacts) -> Merged:
    """`merge_facts` of a device with a single source (the common, fast case)."""
    return Merged(
        dict(facts.values),
        facts.identities,
        facts.visibility or Visibility.NONE,
        facts.observed_at,
        frozenset({facts.source}),
        {},
        (),
    )


def _differs(name: str, a: str, b: str) -> bool:
    if name == "serial":
        return normal_serial(a) != normal_serial(b)
    if name in ("owner", "model", "name"):
        return a.casefold() != b.casefold()
    return a != b


def merge_apps(
    lists: Mapping[str, Iterable[InstalledApp]],
    sees_all: Iterable[str],
    rules: MergeRules,
    observed: Mapping[str, datetime] | None = None,
    latest: str = "",
) -> tuple[frozenset[InstalledApp], FieldConflict | None]:
    """The device's apps from the current sources' lists (see the module docstring).

    `observed` says when each source reported; `latest` is the report being applied now,
    which wins a tie in freshness (the later of two reports of the same instant).
    """
    if len(lists) == 1:  # one current source: its list is the device's (the common case)
        return frozenset(next(iter(lists.values()))), None
    when = observed or {}
    full = [s for s in sees_all if s in lists]
    if not full:
        chosen: dict[AppKey, InstalledApp] = {}
        for source in sorted(lists, key=lambda s: (-rules.rank(s), s)):
            chosen.update((app.key, app) for app in lists[source])
        return frozenset(chosen.values()), None
    lead = max(full, key=lambda s: (when.get(s, _EPOCH), s == latest, -rules.rank(s), s))
    chosen = {app.key: app for app in lists[lead]}
    for source in sorted(set(lists) - set(full)):  # managed-only views as fresh as the lead
        if when.get(source, _EPOCH) >= when.get(lead, _EPOCH):
            for app in lists[source]:
                chosen.setdefault(app.key, app)
    return frozenset(chosen.values()), _apps_conflict(lead, chosen, full, lists)


def _apps_conflict(
    lead: str,
    chosen: Mapping[AppKey, InstalledApp],
    full: Sequence[str],
    lists: Mapping[str, Iterable[InstalledApp]],
) -> FieldConflict | None:
    others = []
    for source in sorted(s for s in full if s != lead):
        keys = {app.key for app in lists[source]}
        parts = [
            (verb, sorted(_label(k) for k in diff))
            for verb, diff in (("also lists", keys - set(chosen)), ("lacks", set(chosen) - keys))
            if diff
        ]
        if parts:
            others.append((source, "; ".join(f"{verb} {_shorten(names)}" for verb, names in parts)))
    if not others:
        return None
    return FieldConflict("apps", f"{len(chosen)} apps as {lead} reported", lead, tuple(others))


def _shorten(names: list[str]) -> str:
    extra = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return ", ".join(names[:10]) + extra


def _label(key: AppKey) -> str:
    return f"{key.platform.value}:{key.identifier}" if key.identifier else f"name:{key.name_folded}"


def device_of(
    key: str, merged: Merged, apps: frozenset[InstalledApp], previous: Device | None = None
) -> Device:
    """The merged domain device (with `previous` filling what no source reported)."""
    v = merged.values
    platform = Platform(v["platform"]) if v.get("platform") else None
    if platform is None:
        platform = previous.platform if previous else Platform.OTHER
    patch = v.get("android_patch")
    return Device(
        key=key,
        platform=platform,
        owner=v.get("owner") or None,
        ownership=Ownership(v["ownership"]) if v.get("ownership") else Ownership.UNKNOWN,
        visibility=merged.visibility,
        os_version=v.get("os_version", ""),
        android_patch=date.fromisoformat(patch) if patch else None,
        mail=_mail(merged.identities),
        has_mail_access=v.get("mail_access") == "1" or bool(merged.identities),
        apps=apps,
        name=v.get("name", ""),
        model=v.get("model", ""),
        serial=v.get("serial", ""),
        last_seen=merged.last_seen,
    )


def _mail(keys: Iterable[str]) -> MailIdentities:
    found: dict[str, list[str]] = {"eas": [], "cert": [], "imap": []}
    for key in keys:
        kind, _, value = key.partition(":")
        if kind in found:
            found[kind].append(value)
    return MailIdentities(tuple(found["eas"]), tuple(found["cert"]), tuple(found["imap"]))
