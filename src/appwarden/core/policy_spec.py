"""Policy files: plain data (parsed YAML) <-> `Policy`, with located, fixable problems.

The YAML loader (an adapter) gives us the data and a map from dotted paths (`scope.platforms[1]`)
to line numbers; every problem here names the file, the line, the field and the fix. The format
is documented in docs/policy-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from appwarden.core.errors import PolicyInvalid, Problem
from appwarden.core.inventory import Ownership, Platform, parse_version
from appwarden.core.policy import (
    Action,
    AppMatcher,
    Deadline,
    MatchKind,
    Policy,
    Rule,
    Scope,
    UnknownMode,
)
from appwarden.core.timeutil import (
    TimeFormatError,
    format_duration,
    is_zone,
    parse_duration,
    parse_instant,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
REQUIRED_LOCALES = ("en", "ar")
TOP_KEYS = (
    "slug",
    "title",
    "reason",
    "owner",
    "scope",
    "rule",
    "deadline",
    "after_deadline",
    "unknown",
    "remediation",
    "notes",
)
SCOPE_KEYS = (
    "platforms",
    "ownership",
    "mail_access",
    "departments",
    "groups",
    "exclude_departments",
    "exclude_groups",
)
RULE_KEYS = ("barred_apps", "minimum_os", "minimum_android_patch", "maximum_patch_age")
DEADLINE_KEYS = ("at", "timezone", "after_publication", "late_grace")
MATCH_KEYS = tuple(k.value for k in MatchKind)
MAX_SPAN = timedelta(days=3653)  # lead times, grace periods and patch ages: ten years at most


class _Ctx:
    def __init__(self, origin: str, lines: Mapping[str, int]) -> None:
        self.origin = origin
        self.lines = lines
        self.problems: list[Problem] = []

    def line_of(self, path: str) -> int | None:
        probe = path
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return self.lines.get("", None)

    def fail(self, path: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(message, path, fix, self.origin, self.line_of(path)))

    def unknown_keys(self, data: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                close = _closest(str(key), allowed)
                hint = f"did you mean `{close}`?" if close else f"allowed: {', '.join(allowed)}"
                self.fail(where, f"unknown field `{key}`", hint)

    def mapping(self, data: Any, path: str) -> Mapping[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.fail(
                path, "must be a mapping (key: value lines)", "indent `key: value` lines under it"
            )
            return {}
        return data

    def str_list(self, data: Any, path: str) -> list[str]:
        if data is None:
            return []
        if isinstance(data, str):
            return [data]
        if not isinstance(data, list) or not all(isinstance(x, str | int) for x in data):
            self.fail(path, "must be a list of names", "write e.g. [ios, android]")
            return []
        return [str(x) for x in data]


def _closest(word: str, choices: tuple[str, ...]) -> str:
    best, best_score = "", 0.0
    for choice in choices:
        common = len(set(word) & set(choice)) / max(len(set(word) | set(choice)), 1)
        if common > best_score:
            best, best_score = choice, common
    return best if best_score >= 0.6 else ""


def policy_from_data(
    data: Any, origin: str = "<policy>", lines: Mapping[str, int] | None = None
) -> Policy:
    """Validate a parsed policy document; raise PolicyInvalid naming every problem found."""
    ctx = _Ctx(origin, lines or {})
    if not isinstance(data, Mapping):
        ctx.fail("", "a policy file must be a YAML mapping", "start with `slug: my-policy`")
        raise PolicyInvalid(ctx.problems)
    ctx.unknown_keys(data, TOP_KEYS, "")
    slug = _slug(ctx, data.get("slug"))
    title = _localised(ctx, data.get("title"), "title")
    reason = _localised(ctx, data.get("reason"), "reason")
    owner = str(data.get("owner") or "")
    if not owner:
        ctx.fail("owner", "is missing", "name the accountable team or person, e.g. security@corp")
    scope = _scope(ctx, ctx.mapping(data.get("scope"), "scope"))
    rule = _rule(ctx, ctx.mapping(data.get("rule"), "rule"))
    deadline = _deadline(ctx, data.get("deadline"))
    action = _enum(ctx, data.get("after_deadline", "block_mail"), Action, "after_deadline")
    unknown = _enum(ctx, data.get("unknown", "attest"), UnknownMode, "unknown")
    remediation = _localised(ctx, data.get("remediation"), "remediation", required=False)
    if ctx.problems:
        raise PolicyInvalid(ctx.problems)
    return Policy(
        slug=slug,
        title=title,
        reason=reason,
        owner=owner,
        scope=scope,
        rule=rule,
        deadline=deadline,
        action=action or Action.BLOCK_MAIL,
        unknown=unknown or UnknownMode.ATTEST,
        remediation=remediation,
        notes=str(data.get("notes") or ""),
    )


def _slug(ctx: _Ctx, value: Any) -> str:
    slug = str(value or "")
    if not slug:
        ctx.fail("slug", "is missing", "add `slug: tiktok-mail` (lower-case letters, digits, -)")
    elif not SLUG.match(slug):
        ctx.fail("slug", f"{slug!r} is not a slug", "use 3-64 lower-case letters, digits and -")
    return slug


def _localised(ctx: _Ctx, value: Any, path: str, required: bool = True) -> dict[str, str]:
    if value is None:
        if required:
            ctx.fail(path, "is missing", f"add `{path}:` with `en:` and `ar:` texts")
        return {}
    if isinstance(value, str):
        if required:
            ctx.fail(
                path, "needs one text per locale", f"write `{path}:` then `en: ...` and `ar: ...`"
            )
        return {"en": value}
    if not isinstance(value, Mapping):
        ctx.fail(path, "must map locales to texts", "write `en: ...` and `ar: ...` under it")
        return {}
    out = {str(k): str(v).strip() for k, v in value.items() if v is not None}
    for locale, text in out.items():
        if not re.match(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$", locale):
            ctx.fail(f"{path}.{locale}", f"{locale!r} is not a locale", "use codes like en, ar, fr")
        if not text:
            ctx.fail(f"{path}.{locale}", "is empty", "write the text or remove the locale")
    if required:
        for locale in REQUIRED_LOCALES:
            if locale not in out:
                ctx.fail(
                    f"{path}.{locale}", f"the {locale!r} text is missing", f"add `{locale}: ...`"
                )
    return out


def _enum_set(ctx: _Ctx, value: Any, enum: type[Any], path: str) -> frozenset[Any]:
    out = set()
    for i, item in enumerate(ctx.str_list(value, path)):
        try:
            out.add(enum(item.lower()))
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            ctx.fail(f"{path}[{i}]", f"{item!r} is not allowed", f"use one of: {allowed}")
    return frozenset(out)


def _enum(ctx: _Ctx, value: Any, enum: type[Any], path: str) -> Any:
    try:
        return enum(str(value).lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        ctx.fail(path, f"{value!r} is not allowed", f"use one of: {allowed}")
        return None


def _scope(ctx: _Ctx, data: Mapping[str, Any]) -> Scope:
    ctx.unknown_keys(data, SCOPE_KEYS, "scope")
    mail = str(data.get("mail_access", "required")).lower()
    if mail not in ("required", "any"):
        ctx.fail("scope.mail_access", f"{mail!r} is not allowed", "use `required` or `any`")
    return Scope(
        platforms=_enum_set(ctx, data.get("platforms"), Platform, "scope.platforms"),
        ownership=_enum_set(ctx, data.get("ownership"), Ownership, "scope.ownership"),
        mail_access_only=mail != "any",
        departments=frozenset(ctx.str_list(data.get("departments"), "scope.departments")),
        groups=frozenset(ctx.str_list(data.get("groups"), "scope.groups")),
        exclude_departments=frozenset(
            ctx.str_list(data.get("exclude_departments"), "scope.exclude_departments")
        ),
        exclude_groups=frozenset(ctx.str_list(data.get("exclude_groups"), "scope.exclude_groups")),
    )


def _rule(ctx: _Ctx, data: Mapping[str, Any]) -> Rule:
    ctx.unknown_keys(data, RULE_KEYS, "rule")
    barred = _matchers(ctx, data.get("barred_apps"))
    minimum_os: dict[Platform, tuple[int, ...]] = {}
    for name, raw in ctx.mapping(data.get("minimum_os"), "rule.minimum_os").items():
        path = f"rule.minimum_os.{name}"
        try:
            platform = Platform(str(name).lower())
        except ValueError:
            ctx.fail(path, f"{name!r} is not a platform", "use ios, ipados or android")
            continue
        if isinstance(raw, float):
            ctx.fail(
                path,
                f"{raw!r} was read as a number, which loses digits (16.10 becomes 16.1)",
                f'quote the version: {name}: "{raw}"',
            )
            continue
        version = parse_version(str(raw))
        if version is None:
            ctx.fail(path, f"{raw!r} is not a version", 'write it like "16.4" (quoted)')
            continue
        minimum_os[platform] = version
    min_patch = _patch_date(ctx, data.get("minimum_android_patch"))
    max_age = _duration(ctx, data.get("maximum_patch_age"), "rule.maximum_patch_age")
    rule = Rule(tuple(barred), minimum_os, min_patch, max_age)
    if not rule.checks_apps and not rule.checks_os:
        ctx.fail("rule", "checks nothing", "add `barred_apps:` or a minimum OS / patch level")
    return rule


def _patch_date(ctx: _Ctx, value: Any) -> date | None:
    """A security patch level is a calendar date (a YAML date-time is not one)."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        ctx.fail("rule.minimum_android_patch", f"{value!r} is not a date", "write 2024-01-05")
        return None


def _matchers(ctx: _Ctx, value: Any) -> list[AppMatcher]:
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.fail("rule.barred_apps", "must be a list", "write `- id: com.example.app` items")
        return []
    out = []
    for i, item in enumerate(value):
        path = f"rule.barred_apps[{i}]"
        if not isinstance(item, Mapping):
            ctx.fail(path, "must be a mapping", "e.g. `- parent: ByteDance Ltd.`")
            continue
        kinds = [k for k in item if k in MATCH_KEYS]
        extra = [k for k in item if k not in (*MATCH_KEYS, "platform")]
        for key in extra:
            ctx.fail(
                f"{path}.{key}", f"unknown field `{key}`", f"use one of: {', '.join(MATCH_KEYS)}"
            )
        if len(kinds) != 1:
            ctx.fail(path, "needs exactly one of " + ", ".join(MATCH_KEYS), "split it into items")
            continue
        kind = MatchKind(kinds[0])
        raw = item[kind.value]
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, str | int)):
            ctx.fail(f"{path}.{kind.value}", f"{raw!r} is not a text", "write one value per item")
            continue
        text = str(raw or "").strip()
        if not text:
            ctx.fail(f"{path}.{kind.value}", "is empty", "write a value or remove the item")
            continue
        platform = None
        if "platform" in item:
            try:
                platform = Platform(str(item["platform"]).lower()).app_space
            except ValueError:
                ctx.fail(
                    f"{path}.platform", f"{item['platform']!r} is not a platform", "ios|android"
                )
        if kind is MatchKind.JURISDICTION:
            text = text.upper()
            if not re.match(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", text):
                ctx.fail(f"{path}.jurisdiction", f"{text!r} is not a country code", "e.g. CN, RU")
        if kind is MatchKind.ID and (" " in text or "*" in text):
            hint = "use `pattern:` for wildcards" if "*" in text else "ids have no spaces"
            ctx.fail(f"{path}.id", f"{text!r} is not an app id", hint)
        out.append(AppMatcher(kind, text, platform))
    return out


def _duration(ctx: _Ctx, value: Any, path: str) -> Any:
    if value is None:
        return None
    try:
        span = parse_duration(str(value))
    except TimeFormatError as exc:
        ctx.fail(path, str(exc), "an ISO 8601 duration such as P14D, PT36H or P2W")
        return None
    if span > MAX_SPAN:
        ctx.fail(
            path, f"{value!r} is longer than ten years", f"at most {format_duration(MAX_SPAN)}"
        )
        return None
    return span


def _deadline(ctx: _Ctx, value: Any) -> Deadline:
    data = ctx.mapping(value, "deadline")
    if value is None:
        ctx.fail("deadline", "is missing", "add `deadline:` with `at:` and `timezone:`")
        return Deadline()
    ctx.unknown_keys(data, DEADLINE_KEYS, "deadline")
    tz = str(data.get("timezone") or "UTC")
    if not is_zone(tz):
        ctx.fail(
            "deadline.timezone", f"{tz!r} is not an IANA time zone", "e.g. America/Los_Angeles"
        )
        tz = "UTC"
    at = None
    raw_at = data.get("at")
    if raw_at is not None:
        text = raw_at.isoformat() if isinstance(raw_at, datetime | date) else str(raw_at)
        try:
            # deadlines are to the second: what is stored, shown and enforced
            at = parse_instant(text, default_zone=tz).replace(microsecond=0)
        except TimeFormatError as exc:
            ctx.fail("deadline.at", str(exc), "e.g. `at: 2020-07-10T18:00` with a `timezone:`")
    lead = _duration(ctx, data.get("after_publication"), "deadline.after_publication")
    if (at is None) == (lead is None) and not any(
        p.field.startswith("deadline") for p in ctx.problems
    ):
        ctx.fail(
            "deadline",
            "needs exactly one of `at:` (an instant) or `after_publication:` (a lead time)",
            "e.g. `at: 2020-07-10T18:00` with `timezone: America/Los_Angeles`, or "
            "`after_publication: P14D`",
        )
    grace = _duration(ctx, data.get("late_grace"), "deadline.late_grace")
    return Deadline(at=at, timezone=tz, after_publication=lead, late_grace=grace)
