"""Outgoing webhooks: one JSON POST per notification, optionally signed.

The signature header ``X-Crisisdesk-Signature: sha256=<hex>`` is an HMAC-SHA256 of the exact body
bytes with ``webhook_secret``, the same scheme Meta uses for its own webhooks, so receivers can
verify that the message came from this desk.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from crisisdesk.notify.message import Notification

SIGNATURE_HEADER = "X-Crisisdesk-Signature"


class DeliveryError(Exception):
    """A receiver refused or could not be reached; the dispatcher retries."""


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``.

    >>> sign(b"{}", "s")[:7]
    'sha256='
    """
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def send_webhook(
    url: str,
    notification: Notification,
    *,
    secret: str | None = None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> None:
    body = json.dumps(notification.payload(), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "crisisdesk"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    own = client is None
    http = client or httpx.Client(timeout=timeout)
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {_safe(url)}: {exc.__class__.__name__}") from exc
    finally:
        if own:
            http.close()
    if response.status_code >= 300:
        raise DeliveryError(f"webhook {_safe(url)}: HTTP {response.status_code}")


def _safe(url: str) -> str:
    """The URL without its path: Slack and Teams put the secret in the path."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
