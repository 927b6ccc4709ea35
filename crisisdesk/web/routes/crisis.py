"""Flame alerts in the web app: the list, the crisis view of a page, and the live event stream
that drives the banner on every page."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from crisisdesk.notify.live import LiveEvent
from crisisdesk.web import i18n
from crisisdesk.web.app import check_csrf, current_user, get_desk, language, render

router = APIRouter(include_in_schema=False)
NAV = [("nav.alerts", "/alerts")]

User = Annotated[Any, Depends(current_user)]

# An event stream ends after this long and the browser reconnects (EventSource does so by
# itself, resuming with Last-Event-ID): no connection is held forever by a forgotten tab.
STREAM_SECONDS = 300.0
KEEPALIVE_SECONDS = 15.0


@router.get("/alerts")
async def alerts_page(request: Request, user: User, page: int | None = None) -> Response:
    from crisisdesk.signals.flame import monitor_for

    desk = get_desk(request)
    monitor = monitor_for(desk)
    alerts = monitor.alerts(page_id=page, limit=200)
    users = {a["acknowledged_by"] for a in alerts if a["acknowledged_by"]}
    names = {}
    for uid in users:
        person = desk.get_user(uid)
        names[uid] = (person.display_name or person.username) if person else str(uid)
    for a in alerts:
        a["acknowledged_name"] = names.get(a["acknowledged_by"])
    known = desk.pages()
    level_of = monitor.levels_of(p.id for p in known)
    pages = [{"id": p.id, "name": p.name, "level": level_of[p.id]} for p in known]
    return render(
        request,
        "crisis/alerts.html",
        {"user": user, "alerts": alerts, "pages": pages, "selected": page},
    )


@router.post("/alerts/{alert_id}/ack", dependencies=[Depends(check_csrf)])
async def acknowledge_alert(request: Request, alert_id: int, user: User) -> Response:
    from crisisdesk.signals.alerts import acknowledge

    if not acknowledge(get_desk(request), alert_id, user.id):
        raise HTTPException(404, "no such alert")
    return RedirectResponse(f"/alerts#alert-{alert_id}", status_code=303)


@router.get("/crisis/{page_id}")
async def crisis_page(request: Request, page_id: int, user: User) -> Response:
    from crisisdesk.signals.flame import monitor_for

    view = monitor_for(get_desk(request)).crisis_view(page_id)
    if view is None:
        raise HTTPException(404, "no such page")
    return render(request, "crisis/view.html", {"user": user, "view": view})


def banner_text(data: dict[str, Any], lang: str) -> str:
    """An alert's one line for the live banner, in ``lang``: level, page, post and reasons."""
    _ = i18n.translator(lang)
    line = _("banner.alert").format(
        level=_(f"level.{data.get('level', 'watch')}").upper(), page=data.get("page_name", "")
    )
    if data.get("post_label"):
        line += f" ({_('alerts.post')} {data['post_label']})"
    by_lang = data.get("reasons") or {}
    reasons = by_lang.get(lang) or by_lang.get(i18n.DEFAULT_LANGUAGE) or []
    return line + (": " + "; ".join(reasons) if reasons else "")


def _for_reader(event: LiveEvent, lang: str) -> LiveEvent:
    """The event as this reader sees it: an alert's text in the reader's language."""
    if event.event != "alert" or "page_name" not in event.data:
        return event
    return dataclasses.replace(event, data={**event.data, "text": banner_text(event.data, lang)})


@router.get("/events")
async def events(request: Request, user: User) -> StreamingResponse:
    """Server-sent events: ``alert`` when a flame level rises (``{"text", "level", ...}``), in
    whichever process it rose (the app's :class:`~crisisdesk.notify.live.AlertRelay`).

    The text is written in the reader's language when the stream opens.
    """
    from crisisdesk.notify.live import AlertRelay, broker_for

    lang = language(request)
    broker = broker_for(get_desk(request))
    relay: AlertRelay = request.app.state.alert_relay
    last = request.headers.get("last-event-id", "")
    last_id = int(last) if last.isdigit() else None

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_SECONDS
        # Inside the body, so that a stream closed before it started holds neither the
        # subscription nor the relay's looks.
        async with relay.watching():
            subscription = broker.subscribe(last_id)
            try:
                yield "retry: 3000\n\n"
                while loop.time() < ends:
                    wait = min(KEEPALIVE_SECONDS, max(0.0, ends - loop.time()))
                    event = await subscription.get(wait)
                    if event is not None:
                        yield _for_reader(event, lang).encode()
                    elif await request.is_disconnected():
                        return
                    else:
                        yield ": keep-alive\n\n"
            finally:
                subscription.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
