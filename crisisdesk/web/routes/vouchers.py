"""The vouchers page: every voucher per page with its status, and redemption at the till."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from crisisdesk.web.app import check_csrf, current_user, get_desk, render
from crisisdesk.workflow.cases import WorkflowError

router = APIRouter(include_in_schema=False)

NAV = [("nav.vouchers", "/vouchers")]

User = Annotated[Any, Depends(current_user)]


def _page(
    request: Request, user: Any, page: int | None, status_code: int = 200, **extra: Any
) -> Response:
    desk = get_desk(request)
    pages = desk.pages()
    vouchers = desk.vouchers.for_page(page)
    return render(
        request,
        "vouchers/list.html",
        {
            "user": user,
            "pages": pages,
            "page_names": {p.id: p.name for p in pages},
            "selected": page,
            "vouchers": vouchers,
            "recipients": desk.vouchers.recipients([v for v, _ in vouchers]),
            "redeemed": None,
            "error": None,
            **extra,
        },
        status_code=status_code,
    )


@router.get("/vouchers")
def vouchers_page(request: Request, user: User, page: str = "") -> Response:
    return _page(request, user, int(page) if page.isdigit() else None)


@router.post("/vouchers/redeem", dependencies=[Depends(check_csrf)])
def redeem(request: Request, user: User, code: Annotated[str, Form(max_length=64)]) -> Response:
    desk = get_desk(request)
    try:
        voucher = desk.vouchers.redeem(code, actor=user.username, user_id=user.id)
    except WorkflowError as exc:
        status = 409 if exc.code in ("already_redeemed", "expired") else 422
        if exc.code == "not_found":
            status = 404
        return _page(request, user, None, status_code=status, error=exc, code=code)
    return _page(request, user, None, redeemed=voucher)
