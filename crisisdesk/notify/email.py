"""Alert e-mail over SMTP, with STARTTLS and authentication as the settings say."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from crisisdesk.notify.message import Notification
from crisisdesk.notify.webhook import DeliveryError


def build_message(notification: Notification, sender: str, recipients: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[crisisdesk] {notification.title}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    body = notification.plain()
    if notification.fields:
        body += "\n\n" + "\n".join(f"{k}: {v}" for k, v in notification.fields.items())
    msg.set_content(body)
    return msg


def send_email(
    settings: Any,
    notification: Notification,
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 15.0,
) -> None:
    """Send to ``smtp_to``; STARTTLS when ``smtp_starttls`` (the default), then log in when a
    user name is set. Certificates are verified (pass ``ssl_context`` for a private CA)."""
    recipients = settings.csv("smtp_to")
    if not settings.smtp_host or not recipients:
        return
    sender = settings.smtp_from or "crisisdesk@localhost"
    msg = build_message(notification, sender, recipients)
    try:
        with smtplib.SMTP(settings.smtp_host, int(settings.smtp_port), timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                smtp.starttls(context=ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.reveal())
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        # The message names the failure, never the password.
        raise DeliveryError(f"smtp {settings.smtp_host}: {exc.__class__.__name__}") from exc
