"""From settings to a notice configuration, a transport and a message builder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from appwarden.adapters.mail.file_sink import FileSinkTransport
from appwarden.adapters.mail.message import build_message
from appwarden.adapters.mail.smtp import SmtpConfig, SmtpTransport
from appwarden.core.campaign import HaltRules, Mode
from appwarden.core.errors import InvalidInput, Problem
from appwarden.core.notice import Notice, OutboxMessage
from appwarden.core.policy import PolicyVersion
from appwarden.core.timeutil import TimeFormatError, parse_duration
from appwarden.services.campaign_plan import NoticeConfig, message_context
from appwarden.services.ports import MailTransport, NoticeRenderer
from appwarden.settings import Settings


def notice_config(settings: Settings) -> NoticeConfig:
    try:
        reminders = tuple(
            parse_duration(p) for p in settings.raw("notice_reminders").split(",") if p.strip()
        )
    except TimeFormatError as exc:
        raise InvalidInput(Problem(str(exc), "notice_reminders", "e.g. P7D,P1D")) from exc
    try:
        bounce = float(settings.raw("campaign_halt_bounce_rate"))
    except ValueError as exc:
        raise InvalidInput(
            Problem("is not a number", "campaign_halt_bounce_rate", "e.g. 0.05 for 5%")
        ) from exc
    tests = tuple(
        a.strip().lower() for a in settings.raw("notice_test_recipients").split(",") if a.strip()
    )
    return NoticeConfig(
        sender=settings.raw("notice_from") or settings.raw("mail_from"),
        verify_url=settings.raw("notice_verify_url") or public_base_url(settings) + "/verify/",
        approval_threshold=int(settings.get("campaign_approval_threshold")),
        canary=settings.raw("campaign_canary"),
        waves=int(settings.get("campaign_waves")),
        wave_interval=settings.duration("campaign_wave_interval"),
        undo_window=settings.duration("notice_undo_window"),
        reminders=reminders,
        halt=HaltRules(bounce, int(settings.get("campaign_halt_replies"))),
        test_recipients=tests,
    )


def public_base_url(settings: Settings) -> str:
    """Where people reach the console: `console_url`, else the admin API's own address."""
    configured = settings.raw("console_url").rstrip("/")
    if configured:
        return configured
    return f"http://{settings.raw('api_host')}:{settings.raw('api_port')}"


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The relay from settings (shared by notices and sign-in links); None when none is set."""
    host = settings.raw("smtp_host").strip()
    if not host:
        return None
    ca = settings.raw("smtp_ca_file")
    return SmtpConfig(
        host=host,
        port=int(settings.get("smtp_port")),
        starttls=settings.flag("smtp_starttls"),
        username=settings.raw("smtp_username"),
        password=settings.raw("smtp_password"),
        ca_file=Path(ca) if ca else None,
        timeout=settings.duration("smtp_timeout").total_seconds(),
        rate=float(settings.get("smtp_rate")),
    )


def transport_factory(settings: Settings) -> Callable[[], MailTransport]:
    config = smtp_config(settings)
    if config is None:
        folder = settings.home / "outbox"
        return lambda: FileSinkTransport(folder)
    return lambda: SmtpTransport(config)


def message_builder(
    renderer: NoticeRenderer, config: NoticeConfig
) -> Callable[[OutboxMessage, list[tuple[Notice, PolicyVersion]], datetime], bytes]:
    def build(
        message: OutboxMessage, parts: list[tuple[Notice, PolicyVersion]], at: datetime
    ) -> bytes:
        test = message.mode is Mode.TEST
        rendered = renderer.render(message_context(parts, config.verify_url, test))
        return build_message(
            rendered,
            config.sender,
            message.to_addr,
            message.message_id,
            message.idem_key,
            at,
            test,
            [n.token for n, _ in parts],
        )

    return build
