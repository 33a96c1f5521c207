"""Sending mail through an SMTP relay: STARTTLS (verified against the system or a given CA),
AUTH when a user name is set. Foreign errors become MailUnavailable with the relay named."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from appwarden.services.ports import MailUnavailable, OutgoingMail


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = ""  # never logged, never shown
    sender: str = "appwarden@localhost"
    ca_file: Path | None = None
    timeout: float = 15.0

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"SmtpConfig(host={self.host!r}, port={self.port}, starttls={self.starttls})"


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def message(self, mail: OutgoingMail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        msg.set_content(mail.text)
        if mail.html:
            msg.add_alternative(mail.html, subtype="html")
        return msg

    def send(self, mail: OutgoingMail) -> None:
        cfg = self.config
        if not cfg.host:
            raise MailUnavailable("no mail relay is configured (set APPWARDEN_SMTP_HOST)")
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
                smtp.ehlo()
                if cfg.starttls:
                    context = ssl.create_default_context(
                        cafile=str(cfg.ca_file) if cfg.ca_file else None
                    )
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password)
                smtp.send_message(self.message(mail))
        except smtplib.SMTPAuthenticationError as exc:
            raise MailUnavailable(
                f"the relay {cfg.host}:{cfg.port} refused the user name or password"
                f" (SMTP {exc.smtp_code})"
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise MailUnavailable(
                f"cannot send through {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}"
            ) from None
