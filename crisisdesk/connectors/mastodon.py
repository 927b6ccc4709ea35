"""Mastodon through its REST API: mentions (which include replies) in, replies out.

Any Mastodon server works with an access token made in Preferences → Development (scopes
``read:notifications read:statuses write:statuses``). Polling reads
``GET /api/v1/notifications?types[]=mention`` with ``since_id`` set to the stored cursor and
follows the ``Link: rel="next"`` header (``max_id`` paging) back to it; the cursor becomes the
newest notification id. Status text arrives as HTML and is turned into plain text here.

A reply is a status with ``in_reply_to_id`` that mentions the author (Mastodon threads by mention);
a private reply is the same with ``visibility=direct``. Both carry an ``Idempotency-Key`` so a
retried request does not publish twice. Mastodon cannot hide a reply and lets you delete only your
own statuses: those actions are refused with a clear error.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
from collections.abc import Callable, Mapping
from html.parser import HTMLParser
from typing import Any

import httpx

from crisisdesk.connectors import (
    ConnectorError,
    PermissionMissing,
    PostDetails,
    RateLimited,
    TokenExpired,
    Unsupported,
)
from crisisdesk.connectors._http import retry_after
from crisisdesk.ingest.links import web_link
from crisisdesk.ingest.normalise import RowError, clean_post_message, from_canonical
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.reasons import message_of
from crisisdesk.settings import Secret

log = logging.getLogger(__name__)

MAX_POLL_PAGES = 50
MAX_STATUS_CHARS = 500


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Mastodon's status HTML as plain text (links keep their visible text).

    >>> html_to_text('<p>Hi <span class="h-card"><a href="x">@<span>shop</span></a></span></p><p>a&amp;b<br>c</p>')
    'Hi @shop\\n\\na&b\\nc'
    """
    parser = _Text()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"[ \t]+\n", "\n", html.unescape(text)).strip()


def _id_key(value: str) -> tuple[int, str]:
    # Mastodon ids are numeric strings of growing length; compare them as numbers.
    return (len(value), value)


class MastodonConnector:
    platform = "mastodon"

    def __init__(
        self,
        http: httpx.Client,
        *,
        base_url: str,
        token: Secret | str,
        account_id: str | None = None,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._token = token if isinstance(token, Secret) else Secret(token)
        self.account_id = account_id
        self.max_retries = max_retries
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"MastodonConnector(base_url={self.base_url!r}, account_id={self.account_id!r})"

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        if not url.startswith(self.base_url + "/"):
            raise ConnectorError("refusing to send the token to another server")
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    method,
                    url,
                    params=params,
                    data=dict(data) if data is not None else None,
                    headers={"Authorization": f"Bearer {self._token.reveal()}", **(headers or {})},
                )
            except httpx.HTTPError as exc:
                raise ConnectorError(f"Mastodon could not be reached: {exc}") from None
            if response.status_code < 400:
                return response
            try:
                body = response.json()
            except ValueError:
                body = {}
            message = str(
                (body.get("error") if isinstance(body, dict) else None)
                or f"HTTP {response.status_code}"
            )[:300]
            if response.status_code == 429 and attempt < self.max_retries:
                delay = retry_after(response.headers) or 2.0 * (2**attempt)
                log.warning("mastodon rate limit: retrying in %.1fs", delay)
                self.sleep(min(delay, 900.0))
                attempt += 1
                continue
            if response.status_code == 429:
                raise RateLimited(f"Mastodon keeps rate limiting: {message}")
            if response.status_code == 401:
                raise TokenExpired(
                    f"Mastodon refused the access token ({message}); make a new one and connect "
                    "again with `crisisdesk connect mastodon`"
                )
            if response.status_code == 403:
                raise PermissionMissing(
                    f"Mastodon refused {method} {response.request.url.path} ({message}); the token "
                    "needs the scopes read:notifications read:statuses write:statuses"
                )
            if response.status_code == 404:
                raise ConnectorError(f"not found on Mastodon ({message}): deleted or not visible")
            raise ConnectorError(f"Mastodon {method} {response.request.url.path} failed: {message}")

    def verify(self) -> dict[str, Any]:
        body = self.request("GET", "/api/v1/accounts/verify_credentials").json()
        if not isinstance(body, dict) or not body.get("id"):
            raise ConnectorError("Mastodon's verify_credentials answered without an account")
        if self.account_id and str(body["id"]) != self.account_id:
            raise ConnectorError("the token belongs to another Mastodon account")
        self.account_id = str(body["id"])
        return body

    # -- reading --------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> tuple[list[CommentRecord | Rejected], str | None]:
        """Mentions newer than ``cursor`` (a notification id), oldest first, and the new cursor."""
        if self.account_id is None:
            self.verify()
        out: list[CommentRecord | Rejected] = []
        newest = cursor
        url: str | None = "/api/v1/notifications"
        params: Any = [("types[]", "mention"), ("limit", "40")]
        if cursor:
            params.append(("since_id", cursor))
        for _ in range(MAX_POLL_PAGES):
            if url is None:
                break
            response = self.request("GET", url, params=params)
            notes = response.json()
            if not isinstance(notes, list) or not notes:
                break
            reached_seen = False
            for note in notes:
                if not isinstance(note, Mapping):
                    continue
                note_id = str(note.get("id") or "")
                if cursor and note_id and _id_key(note_id) <= _id_key(cursor):
                    reached_seen = True
                    continue
                if note_id and (newest is None or _id_key(note_id) > _id_key(newest)):
                    newest = note_id
                if note.get("type") != "mention" or not isinstance(note.get("status"), Mapping):
                    continue
                try:
                    out.append(self._record(note["status"]))
                except RowError as exc:
                    out.append(Rejected(f"mastodon:{note_id}", 0, message_of(exc)))
            next_link = response.links.get("next", {}).get("url")
            if reached_seen or not next_link:
                break
            url, params = next_link, None
        out.reverse()
        return out, newest

    def _record(self, status: Mapping[str, Any]) -> CommentRecord:
        account = status.get("account") if isinstance(status.get("account"), Mapping) else {}
        assert isinstance(account, Mapping)
        in_reply_to = status.get("in_reply_to_id")
        to_us = status.get("in_reply_to_account_id") == self.account_id
        content = status.get("content")
        row = {
            "id": status.get("id"),
            "created_at": status.get("created_at"),
            "text": html_to_text(content) if isinstance(content, str) else "",
            "page": self.account_id,
            # A reply to one of our statuses is a comment on that "post"; a reply to someone
            # else's reply is a reply in the thread.
            "post_id": in_reply_to if to_us else None,
            "parent_id": None if to_us else in_reply_to,
            "author_id": account.get("acct") or account.get("id"),
            "author_name": account.get("display_name") or account.get("acct"),
            # The status's page on its home server, which another server relays as it was
            # given: from_canonical keeps it only if it is a plain web address.
            "permalink": status.get("url"),
        }
        return from_canonical(row, platform="mastodon", source="mastodon")

    # -- actions --------------------------------------------------------------------------

    def post_details(self, post_id: str) -> PostDetails:
        """The status's text and its page on the web: notifications of replies name the status
        replied to by id only."""
        status = self._status(post_id)
        content = status.get("content")
        return PostDetails(
            clean_post_message(html_to_text(content)) if isinstance(content, str) else None,
            web_link(status.get("url")),
        )

    def _status(self, status_id: str) -> dict[str, Any]:
        body = self.request("GET", f"/api/v1/statuses/{_safe_id(status_id)}").json()
        if not isinstance(body, dict):
            raise ConnectorError("Mastodon answered with something that is not a status")
        return body

    def _publish(self, status_id: str, text: str, visibility: str) -> dict[str, Any]:
        if not text.strip():
            raise ConnectorError("nothing to send")
        status = self._status(status_id)
        account = status.get("account") if isinstance(status.get("account"), Mapping) else {}
        acct = str(account.get("acct") or "") if isinstance(account, Mapping) else ""
        body = f"@{acct} {text}" if acct and f"@{acct}" not in text else text
        if len(body) > MAX_STATUS_CHARS:
            raise ConnectorError(f"a Mastodon status holds at most {MAX_STATUS_CHARS} characters")
        key = hashlib.sha256(f"{status_id}\0{visibility}\0{text}".encode()).hexdigest()
        response = self.request(
            "POST",
            "/api/v1/statuses",
            data={"status": body, "in_reply_to_id": status_id, "visibility": visibility},
            headers={"Idempotency-Key": key},
        )
        result = response.json()
        return result if isinstance(result, dict) else {}

    def reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        return self._publish(comment_platform_id, text, "public")

    def private_reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        return self._publish(comment_platform_id, text, "direct")

    def hide(self, comment_platform_id: str) -> dict[str, Any]:
        raise Unsupported(
            "Mastodon cannot hide a reply; mute, block or report the author on Mastodon"
        )

    def unhide(self, comment_platform_id: str) -> dict[str, Any]:
        raise Unsupported("Mastodon cannot hide or unhide a reply")

    def delete(self, comment_platform_id: str) -> dict[str, Any]:
        status = self._status(comment_platform_id)
        account = status.get("account") if isinstance(status.get("account"), Mapping) else {}
        owner = str(account.get("id")) if isinstance(account, Mapping) else ""
        if self.account_id is None:
            self.verify()
        if owner != self.account_id:
            raise Unsupported(
                "on Mastodon you can delete only your own statuses; "
                "report or block the author on Mastodon"
            )
        result = self.request("DELETE", f"/api/v1/statuses/{_safe_id(comment_platform_id)}").json()
        return result if isinstance(result, dict) else {}


def _safe_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise ConnectorError(f"not a Mastodon status id: {value[:40]!r}")
    return value
