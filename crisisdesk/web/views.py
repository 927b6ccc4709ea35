"""HTML views: each reads the request, calls the Desk, renders a template."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from crisisdesk.desk import InboxFilters
from crisisdesk.web import i18n
from crisisdesk.web.app import check_csrf, current_user, get_desk, render

router = APIRouter(include_in_schema=False)

User = Annotated[Any, Depends(current_user)]


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login page.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "failed": False})


@router.post("/login", dependencies=[Depends(check_csrf)])
async def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = get_desk(request).authenticate(username, password)
    if user is None:
        return render(
            request, "login.html", {"next": _safe_next(next), "failed": True}, status_code=401
        )
    lang = request.session.get("lang")
    request.session.clear()  # a fresh session id on sign-in: no session fixation
    request.session["user_id"] = user.id
    if lang:
        request.session["lang"] = lang
    elif user.language in i18n.CATALOGS:
        request.session["lang"] = user.language
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/lang", dependencies=[Depends(check_csrf)])
async def set_language(
    request: Request, lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    if lang in i18n.CATALOGS:
        request.session["lang"] = lang
    return RedirectResponse(_safe_next(next), status_code=303)


def _filters(request: Request) -> InboxFilters:
    q = request.query_params
    desk = get_desk(request)
    facets = desk.facets()

    def pick(name: str) -> str | None:
        value = q.get(name) or None
        if value is None:
            return None
        if name in facets and value not in facets[name]:
            return None
        return value

    page = q.get("page") or ""
    return InboxFilters(
        page=int(page) if page.isdigit() else None,
        kind=pick("kind"),
        sentiment=pick("sentiment"),
        language=pick("language"),
        status=pick("status"),
        q=(q.get("q") or "").strip()[:200] or None,
        sort="urgent" if q.get("sort") == "urgent" else "newest",
    )


@router.get("/")
async def inbox(request: Request, user: User) -> Response:
    desk = get_desk(request)
    filters = _filters(request)
    cursor = request.query_params.get("cursor")
    try:
        page = desk.inbox(filters, cursor=cursor)
    except ValueError:
        raise HTTPException(400, "bad cursor") from None
    pages = desk.pages()
    context = {
        "user": user,
        "filters": filters,
        "page": page,
        "pages": pages,
        "levels": _page_levels(desk, pages) if not cursor else [],
        "competitor_flags": _competitor_flags(desk, page.rows),
        "facets": desk.facets(),
        "query": _query_without_cursor(request),
    }
    if request.headers.get("hx-request") and cursor:
        return render(request, "_inbox_rows.html", context)
    return render(request, "inbox.html", context)


def _competitor_flags(desk: Any, rows: list[dict[str, Any]]) -> dict[int, list[Any]]:
    """The rows that link to or push one of their page's competitors, so the inbox can say so
    before anyone opens the author card. A bare mention is left to the card: it is not a sign."""
    from crisisdesk.signals.competitors import competitors_for, flag_comment

    by_page: dict[int, list[Any]] = {}
    out: dict[int, list[Any]] = {}
    for row in rows:
        c = row["comment"]
        if c.page_id not in by_page:
            by_page[c.page_id] = competitors_for(desk, c.page_id)
        if not by_page[c.page_id]:
            continue
        flags = flag_comment(c.text, by_page[c.page_id], sentiment=c.sentiment, kind=c.kind)
        flags = [f for f in flags if f.kind != "mentions_competitor"]
        if flags:
            out[c.id] = flags
    return out


# Most urgent first, so the strip at the top of the inbox reads like a priority list.
_LEVEL_ORDER = {"crisis": 0, "flame": 1, "watch": 2}


def _page_levels(desk: Any, pages: list[Any]) -> list[dict[str, Any]]:
    """Each page's current flame level, for the strip at the top of the inbox; only pages above
    calm, the ones that need a look."""
    from crisisdesk.signals.flame import monitor_for

    level_of = monitor_for(desk).levels_of(p.id for p in pages)
    levels = [{"id": p.id, "name": p.name, "level": level_of[p.id]} for p in pages]
    return sorted(
        (lv for lv in levels if lv["level"] in _LEVEL_ORDER),
        key=lambda lv: (_LEVEL_ORDER[lv["level"]], lv["name"]),
    )


def _query_without_cursor(request: Request) -> str:
    from urllib.parse import urlencode

    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "cursor"])


@router.get("/comments/{comment_id}")
async def comment(request: Request, comment_id: int, user: User) -> Response:
    view = get_desk(request).comment_view(comment_id)
    if view is None:
        raise HTTPException(404, "no such comment")
    return render(request, "comment.html", {"user": user, **view})
