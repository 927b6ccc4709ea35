"""Bluesky through the AT Protocol's XRPC API: replies and mentions in, replies out.

Bluesky needs no app review: the account's handle and an app password (Settings → App
passwords) are enough. ``com.atproto.server.createSession`` trades them for a short-lived access
JWT and a refresh JWT; the connector refreshes when the access token expires.

Polling reads ``app.bsky.notification.listNotifications`` newest first and keeps ``reply`` and
``mention`` notifications; the stored cursor is the ``indexedAt`` of the newest one already
ingested, so each poll pages back only until it meets what it has seen. A reply goes out as an
``app.bsky.feed.post`` record with ``reply.root`` and ``reply.parent`` strong refs (uri and cid),
fetched with ``app.bsky.feed.getPosts`` so the connector keeps no state per comment.

What the platform does not offer through this API is refused with a clear error: hiding a reply
(Bluesky's thread gates are a per-thread setting, not a moderation action on one comment),
private replies, and deleting someone else's post.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
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
from crisisdesk.ingest.links import bluesky_web_link
from crisisdesk.ingest.normalise import RowError, clean_post_message, from_canonical
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.reasons import message_of
from crisisdesk.settings import Secret

log = logging.getLogger(__name__)

REASONS = ("reply", "mention")
MAX_POST_CHARS = 300  # Bluesky counts graphemes; characters are a close, conservative bound
MAX_POLL_PAGES = 50


def _at_parts(uri: str) -> tuple[str, str, str]:
    """``at://did/collection/rkey`` -> its three parts.

    >>> _at_parts("at://did:plc:abc/app.bsky.feed.post/3k2")
    ('did:plc:abc', 'app.bsky.feed.post', '3k2')
    """
    if not uri.startswith("at://"):
        raise ConnectorError(f"not an AT URI: {uri[:80]!r}")
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        raise ConnectorError(f"not an AT URI of a record: {uri[:80]!r}")
    return parts[0], parts[1], parts[2]


def _strong_ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, Mapping) and value.get("uri") and value.get("cid"):
        return {"uri": str(value["uri"]), "cid": str(value["cid"])}
    return None


class BlueskyConnector:
    platform = "bluesky"

    def __init__(
        self,
        http: httpx.Client,
        *,
        identifier: str,
        app_password: Secret | str,
        service: str = "https://bsky.social",
        did: str | None = None,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.identifier = identifier
        self._password = app_password if isinstance(app_password, Secret) else Secret(app_password)
        self.service = service.rstrip("/")
        self.did = did
        self.handle: str | None = None
        self._access: Secret | None = None
        self._refresh: Secret | None = None
        self.max_retries = max_retries
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"BlueskyConnector(service={self.service!r}, identifier={self.identifier!r})"

    # -- XRPC -----------------------------------------------------------------------------

    def login(self) -> dict[str, Any]:
        body = self._call(
            "POST",
            "com.atproto.server.createSession",
            json_body={"identifier": self.identifier, "password": self._password.reveal()},
            auth=None,
        )
        self._take_session(body)
        return {"did": self.did, "handle": self.handle}

    def _take_session(self, body: Mapping[str, Any]) -> None:
        if not body.get("accessJwt") or not body.get("did"):
            raise ConnectorError("Bluesky's createSession answered without a session")
        self._access = Secret(str(body["accessJwt"]))
        self._refresh = Secret(str(body.get("refreshJwt") or ""))
        if self.did and body["did"] != self.did:
            raise ConnectorError(
                f"the app password belongs to {body['did']}, not to the connected {self.did}"
            )
        self.did = str(body["did"])
        self.handle = str(body.get("handle") or self.identifier)

    def _refresh_session(self) -> None:
        if self._refresh:
            try:
                body = self._call(
                    "POST",
                    "com.atproto.server.refreshSession",
                    auth=self._refresh,
                    retry_auth=False,
                )
                self._take_session(body)
                return
            except TokenExpired:
                pass
        self.login()

    def xrpc(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        if self._access is None:
            self.login()
        return self._call(method, nsid, params=params, json_body=json_body, auth=self._access)

    def _call(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        auth: Secret | None,
        retry_auth: bool = True,
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {auth.reveal()}"} if auth else {}
            try:
                response = self.http.request(
                    method,
                    f"{self.service}/xrpc/{nsid}",
                    params=dict(params) if params else None,
                    json=json_body,
                    headers=headers,
                )
            except httpx.HTTPError as exc:
                raise ConnectorError(f"Bluesky could not be reached: {exc}") from None
            try:
                body = response.json()
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                body = {}
            if response.status_code < 400:
                return body
            error = str(body.get("error") or "")
            message = str(body.get("message") or error or f"HTTP {response.status_code}")[:300]
            if response.status_code == 429 and attempt < self.max_retries:
                delay = retry_after(response.headers) or 2.0 * (2**attempt)
                log.warning("bluesky rate limit on %s: retrying in %.1fs", nsid, delay)
                self.sleep(min(delay, 900.0))
                attempt += 1
                continue
            if response.status_code == 429:
                raise RateLimited(f"Bluesky keeps rate limiting {nsid}: {message}")
            if error in ("ExpiredToken", "InvalidToken") and retry_auth and auth is self._access:
                self._refresh_session()
                auth = self._access
                retry_auth = False
                continue
            if nsid == "com.atproto.server.createSession" or error in (
                "ExpiredToken",
                "InvalidToken",
                "AuthenticationRequired",
            ):
                raise TokenExpired(
                    f"Bluesky refused the credentials ({message}); create a new app password and "
                    "connect again with `crisisdesk connect bluesky`"
                )
            if response.status_code == 403:
                raise PermissionMissing(f"Bluesky refused {nsid}: {message}")
            raise ConnectorError(f"Bluesky {nsid} failed: {message}")

    # -- reading --------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> tuple[list[CommentRecord | Rejected], str | None]:
        """New replies and mentions since ``cursor`` (the newest ``indexedAt`` already seen)."""
        out: list[CommentRecord | Rejected] = []
        newest = cursor
        page_cursor: str | None = None
        for _ in range(MAX_POLL_PAGES):
            params: dict[str, Any] = {"limit": 50}
            if page_cursor:
                params["cursor"] = page_cursor
            body = self.xrpc("GET", "app.bsky.notification.listNotifications", params=params)
            notes = body.get("notifications")
            if not isinstance(notes, list) or not notes:
                break
            reached_seen = False
            for note in notes:
                if not isinstance(note, Mapping):
                    continue
                indexed = str(note.get("indexedAt") or "")
                if cursor and indexed and indexed <= cursor:
                    reached_seen = True
                    continue
                if indexed and (newest is None or indexed > newest):
                    newest = indexed
                if note.get("reason") not in REASONS:
                    continue
                try:
                    out.append(self._record(note))
                except RowError as exc:
                    out.append(Rejected(f"bluesky:{note.get('uri')}", 0, message_of(exc)))
            page_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if reached_seen or not page_cursor:
                break
        out.reverse()  # oldest first, as they happened
        return out, newest

    def _record(self, note: Mapping[str, Any]) -> CommentRecord:
        record = note.get("record") if isinstance(note.get("record"), Mapping) else {}
        author = note.get("author") if isinstance(note.get("author"), Mapping) else {}
        assert isinstance(record, Mapping) and isinstance(author, Mapping)
        reply = record.get("reply") if isinstance(record.get("reply"), Mapping) else {}
        assert isinstance(reply, Mapping)
        root = _strong_ref(reply.get("root"))
        parent = _strong_ref(reply.get("parent"))
        parent_uri = parent["uri"] if parent else None
        root_uri = root["uri"] if root else None
        if parent_uri == root_uri:
            parent_uri = None  # a direct reply to the post, as Facebook's top-level comments
        row = {
            "id": note.get("uri"),
            "created_at": record.get("createdAt") or note.get("indexedAt"),
            "text": record.get("text") if isinstance(record.get("text"), str) else "",
            "page": self.did,
            "post_id": root_uri,
            "parent_id": parent_uri,
            "author_id": author.get("did"),
            "author_name": author.get("displayName") or author.get("handle"),
            # Bluesky hands out at:// URIs only; these are their pages on the web app.
            "permalink": bluesky_web_link(note.get("uri")),
            "post_permalink": bluesky_web_link(root_uri),
        }
        return from_canonical(row, platform="bluesky", source="bluesky")

    def post_details(self, post_id: str) -> PostDetails:
        """The text of the post at ``post_id`` (an at:// URI); its web link is derived from the URI
        without a call."""
        _at_parts(post_id)
        body = self.xrpc("GET", "app.bsky.feed.getPosts", params={"uris": post_id})
        posts = body.get("posts")
        post = posts[0] if isinstance(posts, list) and posts else None
        record = post.get("record") if isinstance(post, Mapping) else None
        text = record.get("text") if isinstance(record, Mapping) else None
        return PostDetails(clean_post_message(text), bluesky_web_link(post_id))

    # -- actions --------------------------------------------------------------------------

    def _post_ref(self, uri: str) -> tuple[dict[str, str], dict[str, str]]:
        """The strong ref of the post at ``uri`` and of its thread's root."""
        _at_parts(uri)
        body = self.xrpc("GET", "app.bsky.feed.getPosts", params={"uris": uri})
        posts = body.get("posts")
        if not isinstance(posts, list) or not posts:
            raise ConnectorError(
                "the post is gone from Bluesky (deleted, or its author blocked you)"
            )
        post = posts[0]
        ref = _strong_ref(post)
        if ref is None:
            raise ConnectorError("Bluesky answered getPosts without the post's uri and cid")
        record = post.get("record") if isinstance(post.get("record"), Mapping) else {}
        reply = record.get("reply") if isinstance(record, Mapping) else None
        root = _strong_ref(reply.get("root")) if isinstance(reply, Mapping) else None
        return ref, root or ref

    def reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        if not text.strip():
            raise ConnectorError("nothing to send")
        if len(text) > MAX_POST_CHARS:
            raise ConnectorError(f"a Bluesky post holds at most {MAX_POST_CHARS} characters")
        parent, root = self._post_ref(comment_platform_id)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            json_body={
                "repo": self.did,
                "collection": "app.bsky.feed.post",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": text,
                    "createdAt": now,
                    "reply": {"root": root, "parent": parent},
                },
            },
        )

    def private_reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        raise Unsupported(
            "Bluesky direct messages cannot be sent through this connector; "
            "write to the person from the Bluesky app"
        )

    def hide(self, comment_platform_id: str) -> dict[str, Any]:
        raise Unsupported(
            "Bluesky has no way to hide one reply through the API; "
            "mute or block the author, or hide the reply from the Bluesky app"
        )

    def unhide(self, comment_platform_id: str) -> dict[str, Any]:
        raise Unsupported("Bluesky has no way to hide or unhide one reply through the API")

    def delete(self, comment_platform_id: str) -> dict[str, Any]:
        repo, collection, rkey = _at_parts(comment_platform_id)
        if self.did is None:
            self.login()
        if repo != self.did:
            raise Unsupported(
                "on Bluesky you can delete only your own posts; "
                "block or report the author from the Bluesky app"
            )
        return self.xrpc(
            "POST",
            "com.atproto.repo.deleteRecord",
            json_body={"repo": repo, "collection": collection, "rkey": rkey},
        )
