"""Page settings: what the playbook needs to know about each page the team manages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from crisisdesk.numbers import decimal_text
from crisisdesk.signals.competitors import (
    competitor_from_line,
    competitor_to_line,
    parse_competitors,
)
from crisisdesk.web import i18n
from crisisdesk.web.app import check_csrf, current_user, get_desk, language, render
from crisisdesk.workflow.rules import UnknownName, name_key, name_labels
from crisisdesk.workflow.voucher_book import CURRENCIES

router = APIRouter(include_in_schema=False)
NAV = [("nav.pages", "/pages")]

User = Annotated[Any, Depends(current_user)]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pairs(text: str) -> dict[str, str]:
    """``key = value`` per line; lines without ``=`` are an error worth showing."""
    out: dict[str, str] = {}
    for line in _lines(text):
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(line)
        out[key.strip()] = value.strip()
    return out


def _named_pairs(text: str, what: str) -> dict[str, str]:
    """``_pairs`` keyed by a kind's or topic's English key, typed as the key or as its label in
    any interface language; the cool-down and the contacts look them up by key only."""
    return {name_key(key, what): value for key, value in _pairs(text).items()}


def _minutes(text: str) -> float:
    try:
        value = float(decimal_text(text))  # "7,5" as Italian users type it
    except ValueError:
        raise ValueError(text) from None
    if value < 0:
        raise ValueError(text)
    return value


def _config_text(config: dict[str, Any], lang: str) -> dict[str, str]:
    cooldown = config.get("cooldown_minutes", "")
    say = i18n.translator(lang)

    def name(what: str, key: str) -> str:  # the reader's own word; it is read back as the key
        return say(f"{what}.{key}") if f"{what}.{key}" in i18n.CATALOGS["en"] else key

    def minutes(value: float) -> str:  # "7,5" for Italian readers, as they type it back
        return i18n.number(float(f"{value:g}"), lang)

    return {
        "competitors": "\n".join(
            competitor_to_line(c) for c in parse_competitors(config.get("competitors"))
        ),
        "contacts": "\n".join(
            f"{name('topic', k)} = {v}" for k, v in (config.get("contacts") or {}).items()
        ),
        "causes": "\n".join(config.get("causes", []) or []),
        "cooldown": (
            "\n".join(f"{name('kind', k)} = {minutes(v)}" for k, v in cooldown.items())
            if isinstance(cooldown, dict)
            else (minutes(cooldown) if cooldown != "" else "")
        ),
        "response_target": (
            minutes(config["response_target_minutes"])
            if config.get("response_target_minutes")
            else ""
        ),
        "currency": str(config.get("currency") or ""),
    }


def _render_pages(
    request: Request,
    user: Any,
    *,
    saved: int | None = None,
    error: str | None = None,
    typed: tuple[int, dict[str, str]] | None = None,
) -> Response:
    """The pages; ``typed`` is (page id, what was typed) after a refusal, shown in that page's
    form instead of the stored settings so nothing typed is lost."""
    desk = get_desk(request)
    lang = language(request)
    rows = [
        {
            "page": p,
            "text": typed[1] if typed and typed[0] == p.id else _config_text(p.config or {}, lang),
            "error": error if typed and typed[0] == p.id else None,
        }
        for p in desk.pages()
    ]
    return render(
        request,
        "pages/list.html",
        {
            "user": user,
            "rows": rows,
            "saved": saved,
            "error": error,
            "can_edit": user.role == "admin",
            "default_cooldown": desk.settings.cooldown_minutes,
            "default_target": desk.settings.response_target_minutes,
            "kind_names": ", ".join(name_labels("kind", lang)),
            "currencies": CURRENCIES,
            "topic_names": ", ".join(name_labels("topic", lang)),
        },
        status_code=400 if error else 200,
    )


@router.get("/pages")
async def pages(request: Request, user: User, saved: int | None = None) -> Response:
    return _render_pages(request, user, saved=saved)


@router.post("/pages/{page_id}", dependencies=[Depends(check_csrf)])
async def save_page(
    request: Request,
    page_id: int,
    user: User,
    competitors: Annotated[str, Form()] = "",
    contacts: Annotated[str, Form()] = "",
    causes: Annotated[str, Form()] = "",
    cooldown: Annotated[str, Form()] = "",
    response_target: Annotated[str, Form()] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    if user.role != "admin":
        raise HTTPException(403, "only admins change page settings")
    desk = get_desk(request)
    page = next((p for p in desk.pages() if p.id == page_id), None)
    if page is None:
        raise HTTPException(404, "no such page")
    config: dict[str, Any] = {
        "competitors": [
            c.as_dict() for line in _lines(competitors) if (c := competitor_from_line(line))
        ],
        "causes": _lines(causes),
        # the vouchers' currency; unset, the voucher form offers the first of CURRENCIES
        "currency": currency if currency in CURRENCIES else None,
    }
    try:
        config["contacts"] = _named_pairs(contacts, "topic")
        if "=" in cooldown:
            config["cooldown_minutes"] = {
                k: _minutes(v) for k, v in _named_pairs(cooldown, "kind").items()
            }
        elif cooldown.strip():
            config["cooldown_minutes"] = _minutes(cooldown.strip())
        else:
            config["cooldown_minutes"] = None
        config["response_target_minutes"] = (
            _minutes(response_target.strip()) if response_target.strip() else None
        )
    except ValueError as exc:
        say = i18n.translator(language(request))
        if isinstance(exc, UnknownName):
            message = say(f"pages.unknown_{exc.what}").format(
                typed=exc.typed, valid=", ".join(name_labels(exc.what, language(request)))
            )
        else:
            message = f"{say('pages.error')}: {exc}"
        typed = {
            "competitors": competitors,
            "contacts": contacts,
            "causes": causes,
            "cooldown": cooldown,
            "response_target": response_target,
            "currency": currency,
        }
        return _render_pages(request, user, error=message, typed=(page.id, typed))
    # Empty fields fall back to the desk's defaults rather than storing empty values.
    config = {k: v for k, v in config.items() if v not in (None, [], {})}
    cleared = {
        k: None
        for k in (
            "competitors",
            "causes",
            "contacts",
            "cooldown_minutes",
            "response_target_minutes",
            "currency",
        )
        if k not in config
    }
    desk.configure_page(page.platform, page.platform_id, config={**cleared, **config})
    desk.audit(
        "page.configure",
        actor=user.username,
        user_id=user.id,
        object_type="page",
        object_id=str(page.id),
        detail=config,
    )
    return RedirectResponse(f"/pages?saved={page.id}", status_code=303)
