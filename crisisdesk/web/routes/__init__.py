"""Routes of each capability. Every module here has ``router`` (a FastAPI ``APIRouter``) and may
have ``NAV``, a list of ``(message id, path)`` for the top navigation; ``create_app`` includes them
all.

This package also holds what the modules share for the panels of a comment's page
(``COMMENT_PANELS``). A panel's address answers HTMX with the bare fragment and anyone else (no
JavaScript, a blocked script, a screen reader's plain browser) with a full page holding the same
fragment, so the comment page's links to its panels always lead somewhere. A form in a panel
posted without HTMX ends in a 303 back to that page, its outcome carried over in the session.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from crisisdesk.web.app import render


def is_htmx(request: Request) -> bool:
    """Whether HTMX made the request (it sends ``HX-Request: true`` with each one)."""
    return bool(request.headers.get("hx-request"))


def render_panel(
    request: Request,
    name: str,
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    status_code: int = 200,
) -> Response:
    """Panel ``name`` drawn by ``template``: the fragment for HTMX, else a page in the layout.

    ``context`` must hold the ``comment`` (and its ``page``) the panel belongs to; ``title`` is
    the message id of the page's title.
    """
    if is_htmx(request):
        response = render(request, template, context, status_code=status_code)
    else:
        page = {**context, "panel_name": name, "panel_template": template, "panel_title": title}
        response = render(request, "panel_page.html", page, status_code=status_code)
    # One address, two bodies: a cache must not hand the fragment to a plain visit or back.
    response.headers.add_vary_header("HX-Request")
    return response


def set_flash(request: Request, name: str, comment_id: int, **outcome: Any) -> None:
    """Keep a posted form's outcome (small, JSON-able: the session is a signed cookie) for the
    panel's page the browser is redirected to."""
    request.session["flash"] = {"panel": name, "comment": comment_id, "outcome": outcome}


def pop_flash(request: Request, name: str, comment_id: int) -> dict[str, Any]:
    """The outcome kept for this panel of this comment, once; an outcome meant for another
    panel is dropped, so it never shows up later somewhere unrelated."""
    found = request.session.pop("flash", None)
    if (
        isinstance(found, dict)
        and found.get("panel") == name
        and found.get("comment") == comment_id
    ):
        outcome = found.get("outcome")
        return outcome if isinstance(outcome, dict) else {}
    return {}
