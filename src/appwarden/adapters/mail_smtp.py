"""Single messages (sign-in links) through the same SMTP relay transport as notices.

One relay configuration and one SMTP code path serve both: STARTTLS verified against the system
or a given CA, AUTH when a user name is set, errors that name the relay but never the password.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from appwarden.adapters.mail.smtp import SmtpConfig, SmtpTransport
from appwarden.services.ports import DeliveryError, MailUnavailable, OutgoingMail


class SmtpMailer:
    def __init__(self, config: SmtpConfig | None, sender: str = "appwarden@localhost") -> None:
        self.config = config
        self.sender = sender

    def message(self, mail: OutgoingMail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(mail.text)
        if mail.html:
            msg.add_alternative(mail.html, subtype="html")
        return msg

    def send(self, mail: OutgoingMail) -> None:
        if self.config is None or not self.config.host:
            raise MailUnavailable("no mail relay is configured (set APPWARDEN_SMTP_HOST)")
        transport = SmtpTransport(self.config)
        try:
            # CRLF line endings: smtplib passes bytes through as they are
            transport.send(self.sender, mail.to, self.message(mail).as_bytes(policy=SMTP))
        except DeliveryError as exc:
            raise MailUnavailable(str(exc)) from None
        finally:
            transport.close()
