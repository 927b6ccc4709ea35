"""Numbers in the reader's decimals: typed with a comma in the forms, shown with one in Italian."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.models import Voucher
from crisisdesk.signals.flame import monitor_for
from crisisdesk.web import i18n
from crisisdesk.web.app import create_app
from tests.signals.test_flame import burst, feed, history
from tests.web.conftest import signed_in
from tests.workflow.wf_support import comment_id, seed

HX = {"HX-Request": "true"}


@pytest.fixture
def italian(desk: Desk) -> Iterator[TestClient]:
    seed(desk)
    with signed_in(desk, "it") as client:
        yield client


def test_voucher_value_with_a_decimal_comma(italian: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-it")
    italian.post(f"/comments/{cid}/case/open", headers=HX)
    html = italian.post(
        f"/comments/{cid}/case/vouchers", data={"value": "10,50", "currency": "EUR"}, headers=HX
    ).text
    assert 'data-error="bad_value"' not in html
    with desk.session() as s:
        assert [v.value for v in s.query(Voucher)] == [Decimal("10.50")]
    assert "10,50 EUR" in html
    assert "10,50 EUR" in italian.get("/vouchers").text
    # an English thousands separator is not read as a decimal mark
    italian.post(
        f"/comments/{cid}/case/vouchers", data={"value": "1,000", "currency": "EUR"}, headers=HX
    )
    with desk.session() as s:
        assert sorted(v.value for v in s.query(Voucher)) == [Decimal("10.50"), Decimal("1000")]


def test_english_keeps_the_decimal_point(desk: Desk) -> None:
    seed(desk)
    cid = comment_id(desk, "c-en")
    with signed_in(desk, "en") as client:
        client.post(f"/comments/{cid}/case/open", headers=HX)
        client.post(
            f"/comments/{cid}/case/vouchers", data={"value": "10.5", "currency": "EUR"}, headers=HX
        )
        assert "10.50 EUR" in client.get("/vouchers").text


def test_a_value_that_is_no_number_is_still_refused(italian: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-it")
    italian.post(f"/comments/{cid}/case/open", headers=HX)
    html = italian.post(
        f"/comments/{cid}/case/vouchers", data={"value": "dieci", "currency": "EUR"}, headers=HX
    ).text
    assert 'data-error="bad_value"' in html


def test_page_clocks_accept_a_decimal_comma(desk: Desk) -> None:
    page = desk.configure_page("facebook", "P9", name="Forno")
    desk.add_user("boss", "correct-horse-battery", role="admin")
    with TestClient(create_app(desk, demo_user="boss")) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/pages").text)
        assert token
        r = client.post(
            f"/pages/{page.id}",
            data={"csrf_token": token[1], "cooldown": "7,5", "response_target": "45,5"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        # shown back as they were typed, in the reader's decimals
        italian = client.get("/pages", headers={"accept-language": "it"}).text
        assert 'value="45,5"' in italian and "7,5" in italian
        assert 'value="45.5"' in client.get("/pages", headers={"accept-language": "en"}).text
    config = desk.pages()[0].config
    assert config["cooldown_minutes"] == 7.5 and config["response_target_minutes"] == 45.5


def test_analysis_reasons_and_alert_figures_in_italian_decimals(desk: Desk) -> None:
    assert i18n.translate_reason("complaint: negative 0.56", "it") == "reclamo: negativo 0,56"
    assert i18n.translate_reason("complaint: negative 0.56", "en") == "complaint: negative 0.56"
    monitor_for(desk)
    past = history()
    desk.ingest(past)
    feed(desk, burst(past[-1].created_at + timedelta(minutes=10)))
    with signed_in(desk, "it") as client:
        html = client.get("/alerts").text
    figures = re.findall(r'<dl class="figures">(.*?)</dl>', html, re.S)
    assert figures
    values = re.findall(r"<dd>([^<]*)</dd>", " ".join(figures))
    assert any("," in v for v in values)
    assert not [v for v in values if re.search(r"\d\.\d", v)]
