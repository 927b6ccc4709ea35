"""`crisisdesk serve` with webhooks configured runs their ingest in a second process: a signed
delivery posted to the real server ends up in the store, and stopping the server stops the worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from crisisdesk.connectors.webhook import sign
from tests.connectors.test_webhooks import change, delivery

SECRET = "app-secret-for-this-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_a_webhook_worker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    env = {
        **os.environ,
        "CRISISDESK_SECRET_KEY": "a-real-secret-key-for-this-test-0123456789",
        "CRISISDESK_FACEBOOK_APP_SECRET": SECRET,
        "CRISISDESK_FACEBOOK_VERIFY_TOKEN": "verify-me",
        "CRISISDESK_ANALYZER": "lexicon",  # no model loading: the test is about processes
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "crisisdesk", "serve", "--port", str(port), "--data-dir", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
            body = delivery(change("add", "w1", 1714560000, "Order is late"))
            r = client.post(
                "/webhooks/facebook",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(body, SECRET),
                },
            )
            assert r.status_code == 200
        children = subprocess.run(
            ["ps", "-o", "args=", "--ppid", str(server.pid)], capture_output=True, text=True
        ).stdout
        assert "webhook-worker" in children
        deadline = time.monotonic() + 30
        while True:
            stats = subprocess.run(
                [sys.executable, "-m", "crisisdesk", "stats", "--json", "--data-dir", str(data)],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            if json.loads(stats.stdout)["comments"] == 1:
                break
            assert time.monotonic() < deadline, "the delivery was not ingested"
            time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
    # The worker went with the server.
    leftover = subprocess.run(
        ["pgrep", "-s", str(server.pid), "-f", "webhook-worker"], capture_output=True, text=True
    ).stdout
    assert leftover.strip() == ""
