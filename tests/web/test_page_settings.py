"""The page settings screen: admins edit, members read, bad lines are refused, text is escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app


def sign_in(client: TestClient, username: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    r = client.post(
        "/login",
        data={"username": username, "password": "correct-horse-battery", "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    again = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/pages").text)
    assert again
    return again[1]


@pytest.fixture
def desk_with_page(desk: Desk) -> Desk:
    desk.configure_page("facebook", "123", name="<i>Forno</i>", config={"competitors": ["Rivale"]})
    desk.add_user("boss", "correct-horse-battery", role="admin")
    desk.add_user("ann", "correct-horse-battery")
    return desk


@pytest.fixture
def client(desk_with_page: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk_with_page)) as c:
        yield c


def test_admin_saves_settings(client: TestClient, desk_with_page: Desk) -> None:
    token = sign_in(client, "boss")
    page = desk_with_page.pages()[0]
    r = client.post(
        f"/pages/{page.id}",
        data={
            "csrf_token": token,
            "competitors": "Rivale; @rivale; rivale.it; Colomba\n<script>x</script>\n",
            "contacts": "delivery = Logistics lead\ndefault = Social team",
            "causes": "delivery\nproduct",
            "cooldown": "complaint = 20\ntroll = 30",
            "response_target": "45",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    config = desk_with_page.pages()[0].config
    assert config == {
        "competitors": [
            {
                "name": "Rivale",
                "handles": ["rivale"],
                "domains": ["rivale.it"],
                "products": ["Colomba"],
            },
            {"name": "<script>x</script>", "handles": [], "domains": [], "products": []},
        ],
        "contacts": {"delivery": "Logistics lead", "default": "Social team"},
        "causes": ["delivery", "product"],
        "cooldown_minutes": {"complaint": 20.0, "troll": 30.0},
        "response_target_minutes": 45.0,
    }
    html = client.get(r.headers["location"]).text
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    assert "&lt;i&gt;Forno&lt;/i&gt;" in html
    assert any(e.action == "page.configure" for e in desk_with_page.audit_entries())

    # Emptying a field returns it to the desk's default.
    client.post(
        f"/pages/{page.id}",
        data={"csrf_token": token, "competitors": "Rivale", "cooldown": ""},
    )
    config = desk_with_page.pages()[0].config
    assert config == {
        "competitors": [{"name": "Rivale", "handles": [], "domains": [], "products": []}]
    }


def test_bad_line_is_refused_and_nothing_changes(client: TestClient, desk_with_page: Desk) -> None:
    token = sign_in(client, "boss")
    page = desk_with_page.pages()[0]
    r = client.post(
        f"/pages/{page.id}",
        data={"csrf_token": token, "contacts": "just a name"},
    )
    assert r.status_code == 400 and "just a name" in r.text
    assert desk_with_page.pages()[0].config == {"competitors": ["Rivale"]}


def test_members_read_but_do_not_edit(client: TestClient, desk_with_page: Desk) -> None:
    token = sign_in(client, "ann")
    page = desk_with_page.pages()[0]
    assert "readonly" in client.get("/pages").text
    r = client.post(f"/pages/{page.id}", data={"csrf_token": token, "competitors": "X"})
    assert r.status_code == 403
    assert desk_with_page.pages()[0].config == {"competitors": ["Rivale"]}


def test_csrf_is_required(client: TestClient, desk_with_page: Desk) -> None:
    sign_in(client, "boss")
    page = desk_with_page.pages()[0]
    r = client.post(f"/pages/{page.id}", data={"competitors": "X"})
    assert r.status_code == 403
