"""Plumbing shared by the browser tests: the Chromium to drive, and the desk served for real."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser_path() -> str:
    """Debian's Chromium; skipped without it, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CRISISDESK_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (CRISISDESK_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


#: Chromium's flags for this machine: headless as root, and no calls home (the network is closed,
#: and its background connections would only fail, many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright: Any, browser_path: str) -> Any:
    """Debian's Chromium, headless, driven by Playwright."""
    return playwright.chromium.launch(
        executable_path=browser_path, headless=True, args=CHROMIUM_ARGS
    )


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


PASSWORD = "correct-horse-battery"


def log_in(client: Any, username: str = "ann", password: str = PASSWORD) -> None:
    """Sign ``client`` in through the login form, as a person would (CSRF token included)."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def browser_log_in(page: Any, base: str, username: str = "ann", password: str = PASSWORD) -> None:
    """Sign a Playwright ``page`` in through the login form and wait for the inbox."""
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(base + "/")


def real_time_clock(desk: Any) -> Any:
    """A test clock set to now, for the browser: its countdowns (Date.now()) and the server agree,
    and the test can still move the desk's time forward instead of waiting."""
    from datetime import UTC, datetime

    from tests.workflow.wf_support import Clock

    clock = Clock(datetime.now(UTC))
    desk.clock = clock
    return clock


def form_token(client: Any, path: str) -> str:
    """The CSRF token of the forms on ``path``."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert token, path
    return token.group(1)


def signed_in(desk: Any, lang: str, username: str | None = None) -> Any:
    """A test client signed in as a user who reads ``lang`` (the app's demo sign-in), with the
    CSRF token every form needs already in its headers. Use it as a context manager."""
    from fastapi.testclient import TestClient

    from crisisdesk.web.app import create_app

    username = username or f"user-{lang}"
    desk.add_user(username, "correct-horse-battery", language=lang)
    client = TestClient(create_app(desk, demo_user=username))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/cases").text)
    assert token
    client.headers["X-CSRF-Token"] = token.group(1)
    client.headers["accept-language"] = lang
    return client


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> late "quoted" & vergogna'


def hostile_burst(start: Any) -> list[Any]:
    """The flame tests' burst of comments, every third one hostile markup by "<b>Mallory</b>"."""
    from tests.signals.test_flame import burst

    records = burst(start)
    for r in records[::3]:
        r.text = HOSTILE
        r.author_name = "<b>Mallory</b>"
    return records


@pytest.fixture
def flamed(desk: Any) -> Any:
    """A desk whose page is in a flame: calm history, then a burst with hostile comments."""
    from datetime import timedelta

    from crisisdesk.signals.flame import monitor_for
    from tests.signals.test_flame import feed, history

    monitor_for(desk)
    past = history()
    desk.ingest(past)
    feed(desk, hostile_burst(past[-1].created_at + timedelta(minutes=10)))
    return desk
