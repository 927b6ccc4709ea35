"""The webhook endpoint through the ASGI app: handshake, signatures, sizes, JSON, the spool, and
the promise that an acknowledged delivery is never lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crisisdesk.connectors.spool import Spool
from crisisdesk.connectors.webhook import processor_for, sign, spool_path
from crisisdesk.desk import Desk
from crisisdesk.models import Comment, CommentRevision
from crisisdesk.web.app import create_app
from crisisdesk.web.routes import webhooks
from tests.conftest import KeywordAnalyzer
from tests.connectors.conftest import APP_SECRET, VERIFY_TOKEN, connector_settings

URL = "/webhooks/facebook"


def make_desk(data_dir: Path) -> Desk:
    desk = Desk(connector_settings(data_dir), analyzer=KeywordAnalyzer())
    desk.upgrade()
    return desk


@pytest.fixture
def wdesk(data_dir: Path) -> Iterator[Desk]:
    desk = make_desk(data_dir)
    yield desk
    desk.close()


@pytest.fixture
def client(wdesk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(wdesk)) as c:
        yield c


def change(verb: str, cid: str, at: int, text: str = "", **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "item": "comment",
        "verb": verb,
        "comment_id": cid,
        "post_id": "100_1",
        "parent_id": "100_1",
        "from": {"id": "u1", "name": "Ada"},
        "created_time": at,
        **extra,
    }
    if text:
        value["message"] = text
    return {"field": "feed", "value": value}


def delivery(*changes: dict[str, Any], page: str = "100", time: int = 1714560000) -> bytes:
    return json.dumps(
        {"object": "page", "entry": [{"id": page, "time": time, "changes": list(changes)}]}
    ).encode()


def post(client: TestClient, body: bytes, signature: str | None = "valid") -> Any:
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = sign(body, APP_SECRET)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post(URL, content=body, headers=headers)


def comments(desk: Desk) -> dict[str, Comment]:
    with desk.session() as s:
        return {c.platform_id: c for c in s.scalars(select(Comment))}


def settle(desk: Desk) -> None:
    processor_for(desk).drain()


def test_handshake_answers_only_the_verify_token(client: TestClient) -> None:
    ok = client.get(
        URL,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = client.get(
        URL, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "x"}
    )
    assert wrong.status_code == 403 and "x" not in wrong.text
    assert client.get(URL, params={"hub.challenge": "x"}).status_code == 403


def test_route_is_not_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert not any(path.startswith("/webhooks") for path in schema.get("paths", {}))


def test_signed_delivery_is_acknowledged_then_ingested(client: TestClient, wdesk: Desk) -> None:
    response = post(client, delivery(change("add", "c1", 1714560000, "My order is late")))
    assert response.status_code == 200 and response.text == "EVENT_RECEIVED"
    settle(wdesk)
    stored = comments(wdesk)["c1"]
    assert stored.text == "My order is late" and stored.kind == "complaint"
    assert stored.source == "webhook"
    assert processor_for(wdesk).spool.count() == 0


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=abc", sign(b"another body", APP_SECRET), "garbage\u00e9"],
)
def test_forged_or_missing_signatures_store_nothing(
    client: TestClient, wdesk: Desk, signature: str | None
) -> None:
    body = delivery(change("add", "c1", 1714560000, "forged"))
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature.encode("utf-8")  # type: ignore[assignment]
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert processor_for(wdesk).spool.count() == 0
    settle(wdesk)
    assert comments(wdesk) == {}


def test_signature_covers_the_raw_bytes(client: TestClient, wdesk: Desk) -> None:
    body = delivery(change("add", "c1", 1714560000, "caffè"))
    respaced = body.replace(b'", "', b'","')  # same JSON, other bytes: another signature
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    assert client.post(URL, content=respaced, headers=headers).status_code == 403


def test_oversized_and_malformed_bodies(
    client: TestClient, wdesk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "MAX_BODY_BYTES", 1000)
    big = delivery(change("add", "c1", 1714560000, "x" * 2000))
    assert post(client, big).status_code == 413
    assert post(client, b'{"object": "page", "entry": [', "valid").status_code == 400
    assert post(client, b"[1, 2]").status_code == 400
    assert post(client, b"\xff\xfe not utf-8").status_code == 400
    assert processor_for(wdesk).spool.count() == 0


def test_without_an_app_secret_every_delivery_is_refused(data_dir: Path) -> None:
    from crisisdesk.settings import Settings

    desk = Desk(Settings({"data_dir": str(data_dir)}, environ={}), analyzer=KeywordAnalyzer())
    desk.upgrade()
    try:
        with TestClient(create_app(desk)) as c:
            body = delivery(change("add", "c1", 1714560000, "hi"))
            headers = {"X-Hub-Signature-256": sign(body, "")}
            assert c.post(URL, content=body, headers=headers).status_code == 403
            assert (
                c.get(
                    URL,
                    params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
                ).status_code
                == 403
            )
    finally:
        desk.close()


def test_duplicates_and_out_of_order_deliveries_are_harmless(
    client: TestClient, wdesk: Desk
) -> None:
    t = 1714560000
    # The edit arrives before the comment it edits, then the original twice.
    post(client, delivery(change("edited", "c1", t + 60, "Order is late, still waiting")))
    post(client, delivery(change("add", "c1", t, "Order is late")))
    post(client, delivery(change("add", "c1", t, "Order is late")))
    # Hide (newer) before unhide (older): the comment ends hidden.
    post(client, delivery(change("hide", "c1", t + 300)))
    post(client, delivery(change("unhide", "c1", t + 200)))
    settle(wdesk)
    c1 = comments(wdesk)["c1"]
    assert c1.text == "Order is late, still waiting" and c1.status == "hidden"
    with wdesk.session() as s:
        revisions = list(s.scalars(select(CommentRevision.text)))
    assert revisions == ["Order is late"]
    # Removed, then a stale edit and a stale add: it stays removed, nothing is duplicated.
    post(client, delivery(change("remove", "c1", t + 400)))
    post(client, delivery(change("edited", "c1", t + 100, "Order is late!!")))
    post(client, delivery(change("add", "c1", t, "Order is late")))
    settle(wdesk)
    assert comments(wdesk)["c1"].status == "removed"
    assert len(comments(wdesk)) == 1
    assert wdesk.stats()["comments"] == 1


def test_an_edit_carrying_the_creation_time_still_wins_over_a_late_add(
    client: TestClient, wdesk: Desk
) -> None:
    t = 1714560000
    # The edit's created_time is the comment's creation time; the entry time says when it was
    # edited. Delivered before the add, it must still end as the current text.
    post(client, delivery(change("edited", "c1", t, "Late, and nobody answers"), time=t + 600))
    post(client, delivery(change("add", "c1", t, "Late"), time=t + 1))
    settle(wdesk)
    c1 = comments(wdesk)["c1"]
    assert c1.text == "Late, and nobody answers"
    assert c1.created_at.replace(tzinfo=None) == datetime.fromtimestamp(t, UTC).replace(tzinfo=None)


def test_stale_hide_after_newer_unhide_of_a_visible_comment(
    client: TestClient, wdesk: Desk
) -> None:
    t = 1714560000
    post(client, delivery(change("add", "c1", t, "Order is late")))
    post(client, delivery(change("unhide", "c1", t + 300)))
    post(client, delivery(change("hide", "c1", t + 200)))
    settle(wdesk)
    assert comments(wdesk)["c1"].status == "visible"


def test_one_delivery_with_many_changes_and_non_comment_items(
    client: TestClient, wdesk: Desk
) -> None:
    body = delivery(
        change("add", "c1", 1714560000, "first"),
        {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": "100_1"}},
        {"field": "feed", "value": {"item": "comment", "verb": "explode", "comment_id": "c9"}},
        change("add", "c2", 1714560001, "second", parent_id="c1"),
    )
    assert post(client, body).status_code == 200
    settle(wdesk)
    stored = comments(wdesk)
    assert set(stored) == {"c1", "c2"}
    assert stored["c2"].parent_id == stored["c1"].id
    assert processor_for(wdesk).rejected == 1


def test_instagram_comment_delivery(client: TestClient, wdesk: Desk) -> None:
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": "17841400000000001",
                    "time": 1714560000,
                    "changes": [
                        {
                            "field": "comments",
                            "value": {
                                "from": {"id": "232323", "username": "test"},
                                "media": {"id": "123123", "media_product_type": "FEED"},
                                "id": "17865799348089039",
                                "parent_id": "17865799348080000",
                                "text": "This is broken",
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    assert post(client, body).status_code == 200
    settle(wdesk)
    ig = comments(wdesk)["17865799348089039"]
    assert ig.platform == "instagram" and ig.text == "This is broken"
    assert ig.parent_platform_id == "17865799348080000"


def test_background_worker_processes_without_being_asked(client: TestClient, wdesk: Desk) -> None:
    post(client, delivery(change("add", "c7", 1714560000, "hello there")))
    deadline = time.monotonic() + 10
    while "c7" not in comments(wdesk) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "c7" in comments(wdesk)


def test_crash_between_acknowledgement_and_processing_loses_nothing(data_dir: Path) -> None:
    # The first process acknowledged deliveries (they are in the spool) and died before
    # processing them: nothing reached the store.
    first = make_desk(data_dir)
    spool = Spool(spool_path(first))
    spool.put(delivery(change("add", "c1", 1714560000, "Acknowledged, then crash")))
    spool.put(delivery(change("add", "c2", 1714560001, "Me too")))
    assert first.stats()["comments"] == 0
    first.close()
    # A new process on the same data directory replays the spool when it starts.
    second = make_desk(data_dir)
    try:
        with TestClient(create_app(second)):
            deadline = time.monotonic() + 10
            while second.stats()["comments"] < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert set(comments(second)) == {"c1", "c2"}
        assert Spool(spool_path(second)).count() == 0
    finally:
        second.close()


def test_an_unreadable_spool_file_is_set_aside(wdesk: Desk) -> None:
    processor = processor_for(wdesk)
    (processor.spool.incoming / "00000000000000000001-1-00000000-aaaaaa.json").write_bytes(b"{bad")
    processor.spool.put(delivery(change("add", "c1", 1714560000, "fine")))
    processor.drain()
    assert "c1" in comments(wdesk)
    assert processor.spool.count() == 0
    assert any(p.name.endswith(".reason.txt") for p in processor.spool.failed.iterdir())


def _login(client: TestClient, desk: Desk) -> None:
    import re

    desk.add_user("ann", "correct-horse-battery")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    r = client.post(
        "/login",
        data={"username": "ann", "password": "correct-horse-battery", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_connections_page_lists_accounts_without_tokens(client: TestClient, wdesk: Desk) -> None:
    from crisisdesk.connectors.store import save_connection

    assert client.get("/connections", follow_redirects=False).status_code == 303
    _login(client, wdesk)
    save_connection(wdesk, "facebook", "100", token="EAAB-secret-token", name="<b>Bar</b>")
    page = client.get("/connections")
    assert page.status_code == 200
    assert "&lt;b&gt;Bar&lt;/b&gt;" in page.text and "<b>Bar</b>" not in page.text
    assert "EAAB-secret-token" not in page.text
    # a full address for Meta's form (the test client's own), and the https it needs said plainly
    assert "<code>http://testserver/webhooks/facebook</code>" in page.text
    assert "CRISISDESK_PUBLIC_URL" in page.text


def test_a_delivery_the_store_refuses_is_retried_then_set_aside(
    wdesk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_ingest = wdesk.ingest

    def ingest(items: Any, *args: Any, **kwargs: Any) -> Any:
        items = list(items)
        if any(getattr(i, "platform_id", None) == "poison" for i in items):
            raise RuntimeError("constraint failed")
        return real_ingest(items, *args, **kwargs)

    monkeypatch.setattr(wdesk, "ingest", ingest)
    processor = processor_for(wdesk)
    processor.spool.put(delivery(change("add", "poison", 1714560000, "bad")))
    processor.spool.put(delivery(change("add", "good", 1714560001, "fine")))
    processor.drain()
    assert "good" in comments(wdesk) and processor.spool.count() == 1
    with pytest.raises(RuntimeError):
        processor.drain()  # alone, it looks like the store is down: kept, the caller backs off
    assert processor.spool.count() == 1
    processor.spool.put(delivery(change("add", "good2", 1714560002, "fine too")))
    processor.drain()
    processor.spool.put(delivery(change("add", "good3", 1714560003, "and this")))
    processor.drain()
    assert processor.spool.count() == 0
    assert {"good", "good2", "good3"} <= set(comments(wdesk))
    assert any(
        "ingest failed 3 times" in p.read_text() for p in processor.spool.failed.glob("*.txt")
    )


def test_when_the_store_is_down_the_spool_keeps_everything(
    wdesk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is locked")

    processor = processor_for(wdesk)
    processor.spool.put(delivery(change("add", "c1", 1714560000, "one")))
    processor.spool.put(delivery(change("add", "c2", 1714560001, "two")))
    monkeypatch.setattr(wdesk, "ingest", down)
    with pytest.raises(RuntimeError):
        processor.drain()
    assert processor.spool.count() == 2
    monkeypatch.undo()
    processor.drain()
    assert {"c1", "c2"} <= set(comments(wdesk))


def test_a_dedicated_worker_takes_over_from_the_web_process(data_dir: Path) -> None:
    import threading

    from crisisdesk.connectors.webhook import WebhookProcessor

    web = make_desk(data_dir)
    worker_desk = make_desk(data_dir)
    inline = processor_for(web)
    inline.poll_seconds = 0.05
    worker = WebhookProcessor(worker_desk, Spool(spool_path(worker_desk)))
    worker.poll_seconds = 0.05
    thread = threading.Thread(target=worker.run_forever)
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while not inline.spool.external_worker_active() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert inline.spool.external_worker_active()
        with pytest.raises(RuntimeError, match="another webhook worker"):
            WebhookProcessor(web, inline.spool).run_forever()
        inline.start()  # as the web app's start-up does: it must leave the work to the worker
        inline.spool.put(delivery(change("add", "c1", 1714560000, "from the web side")))
        inline.notify()
        while worker.processed < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "c1" in comments(web)
        assert worker.processed == 1 and inline.processed == 0
    finally:
        worker.stop()
        thread.join(10)
        inline.stop()
        web.close()
        worker_desk.close()
    assert not thread.is_alive()
    assert not inline.spool.external_worker_active()  # the claim ends with the worker


def test_a_worker_starting_while_the_web_process_asks_is_not_refused(tmp_path: Path) -> None:
    # The web process asks whether a worker holds the spool by taking its lock for an instant,
    # several times a second; a worker claiming in that instant was refused as "busy".
    import threading

    spool = Spool(tmp_path / "spool")
    asking = threading.Event()
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            spool.external_worker_active()
            asking.set()

    thread = threading.Thread(target=ask)
    thread.start()
    try:
        asking.wait(5)
        for _ in range(30):
            claim = spool.hold_worker_lock()
            assert claim is not None
            claim.close()
        # a worker that really holds the spool is still refused, after the patience
        claim = spool.hold_worker_lock()
        assert claim is not None
        started = time.monotonic()
        assert Spool(tmp_path / "spool").hold_worker_lock(patience=0.2) is None
        assert time.monotonic() - started >= 0.2
        claim.close()
    finally:
        done.set()
        thread.join(5)


def test_a_delivery_that_cannot_be_spooled_is_not_acknowledged(
    client: TestClient, wdesk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(body: bytes) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(processor_for(wdesk).spool, "put", full)
    response = post(client, delivery(change("add", "c1", 1714560000, "hello")))
    assert response.status_code == 503


def test_a_comment_change_links_its_post(client: TestClient, wdesk: Desk) -> None:
    from crisisdesk.models import Post

    shown = {
        "status_type": "mobile_status_update",
        "is_published": True,
        "updated_time": "2024-05-01T10:40:00+0000",
        "permalink_url": "https://www.facebook.com/shop/posts/pfbid02xyz",
        "promotion_status": "inactive",
        "id": "100_1",
    }
    body = delivery(change("add", "c1", 1714560000, "My order is late", post=shown))
    assert post(client, body).status_code == 200
    settle(wdesk)
    # an edit arrives without the post object: the link stays
    edit = delivery(change("edited", "c1", 1714560300, "My order is very late"), time=1714560300)
    assert post(client, edit).status_code == 200
    settle(wdesk)
    stored = comments(wdesk)["c1"]
    assert stored.text == "My order is very late" and stored.permalink is None
    with wdesk.session() as s:
        assert s.get(Post, stored.post_id).permalink == shown["permalink_url"]  # type: ignore[union-attr]
