"""SMTP delivery: STARTTLS or TLS, a timeout on every step, retries with a doubling pause, and a clear
sentence when the server refuses (which recipient, what it said)."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.i18n import t
from app.mail.message import DeliveryFailed, Email, build
from app.meta.types import is_address, is_no_address


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 0
    user: str = ""
    password: str = ""
    sender: str = ""
    security: str = ""  # "starttls" | "tls" | "none" | "" (TLS on 465, else STARTTLS when offered)
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 2.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        """From the app's configuration (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, MAIL_FROM, ...)."""
        return cls(
            host=str(config.get("SMTP_HOST") or ""),
            port=int(config.get("SMTP_PORT") or 0),
            user=str(config.get("SMTP_USER") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            sender=str(config.get("MAIL_FROM") or config.get("SMTP_USER") or ""),
            security=str(config.get("SMTP_SECURITY") or "").lower(),
            timeout=float(config.get("SMTP_TIMEOUT") or 20),
            retries=max(1, int(config.get("SMTP_RETRIES") or 3)),
            backoff=float(config.get("SMTP_BACKOFF") if config.get("SMTP_BACKOFF") is not None else 2),
        )


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    security = settings.security or ("tls" if settings.port == 465 else "starttls")
    port = settings.port or (465 if security == "tls" else 25)
    if security == "tls":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, port, timeout=settings.timeout, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(settings.host, port, timeout=settings.timeout)
        server.ehlo()
        if security == "starttls" and server.has_extn("starttls"):
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
    if settings.user:
        server.login(settings.user, settings.password)
    return server


def _send_once(settings: SmtpSettings, email: Email) -> None:
    message = build(email, settings.sender)
    with _connect(settings) as server:
        refused = server.send_message(message)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def _reply(text: bytes | str) -> str:
    """The server's reply as the user reads it (smtplib hands it over as bytes, not as b'...')."""
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


def _describe(exc: BaseException, settings: SmtpSettings) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        who = ", ".join(f"{addr} ({code} {_reply(text)})" for addr, (code, text) in exc.recipients.items())
        return t("mail.refused_recipients", recipients=who)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return t("mail.auth_failed", user=settings.user)
    if isinstance(exc, smtplib.SMTPResponseException):
        return t("mail.server_refused", code=exc.smtp_code, reply=_reply(exc.smtp_error))
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return t("mail.unreachable", host=settings.host, port=settings.port, error=str(exc) or type(exc).__name__)
    return str(exc)


PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused)


def send_email(
    settings: SmtpSettings, email: Email, *, sleep: Callable[[float], None] = time.sleep, tries: list[str] | None = None
) -> int:
    """Send `email`; retry a failed connection or a temporary refusal `settings.retries` times in all,
    pausing `backoff`, then twice that, ... Returns the attempts used; raises DeliveryFailed with the last
    error in words. `tries` (if given) gets one line per failed attempt, for the delivery log."""
    if not settings.host:
        raise DeliveryFailed(t("mail.not_configured"))
    if not email.to:
        raise DeliveryFailed(t("mail.no_recipient"))
    for address in email.to:
        if not is_address(address):  # refused here, before the server splits it into other recipients
            raise DeliveryFailed(t("mail.bad_address", address=address))
        if is_no_address(address):  # a user's marked non-address (app.meta.types.no_address)
            raise DeliveryFailed(t("mail.no_address", address=address))
    pause = settings.backoff
    for attempt in range(1, settings.retries + 1):
        try:
            _send_once(settings, email)
            return attempt
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            error = _describe(exc, settings)
            if tries is not None:
                tries.append(error)
            if attempt == settings.retries or isinstance(exc, PERMANENT):
                raise DeliveryFailed(error) from exc
            sleep(pause)
            pause *= 2
    raise AssertionError("unreachable")
