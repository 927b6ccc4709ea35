"""Connections: which platform accounts the desk reads from and acts through, whether live
comments can arrive (webhook settings, deliveries waiting in the spool), when each account was
last fetched and how it went (from `crisisdesk sync` or this page, as recorded), and, for admins,
the forms that connect an account, disconnect one and fetch one now.

The handlers only read the form, call :mod:`crisisdesk.connectors.accounts` (what
`crisisdesk connect` and `sync` call too) and show the outcome. A token typed here goes to the
platform once, to check it, then into the store encrypted; it is never written back into a page,
a redirect, the session or the audit log. After a refusal the form comes back with what was typed
except the secrets, so only those need typing again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from crisisdesk.connectors import PLATFORMS
from crisisdesk.web.app import check_csrf, current_user, get_desk, render
from crisisdesk.web.routes import is_htmx

router = APIRouter(include_in_schema=False)
NAV = [("nav.connections", "/connections")]

User = Annotated[Any, Depends(current_user)]

#: Each platform's form: (field, is secret, is required). Secrets never go back into a page.
FIELDS: dict[str, tuple[tuple[str, bool, bool], ...]] = {
    "facebook": (
        ("page_id", False, True),
        ("page_token", True, True),
        ("app_id", False, False),
        ("app_secret", True, False),
    ),
    "instagram": (("account_id", False, True), ("token", True, True)),
    "bluesky": (("handle", False, True), ("app_password", True, True), ("service", False, False)),
    "mastodon": (("base_url", False, True), ("token", True, True)),
}
DEFAULTS = {"bluesky": {"service": "https://bsky.social"}}
# Longer than any platform token, short enough that a pasted novel is refused before it is sent.
MAX_FIELD = 4096
#: "Fetch now" for Facebook and Instagram reads the comments written in the last N days.
FETCH_DAYS = (1, 7, 30)
NOTICE = "connections_notice"


def _needed(platform: str) -> tuple[str, ...]:
    """What a token must be allowed to do, in each platform's own words, for the error shown
    when a permission is missing."""
    if platform == "facebook":
        from crisisdesk.connectors.facebook import NEEDED_PERMISSIONS

        return NEEDED_PERMISSIONS
    if platform == "instagram":
        from crisisdesk.connectors.instagram import NEEDED_PERMISSIONS as INSTAGRAM

        return INSTAGRAM
    if platform == "mastodon":
        return ("read:notifications", "read:statuses", "write:statuses")
    return ()


def _overview(desk: Any, base_url: str) -> dict[str, Any]:
    from crisisdesk.connectors.accounts import fetch_jobs_for
    from crisisdesk.connectors.facebook import NEEDED_PERMISSIONS
    from crisisdesk.connectors.store import load_connections
    from crisisdesk.connectors.webhook import processor_for

    processor = processor_for(desk)
    jobs = fetch_jobs_for(desk)
    # "Acts on the platform" must be true of this process, which acts on the first action
    # anyway: install the connectors now rather than show a fresh connection as inactive.
    desk.load_connectors()
    connections = load_connections(desk)
    healths = jobs.healths(c.id for c in connections)
    rows = []
    for c in connections:
        granted = (c.config or {}).get("granted") or []
        rows.append(
            {
                "id": c.id,
                "platform": c.platform,
                "account_id": c.account_id,
                "name": c.name or c.account_id,
                "cursor": c.cursor,
                "updated_at": c.updated_at,
                "installed": (c.platform, c.account_id) in desk.connectors,
                # Only a Facebook token's permissions are known; an empty list means unknown.
                "missing": [p for p in NEEDED_PERMISSIONS if granted and p not in granted]
                if c.platform == "facebook"
                else [],
                "fetch": healths[c.id].last,
                "health": healths[c.id],
                "backfill": c.platform in ("facebook", "instagram"),
            }
        )
    settings = desk.settings
    # Meta asks for a full https address: public_url when set, else the address in use now
    public = settings.public_url.rstrip("/") or base_url.rstrip("/")
    return {
        "rows": rows,
        "callback_url": f"{public}/webhooks/facebook",
        "callback_https": public.startswith("https://"),
        "has_secret": bool(settings.facebook_app_secret),
        "has_verify_token": bool(settings.facebook_verify_token),
        "has_token_key": bool(settings.token_key),
        "pending": processor.spool.count(),
        "failed": sum(1 for p in processor.spool.failed.glob("*.json")),
        "worker_running": processor.running,
    }


async def _page(
    request: Request,
    user: Any,
    *,
    typed: dict[str, str] | None = None,
    error: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The page; after a refusal, ``error`` names the platform whose form failed and ``typed``
    holds what was typed in it, secrets left out."""
    overview = await run_in_threadpool(_overview, get_desk(request), str(request.base_url))
    notice = request.session.pop(NOTICE, None)
    return render(
        request,
        "connections/list.html",
        {
            "user": user,
            **overview,
            "is_admin": user.role == "admin",
            "fields": FIELDS,
            "typed": typed or {},
            "defaults": DEFAULTS,
            "error": error,
            "notice": notice if isinstance(notice, dict) else None,
            "fetch_days": FETCH_DAYS,
        },
        status_code=status_code,
    )


@router.get("/connections")
async def connections(request: Request, user: User) -> Response:
    return await _page(request, user)


def _admin(user: Any) -> None:
    if user.role != "admin":
        raise HTTPException(403, "only admins manage connections")


def _connect(desk: Any, platform: str, form: dict[str, str], user: Any) -> Any:
    from crisisdesk.connectors import accounts

    who = {"actor": user.username, "user_id": user.id}
    if platform == "facebook":
        return accounts.connect_facebook(
            desk,
            form["page_id"],
            form["page_token"],
            app_id=form["app_id"],
            app_secret=form["app_secret"],
            **who,
        )
    if platform == "instagram":
        return accounts.connect_instagram(desk, form["account_id"], form["token"], **who)
    if platform == "bluesky":
        return accounts.connect_bluesky(
            desk,
            form["handle"],
            form["app_password"],
            service=form["service"] or DEFAULTS["bluesky"]["service"],
            **who,
        )
    return accounts.connect_mastodon(desk, form["base_url"], form["token"], **who)


@router.post("/connections/new/{platform}", dependencies=[Depends(check_csrf)])
async def connect(request: Request, platform: str, user: User) -> Response:
    from crisisdesk.connectors.accounts import ConnectRefused

    _admin(user)
    if platform not in PLATFORMS:
        raise HTTPException(404, "no such platform")
    raw = await request.form()
    form: dict[str, str] = {}
    for name, _secret, _required in FIELDS[platform]:
        value = raw.get(name)
        form[name] = value.strip() if isinstance(value, str) else ""
    typed = {name: form[name] for name, secret, _required in FIELDS[platform] if not secret}
    try:
        if any(len(value) > MAX_FIELD for value in form.values()):
            raise ConnectRefused("bad_input", "a field is too long")
        connected = await run_in_threadpool(_connect, get_desk(request), platform, form, user)
    except ConnectRefused as exc:
        error = {
            "platform": platform,
            "reason": exc.reason,
            # The platform's own words help only when the reason alone does not say what to do.
            "detail": exc.detail if exc.reason == "refused" else "",
            "needed": ", ".join(_needed(platform)),
        }
        return await _page(request, user, typed=typed, error=error, status_code=400)
    # Missing permissions are not repeated here: the account's row says so as long as it lasts.
    request.session[NOTICE] = {
        "kind": "connected",
        "platform": connected.platform,
        "name": connected.name,
    }
    return RedirectResponse("/connections", status_code=303)


def _row(desk: Any, connection_id: int) -> Any:
    from crisisdesk.connectors.store import connection_by_id

    row = connection_by_id(desk, connection_id)
    if row is None:
        raise HTTPException(404, "no such connection")
    return row


@router.get("/connections/{connection_id}/disconnect")
async def disconnect_form(request: Request, connection_id: int, user: User) -> Response:
    _admin(user)
    row = await run_in_threadpool(_row, get_desk(request), connection_id)
    return render(request, "connections/disconnect.html", {"user": user, "row": row})


@router.post("/connections/{connection_id}/disconnect", dependencies=[Depends(check_csrf)])
async def disconnect(request: Request, connection_id: int, user: User) -> Response:
    from crisisdesk.connectors.accounts import fetch_jobs_for
    from crisisdesk.connectors.store import delete_connection

    _admin(user)
    desk = get_desk(request)
    row = await run_in_threadpool(_row, desk, connection_id)
    await run_in_threadpool(
        lambda: delete_connection(
            desk, row.platform, row.account_id, actor=user.username, user_id=user.id
        )
    )
    fetch_jobs_for(desk).forget(connection_id)
    request.session[NOTICE] = {
        "kind": "disconnected",
        "platform": row.platform,
        "name": row.name or row.account_id,
    }
    return RedirectResponse("/connections", status_code=303)


@router.post("/connections/{connection_id}/fetch", dependencies=[Depends(check_csrf)])
async def fetch(request: Request, connection_id: int, user: User) -> Response:
    from crisisdesk.connectors.accounts import fetch_jobs_for
    from crisisdesk.connectors.facebook import POSTS_LOOKBACK

    _admin(user)
    desk = get_desk(request)
    row = await run_in_threadpool(_row, desk, connection_id)
    days_text = (await request.form()).get("days")
    days = int(days_text) if isinstance(days_text, str) and days_text.isdigit() else 7
    days = days if days in FETCH_DAYS else 7
    # Off the event loop: the claim writes to the store, and may wait for another writer there.
    started = await run_in_threadpool(
        fetch_jobs_for(desk).start,
        row.id,
        since=desk.clock() - timedelta(days=days),
        lookback=POSTS_LOOKBACK,
    )
    if is_htmx(request):
        return await _fetch_cell(request, user, row.id)
    request.session[NOTICE] = {
        "kind": "fetching" if started else "busy",
        "platform": row.platform,
        "name": row.name or row.account_id,
    }
    return RedirectResponse(f"/connections#connection-{row.id}", status_code=303)


async def _fetch_cell(request: Request, user: Any, connection_id: int) -> Response:
    from crisisdesk.connectors.accounts import fetch_jobs_for

    health = await run_in_threadpool(fetch_jobs_for(get_desk(request)).health, connection_id)
    return render(
        request,
        "connections/_fetch.html",
        {"user": user, "row": {"id": connection_id, "fetch": health.last, "health": health}},
    )


@router.get("/connections/{connection_id}/fetch")
async def fetch_status(request: Request, connection_id: int, user: User) -> Response:
    """The fetch running, or the last one recorded (from the web or the command line): the cell
    HTMX polls while it runs; a plain visit goes to the page, which shows the same cell."""
    if not is_htmx(request):
        return RedirectResponse(f"/connections#connection-{connection_id}", status_code=303)
    response = await _fetch_cell(request, user, connection_id)
    response.headers.add_vary_header("HX-Request")
    return response
