"""The composition root: settings -> adapters -> services. Nothing is built at import time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from appwarden.adapters.catalog_file import load_catalog
from appwarden.adapters.clock import Clock, clock_from_setting
from appwarden.adapters.db import SqliteStore
from appwarden.adapters.mail.wiring import (
    message_builder,
    notice_config,
    smtp_config,
    transport_factory,
)
from appwarden.adapters.mail_smtp import SmtpMailer
from appwarden.adapters.notice_templates import JinjaNoticeRenderer
from appwarden.adapters.passwords import Argon2Hasher
from appwarden.core.catalog import Catalog
from appwarden.core.decision_users import UserRule
from appwarden.services.compliance import Compliance, EngineLimits
from appwarden.services.decisions import DecisionService
from appwarden.services.notices import NoticeService
from appwarden.services.ports import Mailer, PasswordHasher
from appwarden.settings import Settings


@dataclass
class App:
    settings: Settings
    store: SqliteStore
    catalog: Catalog
    clock: Clock
    engine: Compliance
    passwords: PasswordHasher
    mailer: Mailer
    notices: NoticeService

    def close(self) -> None:
        self.store.close()


def build(settings: Settings, clock: Clock | None = None) -> App:
    store = SqliteStore(settings.database)
    local = settings.get("catalog_local")
    catalog = load_catalog(Path(local) if local else None)
    engine = Compliance(
        store,
        catalog,
        EngineLimits(settings.duration("min_lead_time"), settings.duration("max_exemption")),
        DecisionService(
            id_prefix=secrets.token_hex(3), user_rule=UserRule(settings.raw("user_rule"))
        ),
        requires_notice=settings.flag("enforcement_requires_notice"),
    )
    templates = settings.get("notice_templates")
    renderer = JinjaNoticeRenderer(Path(templates) if templates else None)
    config = notice_config(settings)
    notices = NoticeService(
        engine, renderer, config, transport_factory(settings), message_builder(renderer, config)
    )
    return App(
        settings=settings,
        store=store,
        catalog=catalog,
        clock=clock or clock_from_setting(settings.raw("clock")),
        engine=engine,
        passwords=Argon2Hasher(),
        mailer=SmtpMailer(smtp_config(settings), settings.raw("mail_from")),
        notices=notices,
    )
