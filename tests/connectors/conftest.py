"""A real local HTTP server that replays a platform's documented contract.

Each test registers, per method and path, what the platform answers (status, JSON body, headers),
either a fixed answer, a function of the request, or a queue of those (the last one repeats).
Every request is recorded so tests can assert what the connector sent: paths, query, headers,
form and JSON bodies.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from crisisdesk.desk import Desk
from crisisdesk.settings import Settings
from tests.conftest import KeywordAnalyzer

APP_SECRET = "test-app-secret-4f1c"
VERIFY_TOKEN = "verify-me-7a2b"
TOKEN_KEY = Fernet.generate_key().decode()


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Answer = tuple[int, Any, dict[str, str]]
Handler = Callable[[Seen], Answer]


@dataclass
class FakePlatform:
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    routes: dict[tuple[str, str], Handler | list[Answer | Handler]] = field(default_factory=dict)

    def add(self, method: str, path: str, *answers: Answer | Handler) -> None:
        if len(answers) == 1 and callable(answers[0]):
            self.routes[(method, path)] = answers[0]
        else:
            self.routes[(method, path)] = list(answers)

    def answer(self, seen: Seen) -> Answer:
        route = self.routes.get((seen.method, seen.path))
        if route is None:
            return (
                404,
                {"error": {"message": f"no route {seen.method} {seen.path}", "code": 803}},
                {},
            )
        if callable(route):
            return route(seen)
        answer = route.pop(0) if len(route) > 1 else route[0]
        return answer(seen) if callable(answer) else answer

    def seen(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def listing(
        self, seen: Seen, items: list[dict[str, Any]], *, page_size: int = 100
    ) -> dict[str, Any]:
        """One page of a Graph API listing of ``items``, as the documented cursor paging gives
        it: ``limit`` items from the ``after`` cursor on (never more than ``page_size``, since the
        platform may return fewer than asked), ``paging.cursors`` on every page and
        ``paging.next`` (with the token inside, as the Graph API writes it) on all but the last."""
        start = int((seen.q("after") or "cursor-0").removeprefix("cursor-"))
        size = min(int(seen.q("limit") or 25), page_size)
        page = items[start : start + size]
        paging: dict[str, Any] = {
            "cursors": {"before": f"cursor-{start}", "after": f"cursor-{start + len(page)}"}
        }
        if start + size < len(items):
            query = {
                k: v[0] for k, v in seen.query.items() if k not in ("after", "appsecret_proof")
            }
            query.update(access_token="LEAKED", after=f"cursor-{start + len(page)}")
            paging["next"] = f"{self.url}{seen.path}?{urlencode(query)}"
        return {"data": page, "paging": paging}


def _handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            platform.requests.append(seen)
            status, payload, headers = platform.answer(seen)
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    with running_platform() as fake:
        yield fake


@contextmanager
def running_platform() -> Iterator[FakePlatform]:
    """A :class:`FakePlatform` served on a free loopback port while the block runs (the
    ``platform`` fixture, for tests outside this directory)."""
    fake = FakePlatform()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def no_sleep() -> list[float]:
    """Collects the back-off delays instead of waiting them out."""
    return []


def connector_settings(data_dir: Any, **extra: Any) -> Settings:
    return Settings(
        {
            "data_dir": str(data_dir),
            "secret_key": "test-secret-key-0123456789",
            "facebook_app_secret": APP_SECRET,
            "facebook_verify_token": VERIFY_TOKEN,
            "token_key": TOKEN_KEY,
            **extra,
        },
        environ={},
    )


@pytest.fixture
def cdesk(data_dir: Any, platform: FakePlatform) -> Iterator[Desk]:
    """A desk whose settings carry the Meta app secret, the verify token, the token key and the
    local Graph API."""
    d = Desk(connector_settings(data_dir, graph_api_url=platform.url), analyzer=KeywordAnalyzer())
    d.upgrade()
    yield d
    d.close()
