"""A small Graph API client shared by the Facebook and Instagram connectors.

Why not an SDK: the desk needs a handful of calls, and it needs them to behave well under the
platform's rules, which SDKs leave to the caller:

- **rate limits**: errors 4, 17, 32, 613 (and the business use case codes 80001-80014) are retried
  with exponential back-off, honouring ``estimated_time_to_regain_access`` from
  ``X-Business-Use-Case-Usage``; when the ``X-App-Usage`` or business use case usage headers
  report a quota nearly spent, the client slows down *before* it gets refused;
- **clear errors**: an expired or revoked token (``OAuthException`` code 190) raises
  :class:`~crisisdesk.connectors.TokenExpired`, a missing permission (code 10 or 200-299)
  :class:`~crisisdesk.connectors.PermissionMissing`, with what to do about it;
- **no token in logs**: the token travels in the ``Authorization`` header, never in a URL, and
  ``paging.next`` URLs (which the Graph API returns with ``access_token`` inside) are stripped of it
  before they are followed, because httpx logs request URLs;
- ``appsecret_proof`` (an HMAC of the token with the app secret) is sent when the secret is known,
  so a leaked token is useless without the secret.

The ``httpx.Client`` is injected; the base URL (``CRISISDESK_GRAPH_API_URL``) and the version are
settings, so tests point the client at a local server that replays the documented contract.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from crisisdesk.connectors import ConnectorError, PermissionMissing, RateLimited, TokenExpired
from crisisdesk.settings import Secret

log = logging.getLogger(__name__)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613}) | frozenset(range(80001, 80015))
# Above this share of a quota (percent), calls are spaced out before the platform refuses them.
USAGE_SLOWDOWN_PERCENT = 90
MAX_PAGES = 10_000  # a runaway paging loop ends here rather than never


class GraphError(ConnectorError):
    """An error object from the Graph API (``{"error": {"message", "type", "code", ...}}``)."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        status: int | None = None,
        kind: str | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code
        self.subcode = subcode
        self.status = status
        self.kind = kind


class GraphTokenExpired(GraphError, TokenExpired):
    pass


class GraphPermissionMissing(GraphError, PermissionMissing):
    pass


class GraphRateLimited(GraphError, RateLimited):
    pass


def appsecret_proof(token: str, app_secret: str) -> str:
    """The ``appsecret_proof`` parameter: HMAC-SHA256 of the token keyed with the app secret.

    >>> appsecret_proof("token", "secret")[:16]
    'e941110e3d2bfe82'
    """
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def usage_pause(headers: Mapping[str, str]) -> float:
    """Seconds to wait before the next call, from the usage headers of a response.

    ``X-App-Usage`` holds percentages (``call_count``, ``total_cputime``, ``total_time``);
    ``X-Business-Use-Case-Usage`` holds, per business id, a list of the same percentages plus
    ``estimated_time_to_regain_access`` in minutes.

    >>> usage_pause({"x-app-usage": '{"call_count": 12, "total_time": 3, "total_cputime": 1}'})
    0.0
    >>> usage_pause({"x-app-usage": '{"call_count": 96}'}) > 0
    True
    >>> usage_pause({"x-business-use-case-usage":
    ...     '{"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 2}]}'})
    120.0
    """
    worst = 0.0
    regain_minutes = 0.0
    for name in ("x-app-usage", "x-page-usage", "x-business-use-case-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        blocks: list[Any] = []
        if name == "x-business-use-case-usage" and isinstance(data, dict):
            for entries in data.values():
                if isinstance(entries, list):
                    blocks.extend(entries)
        else:
            blocks.append(data)
        for block in blocks:
            if not isinstance(block, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                value = block.get(key)
                if isinstance(value, int | float):
                    worst = max(worst, float(value))
            regain = block.get("estimated_time_to_regain_access")
            if isinstance(regain, int | float):
                regain_minutes = max(regain_minutes, float(regain))
    if regain_minutes > 0 and worst >= 100:
        return regain_minutes * 60.0
    if worst >= USAGE_SLOWDOWN_PERCENT:
        # From 90% to 100% of the quota, wait from 1 to 30 seconds between calls.
        return 1.0 + (min(worst, 100.0) - USAGE_SLOWDOWN_PERCENT) * 2.9
    return 0.0


def strip_token(url: str) -> str:
    """A paging URL without ``access_token`` (the client sends the token in a header).

    >>> strip_token("https://g/v21.0/1/comments?access_token=SECRET&after=QVF")
    'https://g/v21.0/1/comments?after=QVF'
    """
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "access_token"
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


class GraphClient:
    """Calls the Graph API with one token (a page token, or the token of an Instagram account)."""

    def __init__(
        self,
        http: httpx.Client,
        token: Secret | str,
        *,
        base_url: str = "https://graph.facebook.com",
        version: str = "v21.0",
        app_secret: Secret | str | None = None,
        max_retries: int = 5,
        base_delay: float = 2.0,
        max_delay: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self._token = token if isinstance(token, Secret) else Secret(token)
        secret = app_secret.reveal() if isinstance(app_secret, Secret) else app_secret
        self._proof = appsecret_proof(self._token.reveal(), secret) if secret else None
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self._pause_before_next = 0.0
        self.calls = 0

    def __repr__(self) -> str:
        return (
            f"GraphClient(base_url={self.base_url!r}, version={self.version!r}, token=**********)"
        )

    def url(self, path: str) -> str:
        """``/1234/comments`` -> ``{base}/{version}/1234/comments``."""
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    # -- calls ----------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", self.url(path), params=params)

    def post(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        *,
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.request("POST", self.url(path), data=data, json_body=json_body)

    def delete(self, path: str) -> dict[str, Any]:
        return self.request("DELETE", self.url(path))

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One call, retried with back-off while the platform says "too many calls"."""
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        if self._proof:
            query["appsecret_proof"] = self._proof
        headers = {"Authorization": f"Bearer {self._token.reveal()}"}
        attempt = 0
        while True:
            if self._pause_before_next > 0:
                log.info(
                    "graph usage high: waiting %.1fs before the next call", self._pause_before_next
                )
                self.sleep(min(self._pause_before_next, self.max_delay))
                self._pause_before_next = 0.0
            self.calls += 1
            try:
                # httpx replaces a URL's query with ``params``: merge them (paging links).
                target = httpx.URL(url).copy_merge_params(query) if query else httpx.URL(url)
                response = self.http.request(
                    method,
                    target,
                    data={k: _param(v) for k, v in data.items()} if data is not None else None,
                    json=json_body,
                    headers=headers,
                )
            except httpx.HTTPError as exc:
                raise ConnectorError(f"the Graph API could not be reached: {exc}") from None
            self._pause_before_next = usage_pause(response.headers)
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code < 400 and not (isinstance(body, dict) and "error" in body):
                if isinstance(body, dict):
                    return body
                if isinstance(body, bool):  # some actions answer a bare ``true``
                    return {"success": body}
                raise ConnectorError(
                    f"the Graph API answered {method} {_path(url)} with something that is not JSON"
                )
            error = _error_from(body, response.status_code, method, url)
            # Reads are also retried on transient failures (codes 1 and 2, ``is_transient``, 5xx);
            # writes are not: a reply that timed out may have been published.
            transient = method == "GET" and (
                error.transient or response.status_code >= 500 or error.code in (1, 2)
            )
            if (isinstance(error, GraphRateLimited) or transient) and attempt < self.max_retries:
                delay = self._backoff(attempt, response.headers)
                log.warning(
                    "graph error (code %s) on %s %s: retrying in %.1fs",
                    error.code,
                    method,
                    _path(url),
                    delay,
                )
                self.sleep(delay)
                self._pause_before_next = 0.0
                attempt += 1
                continue
            raise error

    def _backoff(self, attempt: int, headers: Mapping[str, str]) -> float:
        hinted = usage_pause(headers)
        exponential = self.base_delay * (2**attempt) * (1.0 + random.random() * 0.25)
        return min(self.max_delay, max(hinted, exponential))

    def paged(
        self, path: str, params: Mapping[str, Any] | None = None, *, max_pages: int = MAX_PAGES
    ) -> Iterator[dict[str, Any]]:
        """Every item of an edge, following ``paging.next`` (or ``paging.cursors.after``)."""
        url = self.url(path)
        query: Mapping[str, Any] | None = params
        seen_pages: set[str] = set()
        for _ in range(max_pages):
            page_key = url + json.dumps(dict(query or {}), sort_keys=True, default=str)
            if page_key in seen_pages:
                raise ConnectorError(f"GET {_path(url)}: the paging links go round in a circle")
            seen_pages.add(page_key)
            body = self.request("GET", url, params=query)
            data = body.get("data")
            if not isinstance(data, list):
                raise ConnectorError(f"GET {_path(url)}: expected a 'data' list in the answer")
            for item in data:
                if isinstance(item, dict):
                    yield item
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            assert isinstance(paging, dict)
            next_url = paging.get("next")
            if not data or not next_url:
                return
            if isinstance(next_url, str) and next_url.startswith(self.base_url):
                url, query = strip_token(next_url), None
            else:
                # A next link elsewhere than the configured API is never followed with our token;
                # the cursor is enough to ask the configured API for the next page.
                cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
                after = cursors.get("after") if isinstance(cursors, dict) else None
                if not after:
                    return
                query = {**(params or {}), "after": after}


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _path(url: str) -> str:
    return urlsplit(url).path


def _error_from(body: Any, status: int, method: str, url: str) -> GraphError:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GraphError(
            f"the Graph API answered {method} {_path(url)} with HTTP {status}", status=status
        )
    message = str(error.get("message") or "unknown error")[:500]
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    kind = str(error.get("type") or "") or None
    where = f"{method} {_path(url)}"
    if code == 190 or (code == 102 and kind == "OAuthException"):
        return GraphTokenExpired(
            f"the access token has expired or was revoked ({message}); "
            "connect the account again with `crisisdesk connect`",
            code=code,
            subcode=subcode,
            status=status,
            kind=kind,
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        return GraphPermissionMissing(
            f"the token lacks a permission for {where} ({message}); grant it to the app "
            "(pages_manage_engagement, pages_read_user_content, pages_messaging, "
            "instagram_manage_comments, instagram_manage_messages) and connect again",
            code=code,
            subcode=subcode,
            status=status,
            kind=kind,
        )
    if code in RATE_LIMIT_CODES:
        return GraphRateLimited(
            f"the Graph API is rate limiting {where} (code {code}): {message}",
            code=code,
            subcode=subcode,
            status=status,
            kind=kind,
        )
    return GraphError(
        f"{where} failed (code {code}): {message}",
        transient=error.get("is_transient") is True,
        code=code,
        subcode=subcode,
        status=status,
        kind=kind,
    )
