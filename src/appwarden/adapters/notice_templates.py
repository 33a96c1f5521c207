"""Notice templates: Jinja2 in a sandbox, per locale, plain text and HTML.

Each locale is a folder with `subject.txt`, `body.txt` and `body.html` (the shipped ones are in
`appwarden/data/templates/notices/<locale>/`; the setting `notice_templates` names a folder whose
locales override or add to them). Templates see only the context they are given; the sandbox
refuses attribute tricks, and undefined names are errors (a template error fails the preview,
never a send half-way).

Bidirectional text: values that may run in the other direction (app names, device names, dates,
addresses) go through the `bidi` filter: U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL
ISOLATE in text, `<bdi>` in HTML. Dates and times are formatted by Babel in the employee's locale
and time zone (`when`, `when_date`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from appwarden.core.errors import InvalidInput, Problem
from appwarden.core.timeutil import zone
from appwarden.services.ports import Rendered

FSI, PDI = "\u2068", "\u2069"
PARTS = ("subject.txt", "body.txt", "body.html")


def shipped_dir() -> Path:
    return Path(str(resources.files("appwarden") / "data" / "templates" / "notices"))


def _isolate_text(value: object) -> str:
    return f"{FSI}{value}{PDI}"


def _isolate_html(value: object) -> Markup:
    return Markup("<bdi>{}</bdi>").format(escape(value))


def _babel_locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@pass_context
def _when(ctx: Context, value: datetime) -> str:
    tz = zone(str(ctx.get("timezone") or "UTC"))
    return format_datetime(value, "long", tzinfo=tz, locale=_babel_locale(str(ctx["locale"])))


@pass_context
def _when_date(ctx: Context, value: datetime) -> str:
    local = value.astimezone(zone(str(ctx.get("timezone") or "UTC")))
    return format_date(local.date(), "long", locale=_babel_locale(str(ctx["locale"])))


def _environment(folders: list[Path], html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(f) for f in folders]),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["bidi"] = _isolate_html if html else _isolate_text
    env.filters["when"] = _when
    env.filters["when_date"] = _when_date
    return env


class JinjaNoticeRenderer:
    def __init__(self, custom: Path | None = None) -> None:
        self.folders = [f for f in (custom, shipped_dir()) if f is not None and f.is_dir()]
        self._text = _environment(self.folders, html=False)
        self._html = _environment(self.folders, html=True)
        self._locales = sorted(
            {p.name for f in self.folders for p in f.iterdir() if (p / "body.txt").is_file()}
        )
        self._digest = self._compute_digest()

    def locales(self) -> list[str]:
        return list(self._locales)

    def locale_for(self, wanted: str) -> str:
        base = wanted.replace("_", "-").split("-")[0].lower()
        for candidate in (wanted, base):
            if candidate in self._locales:
                return candidate
        return "en"

    def digest(self) -> str:
        return self._digest

    def _compute_digest(self) -> str:
        h = hashlib.sha256()
        for locale in self._locales:
            for part in PARTS:
                source = self._source(locale, part)
                h.update(f"{locale}/{part}\n".encode() + source.encode() + b"\n")
        return h.hexdigest()

    def _source(self, locale: str, part: str) -> str:
        for folder in self.folders:
            path = folder / locale / part
            if path.is_file():
                return path.read_text(encoding="utf-8")
        raise InvalidInput(
            Problem(
                f"template {locale}/{part} is missing",
                "notice_templates",
                "every locale folder needs subject.txt, body.txt and body.html",
            )
        )

    def render(self, context: Mapping[str, Any]) -> Rendered:
        locale = self.locale_for(str(context.get("locale", "en")))
        ctx = dict(context, locale=locale)
        subject = self._part(self._text, locale, "subject.txt", ctx)
        subject = " ".join(subject.split())
        text = self._part(self._text, locale, "body.txt", ctx)
        html = self._part(self._html, locale, "body.html", dict(ctx, subject=subject))
        return Rendered(subject, text, html, locale)

    def _part(
        self, env: SandboxedEnvironment, locale: str, part: str, ctx: Mapping[str, Any]
    ) -> str:
        name = f"{locale}/{part}"
        try:
            return env.get_template(name).render(ctx)
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            raise InvalidInput(
                Problem(
                    f"template error: {exc}",
                    "template",
                    "fix the template; nothing was sent",
                    file=name,
                    line=line,
                )
            ) from exc


def renderer_factory(custom: Path | None) -> Callable[[], JinjaNoticeRenderer]:
    return lambda: JinjaNoticeRenderer(custom)
