"""Sending e-mail through the configured SMTP server (Python's smtplib), nothing more."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class Settings:
    server: str
    port: int = 25
    use_tls: bool = False  # STARTTLS after connecting
    use_ssl: bool = False  # SMTP over TLS from the start (port 465)
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_config(cls, cfg) -> Settings:
        return cls(server=cfg["MAIL_SERVER"], port=int(cfg.get("MAIL_PORT") or 25),
                   use_tls=_flag(cfg.get("MAIL_USE_TLS")), use_ssl=_flag(cfg.get("MAIL_USE_SSL")),
                   username=cfg.get("MAIL_USERNAME") or None,
                   password=cfg.get("MAIL_PASSWORD") or None,
                   timeout=float(cfg.get("MAIL_TIMEOUT") or 10))


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def send(settings: Settings, messages: list[EmailMessage]) -> None:
    """Send the messages over one connection (raises ``smtplib.SMTPException`` or ``OSError``
    when the server cannot be reached or refuses them)."""
    if not messages:
        return
    cls = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
    with cls(settings.server, settings.port, timeout=settings.timeout) as smtp:
        if settings.use_tls and not settings.use_ssl:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        for message in messages:
            smtp.send_message(message)
