"""The composition root: settings -> adapters -> services. Nothing is built at import time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
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
from appwarden.adapters.secret_file import load_or_create_key
from appwarden.core.catalog import Catalog
from appwarden.core.decision_users import UserRule
from appwarden.core.sources import MergeRules
from appwarden.core.staleness import StaleEffect, Staleness
from appwarden.services.attestations import AttestationService, Signer
from appwarden.services.checkins import CheckinLimits, CheckinService
from appwarden.services.compliance import Compliance, EngineLimits
from appwarden.services.decisions import DecisionService
from appwarden.services.gc_control import tune_for_service
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
    checkins: CheckinService
    attestations: AttestationService

    def close(self) -> None:
        self.checkins.close()
        self.store.close()


def merge_rules(settings: Settings) -> MergeRules:
    names = [s.strip() for s in settings.raw("source_precedence").split(",")]
    return MergeRules(tuple(n for n in names if n), settings.duration("merge_window"))


def staleness(settings: Settings) -> Staleness:
    return Staleness(settings.duration("stale_after"), StaleEffect(settings.raw("stale_effect")))


def checkin_limits(settings: Settings) -> CheckinLimits:
    return CheckinLimits(
        max_bytes=int(settings.get("checkin_max_bytes")),
        max_apps=int(settings.get("checkin_max_apps")),
        batch=int(settings.get("checkin_batch")),
        code_ttl=settings.duration("enrollment_code_ttl"),
    )


def build(settings: Settings, clock: Clock | None = None) -> App:
    tune_for_service()
    store = SqliteStore(settings.database)
    local = settings.get("catalog_local")
    catalog = load_catalog(Path(local) if local else None)
    key_file = settings.get("signing_key_file") or settings.home / "signing.key"
    signer = Signer(load_or_create_key(key_file))
    engine = Compliance(
        store,
        catalog,
        EngineLimits(settings.duration("min_lead_time"), settings.duration("max_exemption")),
        DecisionService(
            id_prefix=secrets.token_hex(3), user_rule=UserRule(settings.raw("user_rule"))
        ),
        requires_notice=settings.flag("enforcement_requires_notice"),
        rules=merge_rules(settings),
        staleness=staleness(settings),
        accept_attestation=signer.valid,
    )
    templates = settings.get("notice_templates")
    renderer = JinjaNoticeRenderer(Path(templates) if templates else None)
    config = notice_config(settings)
    notices = NoticeService(
        engine, renderer, config, transport_factory(settings), message_builder(renderer, config)
    )
    clock = clock or clock_from_setting(settings.raw("clock"))

    def now() -> datetime:
        return clock.now().replace(microsecond=0)

    return App(
        settings=settings,
        store=store,
        catalog=catalog,
        clock=clock,
        engine=engine,
        passwords=Argon2Hasher(),
        mailer=SmtpMailer(smtp_config(settings), settings.raw("mail_from")),
        notices=notices,
        checkins=CheckinService(engine, checkin_limits(settings), now),
        attestations=AttestationService(engine, signer, settings.duration("attestation_ttl")),
    )
