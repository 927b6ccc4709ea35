"""Who is behind a comment: the author card, the manual checklist and the verdict; the rules page.

The card is an HTMX fragment on the comment page and, for a browser without JavaScript, a page of
its own at the same address; its form works without JavaScript too (it posts normally and is
redirected back to the card's page, which says what was saved). Author names and comment texts
are hostile input: they are only ever rendered through autoescaped templates.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from crisisdesk.desk import Desk
from crisisdesk.signals.authors import VERDICTS, author_card, record_verdict
from crisisdesk.signals.competitors import comment_flags
from crisisdesk.web import i18n
from crisisdesk.web.app import check_csrf, current_user, get_desk, language, render
from crisisdesk.web.routes import is_htmx, pop_flash, render_panel, set_flash
from crisisdesk.workflow.rules import (
    ACTION_TYPES,
    RuleError,
    RulesEngine,
    UnknownName,
    name_key,
    name_labels,
)

router = APIRouter(include_in_schema=False)

NAV = [("nav.rules", "/rules")]
COMMENT_PANELS = [("author", "/comments/{id}/author-card")]

User = Annotated[Any, Depends(current_user)]
Short = Annotated[str, Form(max_length=2000)]

CHECKLIST = ("photo", "friends", "age", "posts", "same_text")


def _monitor(desk: Desk) -> Any:
    """The desk's coordination monitor once it is wired in; the card works without it."""
    return getattr(desk, "coordination", None)


def _card_context(desk: Desk, comment_id: int) -> dict[str, Any]:
    view = desk.comment_view(comment_id)
    if view is None:
        raise HTTPException(404, "no such comment")
    comment, author, page = view["comment"], view["author"], view["page"]
    card = (
        author_card(desk, author.id, page_id=page.id, coordination=_monitor(desk))
        if author
        else None
    )
    return {
        "comment": comment,
        "page": page,
        "card": card,
        "flags": comment_flags(desk, comment_id),
        "checklist": CHECKLIST,
        "verdicts": VERDICTS,
    }


@router.get("/comments/{comment_id}/author-card")
def author_fragment(request: Request, comment_id: int, user: User) -> Response:
    context = _card_context(get_desk(request), comment_id)
    saved = pop_flash(request, "author", comment_id).get("saved")
    context["saved"] = saved if saved in VERDICTS else None
    return _card(request, user, context)


def _card(request: Request, user: Any, context: dict[str, Any]) -> Response:
    return render_panel(
        request, "author", "authors/card.html", {"user": user, **context}, title="author.title"
    )


@router.post("/comments/{comment_id}/author-card/verdict", dependencies=[Depends(check_csrf)])
def verdict(
    request: Request,
    comment_id: int,
    user: User,
    verdict: Annotated[str, Form(max_length=16)],
    note: Short = "",
    checks: Annotated[list[str] | None, Form()] = None,
) -> Response:
    desk = get_desk(request)
    view = desk.comment_view(comment_id)
    if view is None or view["author"] is None:
        raise HTTPException(404, "no such comment or author")
    if verdict not in VERDICTS:
        raise HTTPException(400, "unknown verdict")
    done = [c for c in (checks or []) if c in CHECKLIST]
    if done:
        # Which manual checks the person did travel with the verdict into the audit log.
        note = (note + " " if note else "") + "[checked: " + ", ".join(done) + "]"
    record_verdict(
        desk,
        view["author"].id,
        verdict,
        note=note,
        page_id=view["page"].id,
        actor=user.username,
        user_id=user.id,
        comment_id=comment_id,
    )
    if not is_htmx(request):
        # A plain form post: to the card's page, so a reload does not post the verdict again.
        set_flash(request, "author", comment_id, saved=verdict)
        return RedirectResponse(f"/comments/{comment_id}/author-card", status_code=303)
    context = _card_context(desk, comment_id)
    context["saved"] = verdict
    return _card(request, user, context)


@router.get("/authors/{author_id}")
def author_page(request: Request, author_id: int, user: User, page: int | None = None) -> Response:
    desk = get_desk(request)
    card = author_card(desk, author_id, page_id=page, coordination=_monitor(desk))
    if card is None:
        raise HTTPException(404, "no such author")
    return render(request, "authors/page.html", {"user": user, "card": card})


# -- rules -------------------------------------------------------------------------------------


def _rules_context(desk: Desk, lang: str, **extra: Any) -> dict[str, Any]:
    engine = RulesEngine(desk)
    rules = engine.all_rules()
    # assign actions keep a user id: the table names the person
    assigned = {
        a["user_id"]
        for r in rules
        for a in r.actions
        if a.get("type") == "assign" and isinstance(a.get("user_id"), int)
    }
    users = {i: u.username for i in assigned if (u := desk.get_user(i)) is not None}
    return {
        "rules": rules,
        "users": users,
        "actions_log": engine.automatic_actions(limit=50),
        "pages": desk.pages(),
        "action_types": ACTION_TYPES,
        "kinds": desk.facets()["kind"],
        "verdicts": VERDICTS,
        "topic_names": ", ".join(name_labels("topic", lang)),
        "form": None,
        **extra,
    }


@router.get("/rules")
def rules_page(request: Request, user: User) -> Response:
    return render(
        request,
        "authors/rules.html",
        {"user": user, **_rules_context(get_desk(request), language(request))},
    )


def _rule_refusal(exc: RuleError, lang: str) -> str:
    """Why a rule was refused, in the reader's language, naming fields as the form labels them."""
    say = i18n.translator(lang)
    if isinstance(exc, UnknownName):
        valid = ", ".join(name_labels(exc.what, lang))
        return say("rules.unknown_topic").format(typed=exc.typed, valid=valid)
    if exc.field in ("offensive_min", "fake_risk_min"):
        return say("rules.not_a_share").format(field=say(f"rules.{exc.field}"))
    return i18n.translate_message(str(exc), lang)


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.replace("\n", ",").split(",") if w.strip()]


@router.post("/rules", dependencies=[Depends(check_csrf)])
async def create_rule(request: Request, user: User) -> Response:
    desk = get_desk(request)
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name)
        return value.strip()[:2000] if isinstance(value, str) else ""

    conditions: dict[str, Any] = {"match": "any" if field("match") == "any" else "all"}
    if field("keywords"):
        conditions["keywords"] = _words(field("keywords"))
    if field("link_domains"):
        conditions["link_domains"] = _words(field("link_domains"))
    for flag in ("has_link", "only_mentions_or_emojis", "first_time_author", "repeat_offender"):
        if field(flag) == "on":
            conditions[flag] = True
    for number in ("offensive_min", "fake_risk_min"):
        if field(number):
            conditions[number] = field(number)
    kinds = [k for k in form.getlist("kinds") if isinstance(k, str)]
    if kinds:
        conditions["kinds"] = kinds
    verdicts = [v for v in form.getlist("verdicts") if isinstance(v, str)]
    if verdicts:
        conditions["verdicts"] = verdicts
    actions: list[dict[str, Any]] = []
    if field("label"):
        actions.append({"type": "label", "label": field("label")})
    if field("assign"):
        actions.append({"type": "assign", "user_id": field("assign")})
    if field("hide") == "on":
        actions.append({"type": "hide"})
    page_id = int(field("page")) if field("page").isdigit() else None
    try:
        if field("escalate") == "on":
            # The contacts are keyed by the English topic: "prodotto" is stored as "product".
            topic = name_key(field("topic"), "topic") if field("topic") else None
            actions.append({"type": "escalate", "topic": topic, "note": field("note")})
        RulesEngine(desk).create(
            field("name"),
            conditions,
            actions,
            page_id=page_id,
            actor=user.username,
            user_id=user.id,
        )
    except RuleError as exc:
        lang = language(request)
        # Everything typed goes back into the form, the ticked boxes as lists.
        typed: dict[str, Any] = {k: field(k) for k in form}
        typed["kinds"], typed["verdicts"] = kinds, verdicts
        context = _rules_context(desk, lang, error=_rule_refusal(exc, lang), form=typed)
        return render(request, "authors/rules.html", {"user": user, **context}, status_code=400)
    return RedirectResponse("/rules", status_code=303)


@router.post("/rules/{rule_id}/toggle", dependencies=[Depends(check_csrf)])
def toggle_rule(
    request: Request, rule_id: int, user: User, enabled: Annotated[str, Form(max_length=8)]
) -> Response:
    try:
        RulesEngine(get_desk(request)).set_enabled(
            rule_id, enabled == "1", actor=user.username, user_id=user.id
        )
    except RuleError:
        raise HTTPException(404, "no such rule") from None
    return RedirectResponse("/rules", status_code=303)


@router.post("/rules/actions/{audit_id}/undo", dependencies=[Depends(check_csrf)])
def undo_action(request: Request, audit_id: int, user: User) -> Response:
    desk = get_desk(request)
    try:
        RulesEngine(desk).undo(audit_id, actor=user.username, user_id=user.id)
    except RuleError as exc:
        context = _rules_context(desk, language(request), error=str(exc))
        return render(request, "authors/rules.html", {"user": user, **context}, status_code=400)
    return RedirectResponse("/rules", status_code=303)
