"""Errors on pages are pages in the reader's language; the API keeps answering JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from tests.web.conftest import signed_in
from tests.workflow.wf_support import comment_id, seed

HX = {"HX-Request": "true"}


@pytest.fixture
def italian(desk: Desk) -> Iterator[TestClient]:
    seed(desk)
    with signed_in(desk, "it", "ann") as client:
        yield client


@pytest.mark.parametrize("path", ["/comments/99999", "/crisis/999", "/foo"])
def test_missing_pages_are_italian_html_with_the_navigation(italian: TestClient, path: str) -> None:
    r = italian.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="it">' in r.text and 'id="error-page"' in r.text
    assert "Non trovato" in r.text and "detail" not in r.text
    assert '<a class="button" href="/">Torna alla posta in arrivo</a>' in r.text
    assert 'href="/alerts"' in r.text  # the normal navigation, for a signed-in reader


def test_error_page_in_english_and_for_a_bad_cursor(desk: Desk) -> None:
    desk.add_user("bob", "correct-horse-battery", language="en")
    with TestClient(create_app(desk, demo_user="bob")) as client:
        r = client.get("/nowhere")
        assert r.status_code == 404 and "Not found" in r.text and "Back to the inbox" in r.text
        bad = client.get("/?cursor=not-a-cursor")
        assert bad.status_code == 400 and "Request not understood" in bad.text


def test_signed_out_readers_get_the_page_without_the_navigation(desk: Desk) -> None:
    with TestClient(create_app(desk)) as client:
        r = client.get("/foo", headers={"accept-language": "it"})
    assert r.status_code == 404 and "Non trovato" in r.text
    assert 'href="/alerts"' not in r.text


def test_api_errors_stay_json(italian: TestClient) -> None:
    r = italian.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    assert italian.get("/static/missing.css").status_code == 404


def test_form_refusals_are_translated(italian: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-it")
    italian.post(f"/comments/{cid}/case/open", headers=HX)
    html = italian.post(
        f"/comments/{cid}/case/vouchers", data={"value": "dieci", "currency": "EUR"}, headers=HX
    ).text
    error = re.search(r'id="case-error"[^>]*>(.*?)</p>', html, re.S)
    assert error and error.group(1).strip() == "il valore deve essere un numero"
    rules = italian.post("/rules", data={"name": "vuota", "action": "hide"}).text
    message = re.search(r'id="rules-error">([^<]*)<', rules)
    assert message and message.group(1) == "una regola richiede almeno una condizione"


def test_an_unfinished_draft_is_refused_in_italian(italian: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-it")
    italian.post(f"/comments/{cid}/case/open", headers=HX)
    assert "[" in desk.workflow.suggest(cid)  # the suggestion's instructions to the writer
    html = italian.post(
        f"/comments/{cid}/case/publish",
        data={"text": desk.workflow.suggest(cid), "override_reason": "urgente"},
        headers=HX,
    ).text
    error = re.search(r'id="case-error" data-error="unfinished">(.*?)</p>', html, re.S)
    assert error and "parentesi quadre" in error.group(1)
