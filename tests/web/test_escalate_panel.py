"""Escalating from the case panel says what happened and shows who is now responsible."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.settings import Settings
from tests.web.conftest import signed_in
from tests.workflow.wf_support import comment_id, record, seed

HX = {"HX-Request": "true"}
CONTACTS = {"delivery": "Responsabile consegne", "default": "Social media manager"}


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    seed(desk)
    desk.configure_page("facebook", "P1", config={"contacts": CONTACTS})
    with signed_in(desk, "it", "ann") as c:
        yield c


def responsible(html: str) -> str:
    found = re.search(r'<dd id="case-responsible">([^<]*)</dd>', html)
    assert found, html
    return found.group(1).strip()


def test_guessed_topic_names_its_contact_and_says_so(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")  # "My order arrived late...": the delivery topic
    client.post(f"/comments/{cid}/case/open", headers=HX)
    before = client.get(f"/comments/{cid}/case", headers=HX).text
    assert "escalation-result" not in before
    html = client.post(f"/comments/{cid}/case/escalate", data={"topic": ""}, headers=HX).text
    assert responsible(html) == "Responsabile consegne"
    result = re.search(r'<p[^>]*id="escalation-result"[^>]*>(.*?)</p>', html, re.S)
    assert result, html
    text = " ".join(result.group(1).split())
    # the built-in topic in the reader's language, not the configuration's key
    assert "Responsabile consegne" in text and "consegne" in text and "delivery" not in text
    assert "nessuna notifica" in text  # no webhook or e-mail configured on this desk
    options = re.findall(r'<option value="(\w+)">([^<]*)</option>', html)
    assert ("delivery", "consegne → Responsabile consegne") in options
    assert ("default", "tutto il resto → Social media manager") in options


def test_escalation_without_javascript_shows_the_outcome_after_the_redirect(
    client: TestClient, desk: Desk
) -> None:
    cid = comment_id(desk, "c-en")
    client.post(f"/comments/{cid}/case/open", headers=HX)
    r = client.post(
        f"/comments/{cid}/case/escalate", data={"topic": "default"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert 'id="escalation-result"' in page and responsible(page) == "Social media manager"
    # shown once: a reload does not confirm it again
    assert 'id="escalation-result"' not in client.get(r.headers["location"]).text


def test_no_topic_in_the_comment_falls_back_to_the_default_contact(
    client: TestClient, desk: Desk
) -> None:
    desk.ingest([record("hello", "Buongiorno a tutti, che bella giornata")])
    cid = comment_id(desk, "hello")
    client.post(f"/comments/{cid}/case/open", headers=HX)
    html = client.post(f"/comments/{cid}/case/escalate", data={"topic": ""}, headers=HX).text
    assert responsible(html) == "Social media manager"
    assert "nessun argomento riconosciuto" in html


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        self.bodies.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_escalation_says_which_channels_were_notified(data_dir: Path, analyzer: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    settings = Settings(
        {
            "data_dir": str(data_dir),
            "secret_key": "test-secret-key-0123456789",
            "webhook_urls": url,
        },
        environ={},
    )
    desk = Desk(settings, analyzer=analyzer)
    desk.upgrade()
    try:
        seed(desk)
        desk.configure_page("facebook", "P1", config={"contacts": CONTACTS})
        with signed_in(desk, "en", "ann") as c:
            cid = comment_id(desk, "c-en")
            c.post(f"/comments/{cid}/case/open", headers=HX)
            html = c.post(f"/comments/{cid}/case/escalate", data={"topic": ""}, headers=HX).text
        result = re.search(r'id="escalation-result"[^>]*>(.*?)</p>', html, re.S)
        assert result
        assert "notified: webhook." in " ".join(result.group(1).split())
        deadline = time.monotonic() + 10
        while not _Receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"Responsabile consegne" in _Receiver.bodies[0]
    finally:
        desk.close()
        server.shutdown()
