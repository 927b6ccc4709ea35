"""Vouchers in the store: created from a case, sent privately, redeemed once.

Codes come from :mod:`crisisdesk.workflow.vouchers` (unguessable, with a check character). The
single use is enforced by the database, not by a read-then-write: redemption is one conditional
UPDATE, so two cashiers redeeming the same code at the same moment cannot both succeed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from crisisdesk.models import Author, Case, Comment, Voucher
from crisisdesk.workflow.cases import WorkflowError

if TYPE_CHECKING:
    from crisisdesk.desk import Desk

CURRENCIES = ("EUR", "USD", "GBP", "CHF")


def voucher_status(voucher: Voucher, now: datetime) -> str:
    if voucher.redeemed_at is not None:
        return "redeemed"
    if voucher.expires_at is not None and voucher.expires_at <= now:
        return "expired"
    return "active"


class VoucherBook:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def create(
        self,
        comment_id: int,
        *,
        value: str | float | Decimal,
        currency: str = "EUR",
        valid_days: int = 90,
        actor: str,
        user_id: int | None = None,
    ) -> Voucher:
        from crisisdesk.workflow.vouchers import new_code

        try:
            amount = Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise WorkflowError("bad_value", "value must be a number") from None
        if amount <= 0 or amount > Decimal("10000"):
            raise WorkflowError("bad_value", "value must be above 0 and at most 10,000")
        currency = currency.upper()
        if currency not in CURRENCIES:
            raise WorkflowError("bad_currency", f"currency must be one of {', '.join(CURRENCIES)}")
        if not 1 <= valid_days <= 3650:
            raise WorkflowError("bad_expiry", "valid_days must be between 1 and 3650")
        case = self.desk.workflow.case_for(comment_id) or self.desk.workflow.open_case(
            comment_id, actor=actor, user_id=user_id, reason="voucher"
        )
        now = self.desk.clock()
        for _attempt in range(5):
            try:
                with self.desk.session() as s, s.begin():
                    comment = s.get(Comment, comment_id)
                    if comment is None:
                        raise WorkflowError("not_found", "no such comment")
                    voucher = Voucher(
                        code=new_code(),
                        page_id=comment.page_id,
                        case_id=case.id,
                        value=amount,
                        currency=currency,
                        expires_at=now + timedelta(days=valid_days),
                        created_at=now,
                    )
                    s.add(voucher)
                break
            except IntegrityError:  # a code collision: astronomically rare, draw again
                continue
        else:
            raise WorkflowError("internal", "could not draw a unique code")
        self.desk.audit(
            "voucher.create", actor=actor, user_id=user_id, comment_id=comment_id, object_type="voucher",
            object_id=voucher.code, detail={"value": str(amount), "currency": currency},
        )  # fmt: skip
        return voucher

    def get(self, code: str) -> Voucher | None:
        from crisisdesk.workflow.vouchers import normalise_code

        with self.desk.session() as s:
            return s.scalars(select(Voucher).where(Voucher.code == normalise_code(code))).first()

    def redeem(self, code: str, *, actor: str, user_id: int | None = None) -> Voucher:
        from crisisdesk.workflow.vouchers import is_well_formed, normalise_code

        normal = normalise_code(code)
        if not is_well_formed(normal):
            raise WorkflowError("bad_code", "that is not a valid voucher code (check for typos)")
        now = self.desk.clock()
        with self.desk.session() as s, s.begin():
            voucher = s.scalars(select(Voucher).where(Voucher.code == normal)).first()
            if voucher is None:
                raise WorkflowError("not_found", "no such voucher")
            if voucher.expires_at is not None and voucher.expires_at <= now:
                raise WorkflowError("expired", "this voucher has expired")
            done = s.execute(
                update(Voucher)
                .where(Voucher.id == voucher.id, Voucher.redeemed_at.is_(None))
                .values(redeemed_at=now)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise WorkflowError(
                    "already_redeemed",
                    "this voucher was already redeemed",
                    redeemed_at=voucher.redeemed_at.isoformat() if voucher.redeemed_at else None,
                )
            case = s.get(Case, voucher.case_id) if voucher.case_id else None
            comment_id = case.comment_id if case else None
        self.desk.audit(
            "voucher.redeem",
            actor=actor,
            user_id=user_id,
            comment_id=comment_id,
            object_type="voucher",
            object_id=normal,
        )
        voucher.redeemed_at = now
        return voucher

    def send(
        self, code: str, *, actor: str, user_id: int | None = None, message: str = ""
    ) -> dict[str, Any]:
        """Send the voucher privately through the connector, or hand it over to copy."""
        voucher = self.get(code)
        if voucher is None:
            raise WorkflowError("not_found", "no such voucher")
        with self.desk.session() as s:
            case = s.get(Case, voucher.case_id) if voucher.case_id else None
            comment = s.get(Comment, case.comment_id) if case else None
        if case is None:
            raise WorkflowError("no_case", "this voucher is not tied to a comment")
        lang = comment.language if comment is not None else None
        text = (message.strip() + "\n\n" if message.strip() else "") + voucher_line(voucher, lang)
        result = self.desk.moderation.perform(
            case.comment_id, "private_reply", actor=actor, user_id=user_id, text=text
        )
        with self.desk.session() as s, s.begin():
            s.execute(
                update(Voucher)
                .where(Voucher.id == voucher.id)
                .values(sent_via="connector" if result["status"] == "published" else "copied")
            )
        return result

    def recipients(self, vouchers: list[Voucher]) -> dict[int, dict[str, Any]]:
        """Whom each voucher was made for: the comment of its case and that comment's author,
        by voucher id (vouchers made outside a case are left out)."""
        cases = {v.case_id for v in vouchers if v.case_id is not None}
        if not cases:
            return {}
        with self.desk.session() as s:
            rows = s.execute(
                select(Case.id, Comment.id, Author.name)
                .join(Comment, Comment.id == Case.comment_id)
                .outerjoin(Author, Author.id == Comment.author_id)
                .where(Case.id.in_(cases))
            ).all()
        by_case = {case_id: {"comment_id": cid, "author": name} for case_id, cid, name in rows}
        return {v.id: by_case[v.case_id] for v in vouchers if v.case_id in by_case}

    def for_page(self, page_id: int | None = None) -> list[tuple[Voucher, str]]:
        now = self.desk.clock()
        with self.desk.session() as s:
            query = select(Voucher).order_by(Voucher.created_at.desc()).limit(500)
            if page_id:
                query = query.where(Voucher.page_id == page_id)
            return [(v, voucher_status(v, now)) for v in s.scalars(query)]


def voucher_line(voucher: Voucher, lang: str | None) -> str:
    """The line that carries the voucher in the private message, in the customer's language:
    its code, its value written their way, and until when it is valid.

    >>> from datetime import datetime
    >>> from decimal import Decimal
    >>> v = Voucher(code="G944-7QX2", value=Decimal("10.50"), currency="EUR",
    ...             expires_at=datetime(2026, 12, 30, 23, 0))
    >>> voucher_line(v, "it")
    'Codice G944-7QX2: 10,50 EUR, valido fino al 30/12/2026.'
    >>> voucher_line(v, "en")
    'Code G944-7QX2: 10.50 EUR, valid until 30 Dec 2026.'
    """
    amount = f"{voucher.value:.2f}"
    if lang == "it":
        until = voucher.expires_at.strftime("%d/%m/%Y") if voucher.expires_at else None
        line = f"Codice {voucher.code}: {amount.replace('.', ',')} {voucher.currency}"
        return line + (f", valido fino al {until}." if until else ".")
    until = voucher.expires_at.strftime("%d %b %Y") if voucher.expires_at else None
    line = f"Code {voucher.code}: {amount} {voucher.currency}"
    return line + (f", valid until {until}." if until else ".")
