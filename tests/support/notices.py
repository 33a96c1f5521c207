"""A notices world for tests: a real SQLite engine, the shipped templates, a chosen transport."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from appwarden.adapters.mail.file_sink import FileSinkTransport
from appwarden.adapters.mail.smtp import SmtpConfig, SmtpTransport
from appwarden.adapters.mail.wiring import message_builder
from appwarden.adapters.notice_templates import JinjaNoticeRenderer
from appwarden.core.campaign import HaltRules
from appwarden.core.policy_data import policy_to_data
from appwarden.services.accounts import save_account
from appwarden.services.campaign_plan import NoticeConfig
from appwarden.services.compliance import Compliance
from appwarden.services.inventory import ImportBatch
from appwarden.services.notices import Actor, NoticeService
from tests.support.builders import T0, device, employee, engine, policy

AUTHOR = "author@corp.example"
APPROVER = "approver@corp.example"
CONFIG = NoticeConfig(
    sender="Security <security-notices@corp.example>",
    verify_url="https://aw.corp.example/v1/verify/",
    approval_threshold=100,
    canary="2",
    waves=2,
    wave_interval=timedelta(hours=1),
    undo_window=timedelta(minutes=10),
    halt=HaltRules(0.2, 1, min_sample=2),
    test_recipients=("qa@corp.example",),
)


def smtp_transport(sink, rate: float = 0) -> SmtpTransport:
    return SmtpTransport(
        SmtpConfig(
            "127.0.0.1",
            sink.port,
            True,
            sink.user,
            sink.password,
            sink.ca_file,
            timeout=10,
            rate=rate,
        )
    )


def world(tmp: Path, transport=None, config: NoticeConfig = CONFIG, **engine_kw):
    eng: Compliance = engine(tmp / "aw.db", **engine_kw)
    renderer = JinjaNoticeRenderer()
    make = transport or (lambda: FileSinkTransport(tmp / "outbox"))
    svc = NoticeService(eng, renderer, config, make, message_builder(renderer, config))
    with eng.store.unit_of_work() as uow:
        save_account(uow, AUTHOR, "author", "admin", T0)
        save_account(uow, APPROVER, "approver", "admin", T0)
    return eng, svc


def fleet(eng: Compliance, people: list[tuple[str, str, str, list[str]]]) -> None:
    """people: (email, locale, timezone, [device spec 'key:app1,app2' ...])."""
    batch = ImportBatch("test", "test fleet")
    for email, locale, tz, devices in people:
        batch.employees.append(
            employee(
                email,
                name=email.split("@")[0].title(),
                locale=locale,
                timezone=tz,
                department="Sales" if locale == "en" else "Ops",
                country="US",
            )
        )
        for spec in devices:
            key, _, apps = spec.partition(":")
            batch.devices.append(
                device(
                    key,
                    [a for a in apps.split(",") if a],
                    owner=email,
                    eas=f"EAS{key}",
                    name=f"{email.split('@')[0]}'s phone",
                )
            )
    eng.load()
    eng.import_inventory(batch, "test", T0)


TIKTOK = "com.zhiliaoapp.musically"


def apply(eng: Compliance, **overrides):
    pol = policy(**overrides)
    return eng.apply_policy(pol, str(policy_to_data(pol)), AUTHOR, "test", T0)


def with_config(**changes) -> NoticeConfig:
    return replace(CONFIG, **changes)


def announce(eng: Compliance, now=T0) -> NoticeService:
    """What a deployment does before any block denies mail (docs/notices.md): draft, preview,
    approve by a second person and send every policy's announcement (to .eml files)."""
    outbox = eng.store.path.parent / "outbox"  # type: ignore[attr-defined]
    config = with_config(canary="100%", undo_window=timedelta(0))
    renderer = JinjaNoticeRenderer()
    svc = NoticeService(
        eng, renderer, config, lambda: FileSinkTransport(outbox), message_builder(renderer, config)
    )
    with eng.store.unit_of_work() as uow:
        for email, role in ((AUTHOR, "author"), (APPROVER, "approver")):
            if uow.accounts.get(email) is None:
                save_account(uow, email, role, "admin", now)
        slugs = [p.version.slug for p in uow.policies.active()]
    for slug in slugs:
        draft = svc.draft(slug, AUTHOR, now)
        if draft is None:
            continue
        preview = svc.preview(draft.id, AUTHOR, now)
        assert svc.approve(draft.id, Actor(APPROVER, True), now, preview.digest).ok
    svc.tick(now)
    return svc
