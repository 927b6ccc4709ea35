"""Connections: which platform accounts the desk reads from and acts through, and whether live
comments can arrive (webhook settings, deliveries waiting in the spool). Read-only: connecting an
account takes a token, which is typed into `crisisdesk connect`, never into a web form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from crisisdesk.web.app import current_user, get_desk, render

router = APIRouter(include_in_schema=False)
NAV = [("nav.connections", "/connections")]

User = Annotated[Any, Depends(current_user)]


def _overview(desk: Any, base_url: str) -> dict[str, Any]:
    from crisisdesk.connectors.store import load_connections
    from crisisdesk.connectors.webhook import processor_for

    processor = processor_for(desk)
    rows = [
        {
            "platform": c.platform,
            "account_id": c.account_id,
            "name": c.name or c.account_id,
            "cursor": c.cursor,
            "updated_at": c.updated_at,
            "installed": (c.platform, c.account_id) in desk.connectors,
        }
        for c in load_connections(desk)
    ]
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


@router.get("/connections")
async def connections(request: Request, user: User) -> Response:
    overview = await run_in_threadpool(_overview, get_desk(request), str(request.base_url))
    return render(request, "connections/list.html", {"user": user, **overview})
