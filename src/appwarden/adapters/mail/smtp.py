"""SMTP relay transport: STARTTLS, AUTH, timeouts, and a per-relay rate limit.

The password comes from a setting or the environment and is never logged or put in an error
message. Relay errors are translated: 4xx and connection problems are temporary (retried with
backoff), 5xx are permanent for that message.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from appwarden.services.ports import DeliveryError


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = ""
    ca_file: Path | None = None
    timeout: float = 30.0
    rate: float = 20.0  # messages per second to this relay (0: unlimited)
    helo: str = ""

    @property
    def name(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def __repr__(self) -> str:  # never show the password
        return f"SmtpConfig({self.name}, starttls={self.starttls}, user={self.username!r})"


class RateLimiter:
    """A token bucket: at most `rate` per second on average, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = max(rate, 1.0)
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if self.rate <= 0:
            return
        with self.lock:
            now = time.monotonic()
            self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens < 1:
                delay = (1 - self.tokens) / self.rate
                time.sleep(delay)
                self.tokens = 0.0
                self.last = time.monotonic()
            else:
                self.tokens -= 1


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.name = config.name
        self.limiter = RateLimiter(config.rate)
        self._client: smtplib.SMTP | None = None

    def open(self) -> None:
        if self._client is not None:
            return
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> None:
        cfg = self.config
        try:
            client = smtplib.SMTP(
                cfg.host, cfg.port, local_hostname=cfg.helo or None, timeout=cfg.timeout
            )
            self._client = client
            client.ehlo()
            if cfg.starttls:
                context = ssl.create_default_context(
                    cafile=str(cfg.ca_file) if cfg.ca_file else None
                )
                client.starttls(context=context)
                client.ehlo()
            if cfg.username:
                client.login(cfg.username, cfg.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{cfg.name} refused the login for {cfg.username!r} ({exc.smtp_code}); "
                "check smtp_username and smtp_password"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{cfg.name}: {exc}; check smtp_starttls") from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise DeliveryError(f"cannot reach relay {cfg.name}: {_describe(exc)}") from None

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        self.limiter.wait()
        self.open()
        assert self._client is not None
        try:
            refused = self._client.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._reset()
            raise DeliveryError(_reply(code, text), permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise DeliveryError(
                _reply(exc.smtp_code, exc.smtp_error), permanent=exc.smtp_code >= 500
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"relay {self.name} failed: {_describe(exc)}") from None
        if refused:
            code, text = refused[recipient]
            raise DeliveryError(_reply(code, text), permanent=code >= 500)
        return "250 accepted"

    def _reset(self) -> None:
        try:
            if self._client is not None:
                self._client.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _reply(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {body}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    return str(exc) or type(exc).__name__
