"""The Connections page's forms: connect, disconnect and fetch now, through the web app, against
local servers replaying the Graph API, Bluesky's XRPC and Mastodon's REST contracts."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from crisisdesk.connectors.accounts import fetch_jobs_for
from crisisdesk.connectors.facebook import NEEDED_PERMISSIONS
from crisisdesk.connectors.store import load_connections, save_connection, token_of
from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from tests.conftest import KeywordAnalyzer
from tests.connectors.conftest import (
    APP_SECRET,
    FakePlatform,
    Seen,
    connector_settings,
    running_platform,
)
from tests.connectors.test_commands import serve_checks
from tests.connectors.test_facebook import V, serve_page
from tests.web.conftest import PASSWORD, form_token

TOKEN = "EAAB-web-page-token-5e1f"
APP_PASSWORD = "app-pass-1234"
MASTODON_TOKEN = "mast-web-token-77"


@pytest.fixture
def fake() -> Iterator[FakePlatform]:
    with running_platform() as platform:
        yield platform


def _desk(data_dir: Path, fake: FakePlatform, **extra: Any) -> Desk:
    d = Desk(
        connector_settings(data_dir, graph_api_url=fake.url, **extra), analyzer=KeywordAnalyzer()
    )
    d.upgrade()
    # The fake page's comments were written on 2024-05-01; "fetch now" reads the last days.
    d.clock = lambda: datetime(2024, 5, 3, tzinfo=UTC)
    return d


@pytest.fixture
def kdesk(data_dir: Path, fake: FakePlatform) -> Iterator[Desk]:
    d = _desk(data_dir, fake)
    yield d
    fetch_jobs_for(d).wait()
    d.close()


class Seeing:
    """Every response body a client received, to look for a secret in all of them."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.bodies.append(response.text)
        self.bodies.append(json.dumps(dict(response.headers)))


def client_for(desk: Desk, role: str = "admin", lang: str = "en") -> tuple[TestClient, Seeing]:
    username = f"{role}-{lang}"
    desk.add_user(username, PASSWORD, role=role, language=lang)
    client = TestClient(create_app(desk, demo_user=username))
    seeing = Seeing()
    client.event_hooks["response"].append(seeing)
    client.headers["accept-language"] = lang
    client.headers["X-CSRF-Token"] = form_token(client, "/connections")
    return client, seeing


def connect_facebook(client: TestClient, token: str = TOKEN, **extra: str) -> httpx.Response:
    return client.post(
        "/connections/new/facebook",
        data={"page_id": "100", "page_token": token, "app_id": "42", **extra},
        follow_redirects=False,
    )


def audit_text(desk: Desk) -> str:
    return json.dumps(
        [[e.actor, e.action, e.object_id, e.reason, e.detail] for e in desk.audit_entries()]
    )


def test_an_admin_connects_a_facebook_page(
    kdesk: Desk, fake: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    serve_checks(fake)
    client, seeing = client_for(kdesk)
    r = connect_facebook(client)
    assert r.status_code == 303 and r.headers["location"] == "/connections"
    page = client.get("/connections").text
    assert "Connected facebook account Bar Centrale" in page
    assert "acts on the platform" in page and "not active" not in page
    # /me/permissions said pages_messaging was declined: the page says so, now and later.
    assert "pages_messaging" in page
    assert "pages_messaging" in client.get("/connections").text
    # The token went to the Graph API (in a header, with its proof), and is stored encrypted.
    me = fake.seen("GET", f"{V}/me")[0]
    assert me.headers["authorization"] == f"Bearer {TOKEN}"
    (row,) = load_connections(kdesk)
    assert (row.platform, row.account_id, row.name) == ("facebook", "100", "Bar Centrale")
    assert TOKEN.encode() not in (row.token_encrypted or b"")
    assert token_of(kdesk, row).reveal() == TOKEN
    assert row.config["app_id"] == "42"
    entries = [e for e in kdesk.audit_entries() if e.action == "connection.save"]
    assert [(e.actor, e.object_id) for e in entries] == [("admin-en", "facebook:100")]
    assert TOKEN not in audit_text(kdesk)
    assert not [b for b in seeing.bodies if TOKEN in b]
    assert TOKEN not in caplog.text


def test_a_connection_saved_after_the_connectors_were_installed_acts_at_once(
    kdesk: Desk, fake: FakePlatform
) -> None:
    from crisisdesk.models import Page

    serve_checks(fake)
    client, _ = client_for(kdesk)
    page = Page(platform="facebook", platform_id="100", name="Bar Centrale")
    assert kdesk.connector_for(page) is None  # installs the (no) stored connections
    assert connect_facebook(client).status_code == 303
    connector = kdesk.connector_for(page)
    assert connector is not None and connector.page_id == "100"
    assert "acts on the platform" in client.get("/connections").text


@pytest.mark.parametrize(
    ("lang", "code", "expected"),
    [
        ("en", 190, "it has expired or was revoked"),
        ("it", 190, "è scaduto o è stato revocato"),
        ("en", 200, "lacks a permission"),
        ("it", 200, "gli manca un permesso"),
    ],
)
def test_a_refused_token_is_explained_and_the_form_keeps_what_was_typed(
    kdesk: Desk, fake: FakePlatform, lang: str, code: int, expected: str
) -> None:
    # The platform quotes the token back in its message: it must not reach the page either.
    message = f"Error validating access token {TOKEN}: Session has expired"
    fake.add(
        "GET",
        f"{V}/me",
        (400, {"error": {"message": message, "type": "OAuthException", "code": code}}, {}),
    )
    client, seeing = client_for(kdesk, lang=lang)
    r = connect_facebook(client, app_secret="typed-app-secret-31")
    assert r.status_code == 400
    assert expected in r.text
    assert 'name="page_id" value="100"' in r.text and 'name="app_id" value="42"' in r.text
    assert 'id="connect-facebook" open' in r.text
    if code == 200:
        assert all(p in r.text for p in NEEDED_PERMISSIONS)
    assert load_connections(kdesk) == []
    assert "connection.save" not in audit_text(kdesk)
    for secret in (TOKEN, "typed-app-secret-31"):
        assert not [b for b in seeing.bodies if secret in b], secret


def test_another_refusal_shows_the_platforms_words_without_the_token(
    kdesk: Desk, fake: FakePlatform
) -> None:
    serve_checks(fake)
    fake.add(
        "GET",
        f"{V}/100",
        (
            404,
            {"error": {"message": f"Object 100 does not exist ({TOKEN})", "code": 803}},
            {},
        ),
    )
    client, seeing = client_for(kdesk)
    r = connect_facebook(client)
    assert r.status_code == 400
    assert "The platform did not accept the account." in r.text
    assert "Object 100 does not exist ([hidden])" in r.text
    assert not [b for b in seeing.bodies if TOKEN in b]


def test_a_token_for_another_page_is_refused(kdesk: Desk, fake: FakePlatform) -> None:
    serve_checks(fake)
    fake.add("GET", f"{V}/100", (200, {"id": "999", "name": "Someone Else"}, {}))
    client, _ = client_for(kdesk)
    r = connect_facebook(client)
    assert r.status_code == 400 and "belongs to another account" in r.text
    assert load_connections(kdesk) == []


def test_members_cannot_connect_disconnect_or_fetch(kdesk: Desk, fake: FakePlatform) -> None:
    serve_checks(fake)
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    client, _ = client_for(kdesk, role="member")
    page = client.get("/connections").text
    assert "Bar Centrale" in page
    assert "/connections/new/" not in page and "Fetch now" not in page
    assert connect_facebook(client).status_code == 403
    assert client.get(f"/connections/{row.id}/disconnect").status_code == 403
    assert client.post(f"/connections/{row.id}/disconnect").status_code == 403
    assert client.post(f"/connections/{row.id}/fetch").status_code == 403
    assert fake.requests == []
    assert [c.account_id for c in load_connections(kdesk)] == ["100"]


def test_posts_without_the_csrf_token_are_refused(kdesk: Desk, fake: FakePlatform) -> None:
    serve_checks(fake)
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    client, seeing = client_for(kdesk)
    del client.headers["X-CSRF-Token"]
    r = client.post(
        "/connections/new/bluesky",
        data={"handle": "shop.bsky.social", "app_password": APP_PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert client.post(f"/connections/{row.id}/disconnect").status_code == 403
    assert client.post(f"/connections/{row.id}/fetch").status_code == 403
    assert fake.requests == []
    assert [c.account_id for c in load_connections(kdesk)] == ["100"]
    assert not [b for b in seeing.bodies if APP_PASSWORD in b]


def test_without_a_token_key_the_forms_are_disabled_and_nothing_is_sent(
    data_dir: Path, fake: FakePlatform
) -> None:
    desk = _desk(data_dir, fake, token_key="")
    try:
        client, seeing = client_for(desk)
        page = client.get("/connections").text
        assert "CRISISDESK_TOKEN_KEY is not set" in page
        assert "<fieldset disabled>" in page
        r = connect_facebook(client)
        assert r.status_code == 400 and "nothing was sent" in r.text
        assert fake.requests == [] and load_connections(desk) == []
        assert not [b for b in seeing.bodies if TOKEN in b]
    finally:
        desk.close()


def _bluesky(fake: FakePlatform) -> None:
    def create_session(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if seen.json.get("password") != APP_PASSWORD:
            return 401, {"error": "AuthenticationRequired", "message": "Invalid password"}, {}
        return (
            200,
            {
                "accessJwt": "access-1",
                "refreshJwt": "refresh-1",
                "did": "did:plc:shop123",
                "handle": "shop.bsky.social",
            },
            {},
        )

    fake.add("POST", "/xrpc/com.atproto.server.createSession", create_session)


def test_bluesky_and_mastodon_connect_and_refuse_in_the_web_app(
    kdesk: Desk, fake: FakePlatform
) -> None:
    _bluesky(fake)
    fake.add(
        "GET",
        "/api/v1/accounts/verify_credentials",
        lambda seen: (
            (200, {"id": "1", "acct": "shop"}, {})
            if seen.headers.get("authorization") == f"Bearer {MASTODON_TOKEN}"
            else (401, {"error": "The access token is invalid"}, {})
        ),
    )
    client, seeing = client_for(kdesk, lang="it")
    wrong = client.post(
        "/connections/new/bluesky",
        data={"handle": "@shop.bsky.social", "app_password": "wrong-pass", "service": fake.url},
    )
    assert wrong.status_code == 400 and "è scaduto o è stato revocato" in wrong.text
    assert 'name="handle" value="@shop.bsky.social"' in wrong.text
    r = client.post(
        "/connections/new/bluesky",
        data={"handle": "shop.bsky.social", "app_password": APP_PASSWORD, "service": fake.url},
        follow_redirects=False,
    )
    assert r.status_code == 303
    bad = client.post(
        "/connections/new/mastodon", data={"base_url": fake.url, "token": "revoked-token-12"}
    )
    assert bad.status_code == 400 and "è scaduto" in bad.text
    no_scheme = client.post(
        "/connections/new/mastodon", data={"base_url": "mastodon.social", "token": MASTODON_TOKEN}
    )
    assert no_scheme.status_code == 400 and "https://" in no_scheme.text
    assert 'value="mastodon.social"' in no_scheme.text
    r = client.post(
        "/connections/new/mastodon",
        data={"base_url": fake.url + "/", "token": MASTODON_TOKEN},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Account mastodon shop collegato" in client.get("/connections").text
    rows = {c.platform: c for c in load_connections(kdesk)}
    assert rows["bluesky"].account_id == "did:plc:shop123"
    assert rows["bluesky"].config == {"handle": "shop.bsky.social", "service": fake.url}
    assert rows["mastodon"].config["base_url"] == fake.url
    assert token_of(kdesk, rows["mastodon"]).reveal() == MASTODON_TOKEN
    for secret in (APP_PASSWORD, "wrong-pass", MASTODON_TOKEN, "revoked-token-12"):
        assert not [b for b in seeing.bodies if secret in b], secret
        assert secret not in audit_text(kdesk)


def test_instagram_connects_with_its_username(kdesk: Desk, fake: FakePlatform) -> None:
    fake.add("GET", f"{V}/1784", (200, {"id": "1784", "username": "bar.centrale"}, {}))
    client, _ = client_for(kdesk)
    r = client.post(
        "/connections/new/instagram",
        data={"account_id": "1784", "token": TOKEN},
        follow_redirects=False,
    )
    assert r.status_code == 303
    (row,) = load_connections(kdesk)
    assert (row.platform, row.name) == ("instagram", "bar.centrale")


def test_disconnect_asks_first_then_forgets_the_account(kdesk: Desk, fake: FakePlatform) -> None:
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    client, seeing = client_for(kdesk, lang="it")
    page = client.get("/connections").text
    assert f'href="/connections/{row.id}/disconnect"' in page
    confirm = client.get(f"/connections/{row.id}/disconnect")
    assert confirm.status_code == 200
    assert "Scollegare l&#39;account facebook Bar Centrale?" in confirm.text
    assert f'action="/connections/{row.id}/disconnect"' in confirm.text
    assert [c.account_id for c in load_connections(kdesk)] == ["100"]  # asking changed nothing
    r = client.post(f"/connections/{row.id}/disconnect", follow_redirects=False)
    assert r.status_code == 303
    assert "Account facebook Bar Centrale scollegato." in client.get("/connections").text
    assert load_connections(kdesk) == []
    entries = [e for e in kdesk.audit_entries() if e.action == "connection.delete"]
    assert [(e.actor, e.object_id) for e in entries] == [("admin-it", "facebook:100")]
    assert client.post(f"/connections/{row.id}/disconnect").status_code == 404
    assert not [b for b in seeing.bodies if TOKEN in b]
    assert TOKEN not in audit_text(kdesk)


def test_fetch_now_runs_in_the_background_and_shows_what_it_fetched(
    kdesk: Desk, fake: FakePlatform
) -> None:
    serve_page(fake)
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    client, seeing = client_for(kdesk)
    r = client.post(f"/connections/{row.id}/fetch", data={"days": "7"}, follow_redirects=False)
    assert r.status_code == 303
    assert fetch_jobs_for(kdesk).wait(20)
    page = client.get("/connections").text
    assert "3 new, 0 updated, 0 unchanged, 0 rejected" in page
    assert kdesk.stats()["comments"] == 3
    # Posts from up to 90 days before the range's start are searched for new comments.
    posts = fake.seen("GET", f"{V}/100/posts")[0]
    assert posts.q("since") == str(int(datetime(2024, 4, 26, tzinfo=UTC).timestamp()) - 90 * 86400)
    # With HTMX the button swaps the row's cell; the cell is what HTMX polls while it runs.
    r = client.post(f"/connections/{row.id}/fetch", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.startswith("<td") and f'id="fetch-{row.id}"' in r.text
    assert fetch_jobs_for(kdesk).wait(20)
    cell = client.get(f"/connections/{row.id}/fetch", headers={"HX-Request": "true"}).text
    assert "0 new, 0 updated, 3 unchanged" in cell and "hx-trigger" not in cell
    assert not [b for b in seeing.bodies if TOKEN in b]


def test_fetch_now_shows_a_refused_token(kdesk: Desk, fake: FakePlatform) -> None:
    fake.add(
        "GET", "/api/v1/notifications", (401, {"error": f"token {MASTODON_TOKEN} revoked"}, {})
    )
    row = save_connection(
        kdesk,
        "mastodon",
        "1",
        token=MASTODON_TOKEN,
        name="shop",
        config={"base_url": fake.url},
    )
    client, seeing = client_for(kdesk, lang="it")
    assert client.post(f"/connections/{row.id}/fetch").status_code == 200  # after the redirect
    assert fetch_jobs_for(kdesk).wait(20)
    page = client.get("/connections").text
    assert "La piattaforma ha rifiutato il token" in page
    assert "[hidden]" in page
    assert not [b for b in seeing.bodies if MASTODON_TOKEN in b]


def test_the_core_keeps_a_given_app_secret_for_the_proof(kdesk: Desk, fake: FakePlatform) -> None:
    """The core keeps the CLI's behaviour: a secret given with the connection is kept (encrypted)
    and used for appsecret_proof."""
    from crisisdesk.connectors.accounts import connect_facebook as core_connect
    from crisisdesk.connectors.graph import appsecret_proof

    serve_checks(fake)
    connected = core_connect(kdesk, "100", TOKEN, app_secret="given-secret-8")
    assert connected.missing == ["pages_messaging"] and connected.speaker == "Bar Centrale"
    proof = fake.seen("GET", f"{V}/me")[0].q("appsecret_proof")
    assert proof == appsecret_proof(TOKEN, "given-secret-8") != appsecret_proof(TOKEN, APP_SECRET)
    (row,) = load_connections(kdesk)
    assert "given-secret-8" not in json.dumps(row.config)
    assert [e.actor for e in kdesk.audit_entries() if e.action == "connection.save"] == ["cli"]


def test_fetch_now_is_recorded_and_shown_by_a_restarted_desk(
    kdesk: Desk, fake: FakePlatform, data_dir: Path
) -> None:
    from crisisdesk.connectors.store import recent_fetches

    serve_page(fake)
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    client, _ = client_for(kdesk)
    assert "Never fetched" in client.get("/connections").text
    client.post(f"/connections/{row.id}/fetch", data={"days": "7"})
    assert fetch_jobs_for(kdesk).wait(20)
    (fetch,) = recent_fetches(kdesk, [row.id])[row.id]
    assert (fetch.source, fetch.inserted, fetch.reason) == ("web", 3, None)

    # Another desk and app on the same database file, as after a restart: nothing in memory.
    again = _desk(data_dir, fake)
    try:
        assert fetch_jobs_for(again) is not fetch_jobs_for(kdesk)
        for lang, words in (
            ("en", ["from this page", "3 new, 0 updated, 0 unchanged, 0 rejected"]),
            ("it", ["da questa pagina", "3 nuovi, 0 aggiornati, 0 invariati, 0 scartati"]),
        ):
            fresh, _ = client_for(again, role="member", lang=lang)
            page = fresh.get("/connections").text
            assert all(w in page for w in words), (lang, page)
            assert f'<time datetime="{fetch.finished_at.isoformat()}"' in page
            assert "Never fetched" not in page and "Mai scaricato" not in page
    finally:
        again.close()


def _record(desk: Desk, connection_id: int, hours_ago: float, **outcome: Any) -> None:
    from datetime import timedelta

    from crisisdesk.connectors.store import record_fetch

    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    record_fetch(
        desk,
        connection_id,
        source=outcome.pop("source", "cli"),
        started_at=at - timedelta(minutes=1),
        finished_at=at,
        **outcome,
    )


STALE = {"en": "No fetch has worked for more than 24 hours.", "it": "Da più di 24 ore nessuno"}
FAILING = {"en": "The last 3 fetches all failed.", "it": "Gli ultimi 3 scaricamenti sono tutti"}


@pytest.mark.parametrize("lang", ["en", "it"])
def test_the_page_warns_while_fetching_has_not_worked_for_a_day(
    kdesk: Desk, fake: FakePlatform, lang: str
) -> None:
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    client, _ = client_for(kdesk, lang=lang)
    _record(kdesk, row.id, hours_ago=30, inserted=5)
    page = client.get("/connections").text
    assert STALE[lang] in page and FAILING[lang] not in page
    assert "fetch-warning" in page
    # Two refusals since: still stale, not yet three in a row.
    _record(kdesk, row.id, hours_ago=2, reason="expired", error="Session has expired")
    _record(kdesk, row.id, hours_ago=1, reason="rate_limited", error="rate limiting (code 4)")
    page = client.get("/connections").text
    assert STALE[lang] in page and FAILING[lang] not in page
    refusal = {"en": "limiting how many requests", "it": "sta limitando quante richieste"}
    assert refusal[lang] in page
    # The third: both warnings.
    _record(kdesk, row.id, hours_ago=0.5, reason="expired", error="Session has expired")
    page = client.get("/connections").text
    assert STALE[lang] in page and FAILING[lang] in page
    expired = {"en": "it has expired or was revoked", "it": "è scaduto o è stato revocato"}
    assert expired[lang] in page
    # A fetch that works: the warnings go, on the page and in the cell HTMX polls.
    _record(kdesk, row.id, hours_ago=0, source="web", inserted=2, unchanged=7)
    page = client.get("/connections").text
    assert STALE[lang] not in page and FAILING[lang] not in page and "fetch-warning" not in page
    cell = client.get(f"/connections/{row.id}/fetch", headers={"HX-Request": "true"}).text
    assert "fetch-warning" not in cell
    counts = {"en": "2 new, 0 updated, 7 unchanged", "it": "2 nuovi, 0 aggiornati, 7 invariati"}
    assert counts[lang] in cell


def test_the_last_fetch_is_escaped_on_the_page(kdesk: Desk, fake: FakePlatform) -> None:
    row = save_connection(kdesk, "mastodon", "1", token=MASTODON_TOKEN, name="shop")
    _record(kdesk, row.id, hours_ago=0, reason="refused", error='<img src=x onerror="alert(1)">')
    client, _ = client_for(kdesk)
    page = client.get("/connections").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "The platform did not accept the account." in page


# -- a fetch running in another process, and one whose process died ------------------------------

RUNNING = {
    "en": ("Fetching since", "started from the command line."),
    "it": ("Scaricamento in corso dal", "avviato dalla riga di comando."),
}
BUSY = {
    "en": "facebook account Bar Centrale is already being fetched.",
    "it": "L&#39;account facebook Bar Centrale è già in fase di scaricamento.",
}
INTERRUPTED = {
    "en": "The fetch was interrupted: the process running it stopped before it ended",
    "it": "Lo scaricamento è stato interrotto: il processo che lo eseguiva si è fermato",
}


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_sync_running_in_another_process_shows_and_holds_fetch_now_back(
    kdesk: Desk, fake: FakePlatform, lang: str
) -> None:
    from datetime import timedelta

    from crisisdesk.connectors.store import recent_fetches, start_fetch

    serve_page(fake)
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    # `crisisdesk sync` from cron, in a process of its own, records its start as it begins.
    started = datetime.now(UTC) - timedelta(minutes=4)
    assert start_fetch(kdesk, row.id, source="cli", started_at=started) is not None
    client, _ = client_for(kdesk, lang=lang)
    page = client.get("/connections").text
    since, source = RUNNING[lang]
    assert f'{since} <time datetime="{started.isoformat()}"' in page and source in page
    assert "Never fetched" not in page and "Mai scaricato" not in page
    # the cell polls until it ends, and the button waits for it
    assert f'hx-get="/connections/{row.id}/fetch" hx-trigger="every 2s"' in page
    assert page.count("disabled>") == 1

    # "Fetch now" anyway (a page loaded before the sync began): no second fetch.
    page = client.post(f"/connections/{row.id}/fetch", data={"days": "7"}).text  # redirected
    assert BUSY[lang] in page
    cell = client.post(f"/connections/{row.id}/fetch", headers={"HX-Request": "true"}).text
    assert since in cell and source in cell
    assert fetch_jobs_for(kdesk).wait(20)
    assert fake.requests == []
    assert [f.finished_at for f in recent_fetches(kdesk, [row.id])[row.id]] == [None]


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_fetch_whose_process_died_shows_interrupted_and_fetch_now_works_again(
    kdesk: Desk, fake: FakePlatform, lang: str
) -> None:
    from datetime import timedelta

    from crisisdesk.connectors.store import INTERRUPTED_AFTER, recent_fetches, start_fetch

    serve_page(fake)
    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    _record(kdesk, row.id, hours_ago=3, reason="expired", error="Session has expired")
    _record(kdesk, row.id, hours_ago=2, reason="expired", error="Session has expired")
    # A sync killed mid-fetch: its start is recorded, its beat stopped longer ago than the limit.
    died = datetime.now(UTC) - INTERRUPTED_AFTER - timedelta(minutes=1)
    start_fetch(kdesk, row.id, source="cli", started_at=died)
    client, _ = client_for(kdesk, lang=lang)
    page = client.get("/connections").text
    assert INTERRUPTED[lang] in page and RUNNING[lang][0] not in page
    assert FAILING[lang] in page  # the third failure in a row
    assert "disabled>" not in page

    assert BUSY[lang] not in client.post(f"/connections/{row.id}/fetch", data={"days": "7"}).text
    assert fetch_jobs_for(kdesk).wait(20)
    page = client.get("/connections").text
    assert FAILING[lang] not in page
    assert ("3 new" if lang == "en" else "3 nuovi") in page
    ok, dead, *_ = recent_fetches(kdesk, [row.id])[row.id]
    assert (ok.source, ok.reason, ok.inserted) == ("web", None, 3)
    assert (dead.source, dead.reason, dead.finished_at) == ("cli", "interrupted", died)


def test_a_slow_fetch_that_still_beats_is_not_taken_for_interrupted(
    kdesk: Desk, fake: FakePlatform
) -> None:
    from datetime import timedelta

    from crisisdesk.connectors.store import start_fetch, touch_fetch

    row = save_connection(kdesk, "facebook", "100", token=TOKEN, name="Bar Centrale")
    fetch = start_fetch(
        kdesk, row.id, source="web", started_at=datetime.now(UTC) - timedelta(hours=6)
    )
    assert fetch is not None
    touch_fetch(kdesk, fetch.id)
    client, _ = client_for(kdesk)
    page = client.get("/connections").text
    assert "Fetching since" in page and "started from this page." in page
    assert INTERRUPTED["en"] not in page
    assert BUSY["en"] in client.post(f"/connections/{row.id}/fetch", data={"days": "7"}).text
    assert fake.requests == []
