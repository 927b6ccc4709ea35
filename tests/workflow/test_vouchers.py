"""Voucher codes and the voucher book: unguessable, typo-checked, redeemed once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crisisdesk.desk import Desk
from crisisdesk.workflow.cases import WorkflowError
from crisisdesk.workflow.vouchers import ALPHABET, is_well_formed, new_code, normalise_code
from tests.workflow.wf_support import comment_id, seed


def test_codes_are_unique_readable_and_checked() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert is_well_formed(code)
        assert set(code.replace("-", "")) <= set(ALPHABET)
        assert not set(code) & set("01OIL")


def test_normalise_accepts_case_spaces_and_dashes() -> None:
    code = new_code()
    typed = " " + code.lower().replace("-", " ") + " "
    assert normalise_code(typed) == code
    assert is_well_formed(typed)


def test_every_single_typo_and_neighbour_swap_is_caught() -> None:
    code = new_code().replace("-", "")
    for i, ch in enumerate(code):
        for other in ALPHABET:
            if other != ch:
                assert not is_well_formed(code[:i] + other + code[i + 1 :])
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert not is_well_formed(swapped)
    assert not is_well_formed(code[:-1])
    assert not is_well_formed("")


def test_voucher_from_a_case_redeemed_once(desk: Desk) -> None:
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    voucher = desk.vouchers.create(cid, value="15", currency="eur", actor="ann")
    assert voucher.currency == "EUR" and str(voucher.value) == "15.00"
    assert voucher.expires_at == clock.now + timedelta(days=90)
    assert desk.vouchers.for_page(voucher.page_id)[0][1] == "active"
    redeemed = desk.vouchers.redeem(voucher.code.lower().replace("-", " "), actor="shop")
    assert redeemed.redeemed_at == clock.now
    with pytest.raises(WorkflowError) as second:
        desk.vouchers.redeem(voucher.code, actor="shop")
    assert second.value.code == "already_redeemed"
    assert desk.vouchers.for_page(voucher.page_id)[0][1] == "redeemed"
    actions = [e.action for e in desk.audit_entries(cid)]
    assert actions.count("voucher.redeem") == 1 and "voucher.create" in actions


def test_expired_malformed_and_unknown_codes_are_refused(desk: Desk) -> None:
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    voucher = desk.vouchers.create(cid, value=5, valid_days=1, actor="ann")
    clock.advance(days=2)
    assert desk.vouchers.for_page()[0][1] == "expired"
    with pytest.raises(WorkflowError) as expired:
        desk.vouchers.redeem(voucher.code, actor="shop")
    assert expired.value.code == "expired"
    with pytest.raises(WorkflowError) as bad:
        desk.vouchers.redeem("NOT-A-CODE", actor="shop")
    assert bad.value.code == "bad_code"
    with pytest.raises(WorkflowError) as unknown:
        desk.vouchers.redeem(new_code(), actor="shop")
    assert unknown.value.code == "not_found"


@pytest.mark.parametrize(
    ("value", "currency", "days", "code"),
    [("abc", "EUR", 30, "bad_value"), ("-1", "EUR", 30, "bad_value"),
     ("10", "XYZ", 30, "bad_currency"), ("10", "EUR", 0, "bad_expiry")],
)  # fmt: skip
def test_bad_voucher_requests_say_why(
    desk: Desk, value: str, currency: str, days: int, code: str
) -> None:
    seed(desk)
    with pytest.raises(WorkflowError) as err:
        desk.vouchers.create(
            comment_id(desk, "c-en"), value=value, currency=currency, valid_days=days, actor="a"
        )
    assert err.value.code == code


def test_send_privately_without_a_connector_is_a_manual_instruction(desk: Desk) -> None:
    seed(desk)
    voucher = desk.vouchers.create(comment_id(desk, "c-en"), value=10, actor="ann")
    result = desk.vouchers.send(voucher.code, actor="ann", message="Sorry again, Anna.")
    assert result["status"] == "manual" and voucher.code in result["copy"]
    assert desk.vouchers.get(voucher.code).sent_via == "copied"  # type: ignore[union-attr]
    # the voucher line is written in the customer's language, with its validity
    assert f"Code {voucher.code}: 10.00 EUR, valid until " in result["copy"]
    italian = desk.vouchers.create(comment_id(desk, "c-it"), value="7.50", actor="ann")
    copy = desk.vouchers.send(italian.code, actor="ann", message="Scusaci ancora.")["copy"]
    assert copy.startswith("Scusaci ancora.\n\n")
    assert f"Codice {italian.code}: 7,50 EUR, valido fino al " in copy
