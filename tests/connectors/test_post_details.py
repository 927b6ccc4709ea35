"""Live comments name their post by id only: the desk asks the platform, once per post, what the
post says and where it is, and never holds a comment back for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crisisdesk.connectors.accounts import sync_connection
from crisisdesk.connectors.posts import RETRY_SECONDS, UNCONNECTED_SECONDS, PostDetailsFiller
from crisisdesk.connectors.spool import Spool
from crisisdesk.connectors.store import save_connection
from crisisdesk.connectors.webhook import WebhookProcessor, spool_path
from crisisdesk.desk import Desk
from crisisdesk.models import Comment, Post
from tests.connectors.conftest import FakePlatform, Seen

GRAPH = "/v21.0"
POST_TEXT = "Nuovi orari <b>dal lunedì</b> & festivi"
POST_LINK = "https://www.facebook.com/shop/posts/pfbid0abc"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed_change(cid: str, at: int, *, post: str = "100_1", text: str = "Ordine in ritardo") -> Any:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": cid,
            "post_id": post,
            "parent_id": post,
            "from": {"id": f"u{cid}", "name": "Ada"},
            "created_time": at,
            "message": text,
        },
    }


def deliver(
    processor: WebhookProcessor, *changes: Any, obj: str = "page", page: str = "100"
) -> None:
    body = {"object": obj, "entry": [{"id": page, "time": 1714560000, "changes": list(changes)}]}
    processor.spool.put(json.dumps(body).encode())
    processor.drain()


def stored_posts(desk: Desk) -> dict[str, Post]:
    with desk.session() as s:
        return {p.platform_id: p for p in s.scalars(select(Post))}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def processor(cdesk: Desk, http: httpx.Client, clock: Clock) -> WebhookProcessor:
    save_connection(cdesk, "facebook", "100", token="page-token-secret", name="Shop")
    save_connection(cdesk, "instagram", "1784", token="ig-token-secret", name="shop")
    filler = PostDetailsFiller(cdesk, http=http, clock=clock)
    return WebhookProcessor(cdesk, Spool(spool_path(cdesk)), post_details=filler)


def test_a_webhook_comment_names_its_post_with_one_call_per_post(
    cdesk: Desk, platform: FakePlatform, processor: WebhookProcessor
) -> None:
    platform.add(
        "GET",
        f"{GRAPH}/100_1",
        (200, {"id": "100_1", "message": POST_TEXT, "permalink_url": POST_LINK}, {}),
    )
    deliver(processor, feed_change("c1", 1714560000), feed_change("c2", 1714560005))
    deliver(processor, feed_change("c3", 1714560010))

    post = stored_posts(cdesk)["100_1"]
    assert (post.message, post.permalink) == (POST_TEXT, POST_LINK)
    asked = platform.seen("GET", f"{GRAPH}/100_1")
    # Two deliveries, three comments: one question, and the store answers the second time.
    assert len(asked) == 1
    assert asked[0].q("fields") == "message,permalink_url"
    assert asked[0].headers["authorization"] == "Bearer page-token-secret"
    with cdesk.session() as s:
        assert len(s.scalars(select(Comment)).all()) == 3


def test_an_instagram_comment_names_its_media(
    cdesk: Desk, platform: FakePlatform, processor: WebhookProcessor
) -> None:
    platform.add(
        "GET",
        f"{GRAPH}/17900",
        (
            200,
            {
                "id": "17900",
                "caption": "Il menu d'autunno",
                "permalink": "https://www.instagram.com/p/Cx1/",
            },
            {},
        ),
    )
    change = {
        "field": "comments",
        "value": {
            "id": "180001",
            "text": "Quando riaprite?",
            "from": {"id": "u9", "username": "lia"},
            "media": {"id": "17900", "media_product_type": "FEED"},
        },
    }
    deliver(processor, change, obj="instagram", page="1784")
    post = stored_posts(cdesk)["17900"]
    assert (post.message, post.permalink) == (
        "Il menu d'autunno",
        "https://www.instagram.com/p/Cx1/",
    )
    assert platform.seen("GET", f"{GRAPH}/17900")[0].q("fields") == "caption,permalink"


def test_a_failed_lookup_costs_one_call_and_no_comment(
    cdesk: Desk, platform: FakePlatform, processor: WebhookProcessor, clock: Clock
) -> None:
    # The Graph API says "too many calls": the live lookup does not wait it out or retry.
    platform.add(
        "GET", f"{GRAPH}/100_1", (400, {"error": {"message": "Calls limit", "code": 4}}, {})
    )
    deliver(processor, feed_change("c1", 1714560000))
    assert len(platform.seen("GET", f"{GRAPH}/100_1")) == 1
    assert stored_posts(cdesk)["100_1"].message is None
    with cdesk.session() as s:
        assert s.scalars(select(Comment.platform_id)).all() == ["c1"]

    # Within the hour the post is not asked again; after it, it is.
    clock.now += RETRY_SECONDS - 1
    deliver(processor, feed_change("c2", 1714560100))
    assert len(platform.seen("GET", f"{GRAPH}/100_1")) == 1
    platform.add(
        "GET", f"{GRAPH}/100_1", (200, {"message": POST_TEXT, "permalink_url": POST_LINK}, {})
    )
    clock.now += 2
    deliver(processor, feed_change("c3", 1714560200))
    assert len(platform.seen("GET", f"{GRAPH}/100_1")) == 2
    assert stored_posts(cdesk)["100_1"].message == POST_TEXT


def test_what_the_delivery_says_is_kept_and_hostile_ids_are_not_asked(
    cdesk: Desk, platform: FakePlatform, processor: WebhookProcessor
) -> None:
    platform.add(
        "GET", f"{GRAPH}/100_2", (200, {"message": "Da Graph", "permalink_url": POST_LINK}, {})
    )
    given = feed_change("c1", 1714560000, post="100_2")
    given["value"]["post"] = {
        "id": "100_2",
        "permalink_url": "https://www.facebook.com/shop/posts/given",
    }
    deliver(processor, given)
    post = stored_posts(cdesk)["100_2"]
    # The delivery's own link wins; the text, which it lacked, comes from the lookup.
    assert (post.message, post.permalink) == (
        "Da Graph",
        "https://www.facebook.com/shop/posts/given",
    )

    # A post id that is not a Graph id would change the request's path: it is never sent.
    deliver(processor, feed_change("c2", 1714560001, post="../me/accounts"))
    assert [r.path for r in platform.requests] == [f"{GRAPH}/100_2"]
    with cdesk.session() as s:
        assert "c2" in s.scalars(select(Comment.platform_id)).all()


def test_a_page_without_a_connection_is_not_asked_until_it_is_connected(
    cdesk: Desk, platform: FakePlatform, processor: WebhookProcessor, clock: Clock
) -> None:
    platform.add(
        "GET", f"{GRAPH}/999_1", (200, {"message": POST_TEXT, "permalink_url": POST_LINK}, {})
    )
    deliver(processor, feed_change("c1", 1714560000, post="999_1"), page="999")
    assert platform.requests == []
    assert stored_posts(cdesk)["999_1"].message is None
    save_connection(cdesk, "facebook", "999", token="other-page-token", name="Other")
    clock.now += UNCONNECTED_SECONDS + 1
    deliver(processor, feed_change("c2", 1714560100, post="999_1"), page="999")
    assert [r.path for r in platform.requests] == [f"{GRAPH}/999_1"]
    assert stored_posts(cdesk)["999_1"].message == POST_TEXT


def test_a_mastodon_fetch_names_the_status_replied_to(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    status = {
        "id": "101",
        "created_at": "2024-05-01T10:01:00.000Z",
        "in_reply_to_id": "50",
        "in_reply_to_account_id": "1",
        "url": "https://other.social/@user1/101",
        "content": "<p>Ancora nessuna risposta</p>",
        "account": {"id": "901", "acct": "user1@other.social", "display_name": "User 1"},
    }

    def notifications(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        return 200, [{"id": "11", "type": "mention", "created_at": "x", "status": status}], {}

    platform.add("GET", "/api/v1/notifications", notifications)
    platform.add(
        "GET",
        "/api/v1/statuses/50",
        (
            200,
            {
                "id": "50",
                "url": "https://shop.social/@shop/50",
                "content": "<p>Chiusi per ferie &amp; inventario</p>",
            },
            {},
        ),
    )
    row = save_connection(
        cdesk, "mastodon", "1", token="mast-token", config={"base_url": platform.url}
    )
    outcome = sync_connection(cdesk, row, http)
    assert outcome.error is None and outcome.report.inserted == 1
    post = stored_posts(cdesk)["50"]
    assert (post.message, post.permalink) == (
        "Chiusi per ferie & inventario",
        "https://shop.social/@shop/50",
    )


def test_a_batch_spends_a_bounded_time_and_number_of_lookups(cdesk: Desk) -> None:
    from crisisdesk.connectors import PostDetails
    from crisisdesk.connectors.posts import BUDGET_SECONDS, MAX_LOOKUPS
    from crisisdesk.ingest.record import CommentRecord

    clock = Clock()

    class Slow:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def post_details(self, post_id: str) -> PostDetails:
            self.asked.append(post_id)
            clock.now += 3.0  # each answer takes three seconds
            return PostDetails("text", "https://example.com/p")

    def records(n: int) -> list[CommentRecord]:
        return [
            CommentRecord(
                platform="mastodon", platform_id=f"c{i}", created_at=datetime(2024, 5, 1, tzinfo=UTC),
                text="hello", page="1", post_id=f"p{i}",
            )
            for i in range(n)
        ]  # fmt: skip

    slow = Slow()
    filler = PostDetailsFiller(cdesk, clock=clock)
    looked = filler.fill(records(6), connector=slow)
    # The budget is checked before each lookup: the one that starts before it runs out ends.
    assert looked == len(slow.asked) == int(BUDGET_SECONDS // 3) + 1

    class Fast:
        def post_details(self, post_id: str) -> PostDetails:
            return PostDetails("text", "https://example.com/p")

    assert (
        PostDetailsFiller(cdesk, clock=clock).fill(records(MAX_LOOKUPS + 5), Fast()) == MAX_LOOKUPS
    )
