"""What we know about people, devices and the apps on them.

An app is an `AppRef`: `(app platform, identifier)`, the Android package name or the Apple bundle
id, matched exactly. iOS and iPadOS share one identifier space ("ios"); identifiers are trimmed but
never case-folded, because neither platform folds them. Rows that carry only an app *name* (some
MDM exports) become `InstalledApp` with no ref: they can still match, with low confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Platform(StrEnum):
    IOS = "ios"
    IPADOS = "ipados"
    ANDROID = "android"
    MACOS = "macos"
    WINDOWS = "windows"
    OTHER = "other"

    @property
    def app_space(self) -> AppPlatform:
        return _APP_SPACE[self]


class AppPlatform(StrEnum):
    """The identifier space an app id lives in."""

    __hash__ = str.__hash__  # Enum's own hash is a Python call; the value's is not

    ANDROID = "android"
    IOS = "ios"  # iOS and iPadOS bundle ids
    MACOS = "macos"
    WINDOWS = "windows"
    OTHER = "other"


_APP_SPACE = {
    Platform.IOS: AppPlatform.IOS,
    Platform.IPADOS: AppPlatform.IOS,
    Platform.ANDROID: AppPlatform.ANDROID,
    Platform.MACOS: AppPlatform.MACOS,
    Platform.WINDOWS: AppPlatform.WINDOWS,
    Platform.OTHER: AppPlatform.OTHER,
}

MOBILE_PLATFORMS = frozenset({Platform.IOS, Platform.IPADOS, Platform.ANDROID})


class Ownership(StrEnum):
    CORPORATE = "corporate"
    PERSONAL = "personal"
    UNKNOWN = "unknown"


class Visibility(StrEnum):
    """Which installed apps a source can see on a device."""

    ALL = "all"  # full inventory (corporate-owned, fully managed)
    MANAGED = "managed"  # only apps the MDM manages (user enrolment, BYOD work profile)
    NONE = "none"  # nothing (mail-only BYOD, app protection without enrolment)

    @property
    def sees_everything(self) -> bool:
        return self is Visibility.ALL


_ID_OK = re.compile(r"^[^\s/\\]+$")


@dataclass(frozen=True, slots=True, order=True)
class AppRef:
    platform: AppPlatform
    identifier: str

    @classmethod
    def of(cls, platform: str | AppPlatform | Platform, identifier: str) -> AppRef:
        """Build a ref from loosely typed input, normalising only what platforms normalise."""
        if isinstance(platform, Platform):
            space = platform.app_space
        else:
            text = str(platform).strip().lower()
            space = Platform(text).app_space if text in _PLATFORM_VALUES else AppPlatform(text)
        ident = identifier.strip()
        if not ident or not _ID_OK.match(ident):
            raise ValueError(f"{identifier!r} is not an app identifier (no spaces or slashes)")
        return cls(space, ident)

    def __str__(self) -> str:
        return f"{self.platform.value}:{self.identifier}"


_PLATFORM_VALUES = frozenset(p.value for p in Platform)


@dataclass(frozen=True, slots=True)
class InstalledApp:
    """One app seen on a device. `ref` is None for name-only rows (low confidence).

    Its hash and its dictionary key are computed once: a device's app set hashes every app,
    and fleets have tens of millions of (device, app) rows.
    """

    ref: AppRef | None
    name: str = ""
    version: str = ""
    publisher: str = ""
    space: AppPlatform = AppPlatform.OTHER  # identifier space of a name-only row
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _key: AppKey | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = (self.ref, self.name, self.version, self.publisher, self.space)
        object.__setattr__(self, "_hash", hash(fields))
        space = self.ref.platform if self.ref else self.space
        object.__setattr__(self, "_key", app_key(self.ref, self.name, space))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[InstalledApp], tuple[object, ...]]:
        # rebuilt, not restored: string hashes differ between processes
        return InstalledApp, (self.ref, self.name, self.version, self.publisher, self.space)

    @property
    def key(self) -> AppKey:
        assert self._key is not None
        return self._key


@dataclass(frozen=True, slots=True, order=True)
class AppKey:
    """Identity of an app in the inventory dictionary: its ref, or its name for name-only rows."""

    platform: AppPlatform
    identifier: str  # the app id, or "" for name-only rows
    name_folded: str  # casefolded name for name-only rows, "" otherwise
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.platform, self.identifier, self.name_folded)))

    def __hash__(self) -> int:  # dictionaries of apps are looked up millions of times
        return self._hash

    def __reduce__(self) -> tuple[type[AppKey], tuple[object, ...]]:
        return AppKey, (self.platform, self.identifier, self.name_folded)

    @property
    def ref(self) -> AppRef | None:
        return AppRef(self.platform, self.identifier) if self.identifier else None


def installed_app(
    ref: AppRef | None, name: str, version: str, publisher: str, space: AppPlatform, key: AppKey
) -> InstalledApp:
    """An InstalledApp whose key the caller already has (`app_key(ref, name, space)`): parsers
    that see the same app on many devices build its key once, not once per row."""
    app = object.__new__(InstalledApp)
    put = object.__setattr__
    put(app, "ref", ref)
    put(app, "name", name)
    put(app, "version", version)
    put(app, "publisher", publisher)
    put(app, "space", space)
    put(app, "_hash", hash((ref, name, version, publisher, space)))
    put(app, "_key", key)
    return app


def app_key(ref: AppRef | None, name: str, space: AppPlatform) -> AppKey:
    if ref is not None:
        return AppKey(ref.platform, ref.identifier, "")
    return AppKey(space, "", name.strip().casefold())


@dataclass(frozen=True, slots=True)
class MailIdentities:
    """How a device shows itself to mail gateways."""

    eas_device_ids: tuple[str, ...] = ()
    cert_fingerprints: tuple[str, ...] = ()
    imap_ids: tuple[str, ...] = ()

    def identity_keys(self) -> tuple[str, ...]:
        return (
            tuple(identity_key("eas", v) for v in self.eas_device_ids)
            + tuple(identity_key("cert", v) for v in self.cert_fingerprints)
            + tuple(identity_key("imap", v) for v in self.imap_ids)
        )

    def __bool__(self) -> bool:
        return bool(self.eas_device_ids or self.cert_fingerprints or self.imap_ids)


IDENTITY_KINDS = ("device", "eas", "cert", "imap", "user")


def normalise_fingerprint(value: str) -> str:
    """Certificate fingerprints in one form: lower-case hex, no colons or spaces."""
    return re.sub(r"[^0-9a-f]", "", value.lower())


def identity_key(kind: str, value: str) -> str:
    """The decision-index key for a mail identity."""
    if kind not in IDENTITY_KINDS:
        raise ValueError(f"unknown identity kind {kind!r}; use one of {', '.join(IDENTITY_KINDS)}")
    if kind == "cert":
        value = normalise_fingerprint(value)
    elif kind == "user":
        value = value.strip().lower()
    else:
        value = value.strip()
    return f"{kind}:{value}"


@dataclass(frozen=True, slots=True)
class Employee:
    email: str
    name: str = ""
    locale: str = "en"
    timezone: str = "UTC"
    department: str = ""
    country: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)
    manager: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    key: str
    platform: Platform
    owner: str | None = None  # employee email
    ownership: Ownership = Ownership.UNKNOWN
    visibility: Visibility = Visibility.ALL
    os_version: str = ""
    android_patch: date | None = None
    mail: MailIdentities = field(default_factory=MailIdentities)
    has_mail_access: bool = False  # reaches corporate mail (true whenever identities are known)
    apps: frozenset[InstalledApp] = field(default_factory=frozenset)
    name: str = ""
    model: str = ""
    serial: str = ""
    last_seen: datetime | None = None

    @property
    def reaches_mail(self) -> bool:
        return self.has_mail_access or bool(self.mail)

    def identity_keys(self) -> tuple[str, ...]:
        return (identity_key("device", self.key), *self.mail.identity_keys())


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """A device with its owner: everything assessment needs about one device."""

    device: Device
    owner: Employee | None


def parse_version(text: str) -> tuple[int, ...] | None:
    """'16.4.1' -> (16, 4, 1); 'Android 12' -> (12,); unreadable -> None."""
    match = re.search(r"\d+(?:\.\d+)*", text or "")
    if not match:
        return None
    return tuple(int(p) for p in match.group(0).split("."))


def version_at_least(have: tuple[int, ...], need: tuple[int, ...]) -> bool:
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))
