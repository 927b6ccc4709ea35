"""The web app: a thin adapter over the Desk.

Server-rendered with Jinja2 (autoescaping on for every template) and a sprinkle of HTMX, every asset
served from the package. Comment text is attacker-controlled, so besides escaping, every response
carries a strict Content-Security-Policy: no inline script, no inline style, nothing from another
origin. Forms carry a CSRF token bound to the session; HTMX sends it in a header.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from crisisdesk import __version__
from crisisdesk.auth import csrf_token, csrf_valid, new_session_id
from crisisdesk.desk import Desk
from crisisdesk.ingest.links import web_link
from crisisdesk.notify.live import AlertRelay
from crisisdesk.settings import display_zone
from crisisdesk.web import i18n
from crisisdesk.workflow.cases import WorkflowError

HERE = Path(__file__).parent

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


class LoginRequired(Exception):
    pass


class CSRFError(Exception):
    pass


#: The HTTP status of each :class:`WorkflowError` code; any other code is a bad request (422).
ERROR_STATUS = {
    "not_found": 404,
    "cooldown": 409,
    "already_published": 409,
    "already_replied": 409,
    "already_redeemed": 409,
    # a case's state stands in the way: approval pending, or asked for by the same person
    "awaiting_approval": 409,
    "not_awaiting": 409,
    "not_closed": 409,
    "own_request": 403,
    "changed_since_approval": 409,
    "approver": 403,
    "expired": 409,
    "platform": 502,
    "unsupported": 409,
    "internal": 500,
}


def workflow_error_response(exc: WorkflowError) -> JSONResponse:
    """The API's answer to a refused action: ``{"error": code, "message": ..., ...detail}``."""
    body = {"error": exc.code, "message": exc.message, **exc.detail}
    return JSONResponse(body, ERROR_STATUS.get(exc.code, 422))


def countdown(end: datetime, now: datetime) -> str:
    """Time left until ``end`` as ``m:ss`` (``h:mm:ss`` beyond an hour), the clocks' format in
    ``static/app.js``, which then keeps them ticking.

    >>> from datetime import timedelta
    >>> t = datetime(2026, 1, 1, 12, 0)
    >>> countdown(t + timedelta(minutes=15), t), countdown(t + timedelta(hours=2, seconds=5), t)
    ('15:00', '2:00:05')
    >>> countdown(t, t + timedelta(minutes=1))
    '0:00'
    """
    left = max(0, round((end - now).total_seconds()))
    if left > 3600:
        return f"{left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}"
    return f"{left // 60}:{left % 60:02d}"


#: ``{{ value | when(style) }}``: how much of the moment each style shows.
TIME_STYLES = {
    "datetime": "%Y-%m-%d %H:%M %Z",
    "date": "%Y-%m-%d",
    "time": "%H:%M %Z",
    "seconds": "%Y-%m-%d %H:%M:%S %Z",
}


def time_element(value: datetime | None, style: str = "datetime", *, zone: ZoneInfo) -> Markup:
    """A stored moment as ``<time>``: written in the desk's zone, with the zone's name, and
    marked for ``static/app.js`` to rewrite in the reader's own zone and language.

    >>> str(time_element(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), zone=ZoneInfo("Europe/Rome")))
    '<time datetime="2026-11-29T23:30:00+00:00" data-local="datetime">2026-11-30 00:30 CET</time>'
    >>> str(time_element(None, zone=ZoneInfo("UTC")))
    '—'
    """
    if value is None:
        return Markup("—")
    if value.tzinfo is None:  # stored moments are UTC
        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(zone).strftime(TIME_STYLES.get(style, TIME_STYLES["datetime"]))
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(
        value.isoformat(), style if style in TIME_STYLES else "datetime", shown
    )


@jinja2.pass_context
def _number(context: Any, value: object, places: int | None = None) -> str:
    """``{{ value | number(2) }}``: the number in the page's language (10,50 in Italian)."""
    return i18n.number(value, str(context.get("lang", i18n.DEFAULT_LANGUAGE)), places)


def create_app(
    desk: Desk,
    *,
    demo_user: str | None = None,
    on_startup: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the ASGI app for ``desk``. ``demo_user`` signs every visitor in as that user."""

    relay = AlertRelay(desk)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        if on_startup is not None:
            on_startup()
        try:
            yield
        finally:
            relay.stop()  # its looks, if streams are still open as the server stops

    app = FastAPI(
        title="crisisdesk",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.desk = desk
    # Brings the live banner the alerts the webhook worker and syncs from cron announce.
    app.state.alert_relay = relay
    app.state.demo_user = demo_user
    secret = desk.settings.secret_key.reveal()
    if not secret or desk.settings.secret_is_placeholder():
        # Tests and embedded uses without a configured key still get an unguessable one; the CLI
        # refuses to serve with the placeholder, so this never hides a misconfiguration there.
        secret = secrets.token_urlsafe(32)
    app.state.secret = secret

    # Autoescaping on for every template, whatever its file name: comment text is hostile.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True
    )
    templates = Jinja2Templates(env=env)
    templates.env.globals["version"] = __version__
    templates.env.filters["reason"] = i18n.translate_reason
    templates.env.filters["countdown"] = countdown
    zone = display_zone(str(desk.settings.timezone))
    templates.env.filters["when"] = lambda value, style="datetime": time_element(
        value, style, zone=zone
    )
    templates.env.filters["number"] = _number
    templates.env.filters["message"] = i18n.translate_message
    templates.env.filters["action"] = i18n.translate_action
    templates.env.filters["checked"] = i18n.checked_note
    templates.env.filters["web_link"] = web_link
    app.state.templates = templates

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="crisisdesk_session",
        same_site="lax",
        https_only=desk.settings.public_url.startswith("https://"),
        max_age=14 * 24 * 3600,
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.url.path.startswith("/static/"):
            # Assets revalidate with their ETag (a 304), instead of downloading on every page.
            response.headers.setdefault("Cache-Control", "no-cache")
        # Pages show hostile, changing data for signed-in people: never stored by a cache.
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return RedirectResponse("/login?next=" + request.url.path, status_code=303)

    @app.exception_handler(WorkflowError)
    async def _workflow_error(request: Request, exc: WorkflowError) -> Response:
        if request.url.path.startswith("/api/"):
            return workflow_error_response(exc)
        # pages show a refusal inside the page they render; one that escapes them is plain text
        return PlainTextResponse(exc.message, status_code=ERROR_STATUS.get(exc.code, 422))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if path.startswith(("/api/", "/static/")) or request.headers.get("hx-request"):
            return await http_exception_handler(request, exc)
        # A person reading pages gets a page: in their language, with the navigation and a way
        # back. The exception's own detail is English and meant for the logs, so not shown.
        response = _error_page(request, exc.status_code, exc.status_code)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(CSRFError)
    async def _csrf(request: Request, _exc: CSRFError) -> Response:
        if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
            return JSONResponse({"error": "csrf token missing or wrong"}, status_code=403)
        # most often a form left open across a sign-in or a restart: say so, in their language
        return _error_page(request, "csrf", 403)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from crisisdesk.web import views

    app.include_router(views.router)
    nav: list[tuple[str, str]] = []
    panels: list[tuple[str, str]] = []
    for module in route_modules():
        app.include_router(module.router)
        nav.extend(getattr(module, "NAV", []))
        panels.extend(getattr(module, "COMMENT_PANELS", []))
    templates.env.globals["nav"] = nav
    templates.env.globals["comment_panels"] = panels
    return app


def route_modules() -> list[Any]:
    """The modules of ``crisisdesk/web/routes/``: each has a ``router`` and, optionally, ``NAV``
    (``[(message id, path)]``) for the top navigation."""
    import importlib
    import pkgutil

    from crisisdesk.web import routes

    # ``COMMENT_PANELS``: ``[(name, path with {id})]``, fragments shown on a comment's page.
    return [
        importlib.import_module(f"crisisdesk.web.routes.{info.name}")
        for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda i: i.name)
    ]


# -- helpers used by the views ----------------------------------------------------------------


def get_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def session_id(request: Request) -> str:
    sid = request.session.get("sid")
    if not sid:
        sid = new_session_id()
        request.session["sid"] = sid
    return str(sid)


def current_user(request: Request) -> Any:
    desk = get_desk(request)
    user_id = request.session.get("user_id")
    if user_id is None and request.app.state.demo_user:
        user = _demo_user(desk, request.app.state.demo_user)
        if user is not None:
            request.session["user_id"] = user.id
            return user
    if user_id is None:
        raise LoginRequired()
    user = desk.get_user(int(user_id))
    if user is None or not user.active:
        request.session.clear()
        raise LoginRequired()
    return user


def _demo_user(desk: Desk, username: str) -> Any:
    from sqlalchemy import select

    from crisisdesk.models import User

    with desk.session() as s:
        return s.scalars(select(User).where(User.username == username)).first()


async def check_csrf(request: Request) -> None:
    token = request.headers.get("x-csrf-token")
    if token is None:
        form = await request.form()
        value = form.get("csrf_token")
        token = value if isinstance(value, str) else None
    if not csrf_valid(request.app.state.secret, session_id(request), token):
        raise CSRFError()


def language(request: Request) -> str:
    lang = request.session.get("lang")
    if lang in i18n.CATALOGS:
        return str(lang)
    return i18n.negotiate(request.headers.get("accept-language"))


def _error_page(request: Request, kind: int | str, status_code: int) -> Response:
    """``error.html`` for ``kind`` (a status, or "csrf"), signed in or not."""
    try:
        user = current_user(request)
    except LoginRequired:
        user = None
    return render(request, "error.html", {"user": user, "status": kind}, status_code)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    lang = language(request)
    templates: Jinja2Templates = request.app.state.templates
    full = {
        "request": request,
        "_": i18n.translator(lang),
        "lang": lang,
        "languages": i18n.LANGUAGES,
        "csrf_token": csrf_token(request.app.state.secret, session_id(request)),
        "demo": bool(request.app.state.demo_user),
        **context,
    }
    return templates.TemplateResponse(request, template, full, status_code=status_code)
