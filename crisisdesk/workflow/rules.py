"""Moderation rules: conditions on a comment and its author, and the actions to take.

Like Meta's Moderation Assist and Agorapulse's inbox rules, on what the desk knows. A rule is a
``ModerationRule`` row: ``conditions`` (JSON) and ``actions`` (JSON list). Conditions:

- on the text: ``keywords`` (matched with their obfuscated variants: leetspeak, spacing and
  punctuation between letters, repeated letters, accents), ``has_link``, ``link_domains``,
  ``only_mentions_or_emojis``, ``offensive_min`` (the analysis' offensive score), ``kinds``;
- on the author: ``first_time_author``, ``fake_risk_min`` (the author card's ``fake`` score),
  ``verdicts`` (the latest verdict for the page), ``repeat_offender``;
- ``match``: ``all`` (default) or ``any``.

Actions: ``{"type": "label", "label": ...}``, ``{"type": "assign", "user_id": ...}`` (a user id
or a username, or ``"username": ...``; a username is turned into the id when the rule is saved, so
a typo is refused then rather than found when a comment matches), ``{"type": "hide"}`` (through the
page's connector when there is one, otherwise recorded as a to-do, by ``desk.moderation``),
``{"type": "escalate", "topic": ..., "note": ...}``.

Rules run on new comments and again on edited ones (the text changed: a harmless comment can be
edited into spam). A rule acts on a comment at most once per kind of action, so an edit that
still matches does not escalate twice, and an action a person undid is not redone by an edit.
Re-deliveries of the same text change nothing and run nothing.

Every automatic action writes an audit entry ``rule.<action>`` naming the rule and holding what is
needed to undo it; :meth:`RulesEngine.undo` reverts one and logs ``rule.undo``. Rules never
delete, never ban and never reply: those stay human decisions.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from crisisdesk.models import (
    Analysis,
    AuditEntry,
    Author,
    Case,
    Comment,
    CommentLabel,
    ModerationRule,
    User,
)
from crisisdesk.numbers import decimal_text
from crisisdesk.signals.coordination import extract_urls
from crisisdesk.workflow.cases import WorkflowError

if TYPE_CHECKING:
    from crisisdesk.desk import Desk
    from crisisdesk.ingest.upsert import Ingested

log = logging.getLogger(__name__)

ACTION_TYPES = ("label", "assign", "hide", "escalate")
CONDITION_KEYS = (
    "match",
    "keywords",
    "has_link",
    "link_domains",
    "only_mentions_or_emojis",
    "offensive_min",
    "kinds",
    "first_time_author",
    "fake_risk_min",
    "verdicts",
    "repeat_offender",
)

# Characters people substitute for letters to dodge keyword filters.
_LOOKALIKES = {
    "a": "a4@",
    "b": "b8",
    "e": "e3€",
    "g": "g9",
    "i": "i1!|",
    "l": "l1|",
    "o": "o0",
    "s": "s5$",
    "t": "t7+",
    "z": "z2",
}


def fold(text: str) -> str:
    """Lower case, accents removed (``Trüffa`` -> ``truffa``)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1024)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A pattern matching ``keyword`` and its obfuscated variants in folded text.

    >>> p = keyword_pattern("scam")
    >>> [bool(p.search(fold(t))) for t in ("SCAM!", "s c a m", "5c@m", "scaaaam", "s.c.a.m", "scampi")]
    [True, True, True, True, True, False]
    """
    letters = re.sub(r"(.)\1+", r"\1", fold(keyword.strip()))
    # Each letter may repeat, with spacing or punctuation between the repeats and before the
    # next letter ("s c a a m", "f.f.a").
    sep = r"[\s.\-_*·'\"]*"
    parts = []
    for ch in letters:
        if ch.isspace():
            parts.append(r"[\W_]*")
            continue
        chars = re.escape(_LOOKALIKES.get(ch, ch))
        parts.append(f"[{chars}](?:{sep}[{chars}])*")
    body = sep.join(parts)
    return re.compile(r"(?<![a-z0-9])" + body + r"(?![a-z0-9])")


def _only_mentions_or_emojis(text: str) -> bool:
    stripped = re.sub(r"@\S+", "", text)
    if not text.strip():
        return False
    for ch in stripped:
        if ch.isspace():
            continue
        if unicodedata.category(ch)[0] in ("S", "P", "M", "C"):
            continue  # symbols (emoji), punctuation, marks, format characters (ZWJ)
        return False
    return True


class RuleError(ValueError):
    """A rule that cannot be saved, with why.

    ``field`` names the condition the refusal is about (``offensive_min``), so a form can name it
    by its own label instead of the JSON key."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownName(RuleError):
    """A kind or topic typed by a name the desk does not know; ``valid`` are the English keys."""

    def __init__(self, what: str, typed: str, valid: Sequence[str]) -> None:
        super().__init__(f"unknown {what} {typed!r}: use one of {', '.join(valid)}", field=what)
        self.what = what
        self.typed = typed
        self.valid = tuple(valid)


def name_keys(what: str) -> tuple[str, ...]:
    """The English keys of ``kind`` (the analysis' kinds) or ``topic`` (the drafts' topics, plus
    ``default`` for everything else)."""
    if what == "kind":
        from crisisdesk.analysis.base import KINDS

        return tuple(KINDS)
    from crisisdesk.workflow.drafts import TOPICS

    return (*TOPICS, "default")


def name_labels(what: str, lang: str) -> list[str]:
    """The names of ``name_keys(what)`` as readers of ``lang`` see them, for help and refusals.

    >>> name_labels("topic", "it")
    ['consegne', 'pagamenti', 'prodotto', 'personale', 'tutto il resto']
    """
    from crisisdesk.web.i18n import translator

    say = translator(lang)
    return [say(f"{what}.{key}") for key in name_keys(what)]


def name_key(typed: str, what: str) -> str:
    """The English key of a kind or topic typed as that key or as its label in any interface
    language (``reclamo`` -> ``complaint``); :class:`UnknownName` if it is neither.

    The desk's cool-down and contacts look kinds and topics up by their English keys only, so a
    label stored as typed would be accepted and then never apply. The labels are the interface's
    own (``kind.*``, ``topic.*`` in the i18n catalogs), so a new language brings its names along.

    >>> name_key("Reclamo", "kind"), name_key("complaint", "kind"), name_key("prodotto", "topic")
    ('complaint', 'complaint', 'product')
    >>> name_key("pizza", "topic")
    Traceback (most recent call last):
    ...
    crisisdesk.workflow.rules.UnknownName: unknown topic 'pizza': use one of delivery, billing, \
product, staff, default
    """
    # Imported here: the interface catalogs hold the labels; nothing else of the web is needed.
    from crisisdesk.web.i18n import CATALOGS

    wanted = " ".join(fold(typed).split())
    for key in name_keys(what):
        names = {key, *(c.get(f"{what}.{key}", "") for c in CATALOGS.values())}
        if wanted in {" ".join(fold(n).split()) for n in names if n}:
            return key
    raise UnknownName(what, typed.strip(), name_keys(what))


def validate(
    conditions: Any, actions: Any, *, find_user: Callable[[int | str], int | None] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check a rule's JSON and return it cleaned; raise :class:`RuleError` with the reason.

    ``find_user`` turns a user id or a username into the id of an existing user (None if there is
    none); without it an ``assign`` action takes numeric ids only, unchecked.

    >>> users = {"anna": 7}
    >>> validate({"has_link": True}, [{"type": "assign", "user_id": "anna"}],
    ...          find_user=lambda u: users.get(u) if isinstance(u, str) else u)[1]
    [{'type': 'assign', 'user_id': 7}]
    """
    if not isinstance(conditions, dict):
        raise RuleError("conditions must be an object")
    unknown = [k for k in conditions if k not in CONDITION_KEYS]
    if unknown:
        raise RuleError(f"unknown condition(s): {', '.join(map(str, unknown))}")
    clean: dict[str, Any] = {}
    for key, value in conditions.items():
        if key == "match":
            if value not in ("all", "any"):
                raise RuleError("match must be 'all' or 'any'")
            clean[key] = value
        elif key in ("keywords", "kinds", "verdicts", "link_domains"):
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",")]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RuleError(f"{key} must be a list of words", field=key)
            items = [v.strip()[:100] for v in value if v.strip()]
            if items:
                clean[key] = items[:200]
        elif key in ("offensive_min", "fake_risk_min"):
            clean[key] = _share(key, value)
        elif value is not None:
            if not isinstance(value, bool):
                raise RuleError(f"{key} must be true or false", field=key)
            clean[key] = value
    if not [k for k in clean if k != "match"]:
        raise RuleError("a rule needs at least one condition")
    if not isinstance(actions, list) or not actions:
        raise RuleError("a rule needs at least one action")
    clean_actions: list[dict[str, Any]] = []
    for action in actions:
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            raise RuleError(f"each action needs a type among {', '.join(ACTION_TYPES)}")
        kind = action["type"]
        if kind == "label":
            label = str(action.get("label", "")).strip()[:64]
            if not label:
                raise RuleError("a label action needs a label")
            clean_actions.append({"type": "label", "label": label})
        elif kind == "assign":
            clean_actions.append({"type": "assign", "user_id": _assignee(action, find_user)})
        elif kind == "hide":
            clean_actions.append({"type": "hide"})
        else:
            clean_actions.append(
                {
                    "type": "escalate",
                    "topic": str(action.get("topic") or "")[:64] or None,
                    "note": str(action.get("note") or "")[:500],
                }
            )
    return clean, clean_actions


def _share(key: str, value: Any) -> float:
    """A score threshold between 0 and 1, typed as ``0.5``, ``0,5`` (Italian) or ``50%``.

    >>> _share("offensive_min", "50%"), _share("offensive_min", "0,5"), _share("x", " 7,5 % ")
    (0.5, 0.5, 0.075)
    """
    percent = isinstance(value, str) and value.strip().endswith("%")
    if isinstance(value, str):
        value = decimal_text(value.strip().removesuffix("%"))  # "0,5" as Italian users type it
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RuleError(f"{key} must be a number between 0 and 1", field=key) from None
    if percent:
        number /= 100
    if not 0.0 <= number <= 1.0:  # also refuses nan
        raise RuleError(f"{key} must be a number between 0 and 1", field=key)
    return number


def _assignee(action: dict[str, Any], find_user: Callable[[int | str], int | None] | None) -> int:
    """The user id an ``assign`` action names, by id or by username."""
    # The web form sends whatever was typed as ``user_id``: digits are an id, anything else a
    # username. An explicit ``username`` is always a username (even one made of digits).
    value = action.get("username", action.get("user_id"))
    wanted: int | str
    if isinstance(value, int) and not isinstance(value, bool):
        wanted = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        wanted = int(text) if "username" not in action and text.isdigit() else text.lstrip("@")
    else:
        raise RuleError("an assign action needs a user id or a username")
    if find_user is None:
        if isinstance(wanted, str):
            raise RuleError("an assign action needs a numeric user id here")
        return wanted
    found = find_user(wanted)
    if found is None:
        if isinstance(wanted, str):
            raise RuleError(f"assign: no user named {wanted!r}")
        raise RuleError(f"assign: no user with id {wanted}")
    return found


@dataclass
class Context:
    """What a rule looks at for one comment; author signals are computed only when asked."""

    comment: Comment
    offensive: float
    first_time: bool
    engine: RulesEngine
    _cache: dict[str, Any] = field(default_factory=dict)

    def fake_risk(self) -> float:
        if "fake" not in self._cache:
            from crisisdesk.signals.authors import fake_score

            if self.comment.author_id is None:
                self._cache["fake"] = 0.0
            else:
                risk = fake_score(
                    self.engine.desk,
                    self.comment.author_id,
                    page_id=self.comment.page_id,
                    coordination=self.engine.coordination,
                )
                self._cache["fake"] = risk.score
        return float(self._cache["fake"])

    def verdict(self) -> str | None:
        if "verdict" not in self._cache:
            from crisisdesk.signals.authors import latest_verdict

            self._cache["verdict"] = (
                latest_verdict(self.engine.desk, self.comment.author_id, self.comment.page_id)
                if self.comment.author_id
                else None
            )
        value = self._cache["verdict"]
        return str(value) if value else None

    def repeat_offender(self) -> bool:
        if "repeat" not in self._cache:
            from crisisdesk.signals.authors import is_repeat_offender

            self._cache["repeat"] = bool(
                self.comment.author_id
                and is_repeat_offender(self.engine.desk, self.comment.author_id)
            )
        return bool(self._cache["repeat"])


def evaluate(conditions: dict[str, Any], ctx: Context) -> tuple[bool, list[str]]:
    """Whether the conditions hold, and the reasons (one per condition that held)."""
    results: list[tuple[bool, str]] = []
    text = ctx.comment.text or ""
    folded = fold(text)
    if "keywords" in conditions:
        hit = next((k for k in conditions["keywords"] if keyword_pattern(k).search(folded)), None)
        results.append((hit is not None, f"contains {hit!r}" if hit else "keywords"))
    urls = extract_urls(text)
    if "has_link" in conditions:
        results.append((bool(urls) == conditions["has_link"], "has a link" if urls else "no link"))
    if "link_domains" in conditions:
        wanted = [d.lower().removeprefix("www.") for d in conditions["link_domains"]]
        hosts = [u.split("/")[0] for u in urls]
        hit = next((h for h in hosts for d in wanted if h == d or h.endswith("." + d)), None)
        results.append((hit is not None, f"links to {hit}" if hit else "link domains"))
    if "only_mentions_or_emojis" in conditions:
        only = _only_mentions_or_emojis(text)
        results.append((only == conditions["only_mentions_or_emojis"], "only mentions or emojis"))
    if "offensive_min" in conditions:
        ok = ctx.offensive >= conditions["offensive_min"]
        results.append((ok, f"offensive score {ctx.offensive:.2f}"))
    if "kinds" in conditions:
        ok = ctx.comment.kind in conditions["kinds"]
        results.append((ok, f"kind is {ctx.comment.kind}"))
    if "first_time_author" in conditions:
        ok = ctx.first_time == conditions["first_time_author"]
        results.append((ok, "first-time author" if ctx.first_time else "known author"))
    if "repeat_offender" in conditions:
        offender = ctx.repeat_offender()
        results.append(
            (
                offender == conditions["repeat_offender"],
                "repeat offender" if offender else "no record",
            )
        )
    if "verdicts" in conditions:
        verdict = ctx.verdict()
        results.append((verdict in conditions["verdicts"], f"author verdict {verdict}"))
    if "fake_risk_min" in conditions:
        risk = ctx.fake_risk()
        results.append((risk >= conditions["fake_risk_min"], f"fake risk {risk:.2f}"))
    if not results:
        return False, []
    if conditions.get("match") == "any":
        matched = any(ok for ok, _ in results)
    else:
        matched = all(ok for ok, _ in results)
    return matched, [reason for ok, reason in results if ok]


class RulesEngine:
    """Applies the enabled rules to new comments; every action is audited and undoable.

    ``coordination`` (a :class:`CoordinationMonitor`) lets ``fake_risk_min`` see clusters.
    """

    ACTOR = "rules"

    def __init__(self, desk: Desk, coordination: Any = None) -> None:
        self.desk = desk
        self.coordination = coordination

    # -- managing rules -------------------------------------------------------------------

    def create(
        self,
        name: str,
        conditions: Any,
        actions: Any,
        *,
        page_id: int | None = None,
        enabled: bool = True,
        actor: str,
        user_id: int | None = None,
    ) -> ModerationRule:
        name = (name or "").strip()[:200]
        if not name:
            raise RuleError("a rule needs a name")
        clean, clean_actions = validate(conditions, actions, find_user=self._find_user)
        with self.desk.session() as s, s.begin():
            rule = ModerationRule(
                page_id=page_id,
                name=name,
                enabled=enabled,
                conditions=clean,
                actions=clean_actions,
            )
            s.add(rule)
            s.flush()
            s.expunge(rule)
        self.desk.audit(
            "rule.create",
            actor=actor,
            user_id=user_id,
            object_type="rule",
            object_id=str(rule.id),
            detail={"name": name, "conditions": clean, "actions": clean_actions},
        )
        return rule

    def _find_user(self, wanted: int | str) -> int | None:
        with self.desk.session() as s:
            if isinstance(wanted, int):
                return wanted if s.get(User, wanted) is not None else None
            return s.scalar(select(User.id).where(User.username == wanted))

    def set_enabled(
        self, rule_id: int, enabled: bool, *, actor: str, user_id: int | None = None
    ) -> None:
        with self.desk.session() as s, s.begin():
            rule = s.get(ModerationRule, rule_id)
            if rule is None:
                raise RuleError("no such rule")
            rule.enabled = enabled
        self.desk.audit(
            "rule.enable" if enabled else "rule.disable",
            actor=actor,
            user_id=user_id,
            object_type="rule",
            object_id=str(rule_id),
        )

    def all_rules(self) -> list[ModerationRule]:
        with self.desk.session() as s:
            return list(s.scalars(select(ModerationRule).order_by(ModerationRule.id)))

    def _enabled_for(self, page_id: int) -> list[ModerationRule]:
        with self.desk.session() as s:
            return list(
                s.scalars(
                    select(ModerationRule)
                    .where(
                        ModerationRule.enabled.is_(True),
                        (ModerationRule.page_id == page_id) | ModerationRule.page_id.is_(None),
                    )
                    .order_by(ModerationRule.id)
                )
            )

    # -- applying rules -------------------------------------------------------------------

    def on_ingested(self, items: Sequence[Ingested]) -> None:
        """Ingest listener: run the rules on each new comment and each edited one.

        ``text_changed`` is set only when a delivery brings a text the comment did not have, so
        a repeated delivery (or an older text arriving late) runs nothing. The enabled rules are
        read once per batch, and a page without rules costs nothing more: an import of a hundred
        thousand comments must not pay a query per comment for rules that do not exist."""
        todo = [item for item in items if item.is_new or item.text_changed]
        if not todo:
            return
        with self.desk.session() as s:
            enabled = list(
                s.scalars(
                    select(ModerationRule)
                    .where(ModerationRule.enabled.is_(True))
                    .order_by(ModerationRule.id)
                )
            )
        if not enabled:
            return
        for item in todo:
            rules = [r for r in enabled if r.page_id is None or r.page_id == item.page_id]
            if not rules:
                continue
            offensive: float | None
            if item.is_new:
                offensive = item.analysis.offensive if item.analysis is not None else 0.0
                first_time: bool | None = item.first_time_author
            else:
                # An edit: the batch knows the new analysis (if any) but not whether the author
                # is new here, so apply_rules reads what it lacks from the store.
                offensive = item.analysis.offensive if item.analysis is not None else None
                first_time = None
            try:
                self.apply_rules(
                    item.comment_id,
                    offensive=offensive,
                    first_time=first_time,
                    rules=rules,
                )
            except Exception:  # one bad rule or comment must not stop the others
                log.exception("rules failed on comment %s", item.comment_id)

    def apply_rules(
        self,
        comment_id: int,
        *,
        offensive: float | None = None,
        first_time: bool | None = None,
        rules: list[ModerationRule] | None = None,
    ) -> list[int]:
        """Run every enabled rule of the comment's page; returns the audit ids of the actions."""
        with self.desk.session() as s:
            comment = s.get(Comment, comment_id)
            if comment is None:
                return []
            if offensive is None:
                offensive = (
                    s.scalar(
                        select(Analysis.offensive)
                        .where(Analysis.comment_id == comment_id)
                        .order_by(Analysis.id.desc())
                        .limit(1)
                    )
                    or 0.0
                )
            if first_time is None:
                author = s.get(Author, comment.author_id) if comment.author_id else None
                first_time = author is not None and author.comment_count <= 1
        ctx = Context(
            comment=comment, offensive=float(offensive), first_time=bool(first_time), engine=self
        )
        done: list[int] = []
        for rule in rules if rules is not None else self._enabled_for(comment.page_id):
            matched, reasons = evaluate(rule.conditions or {}, ctx)
            if matched:
                done += self._act(rule, comment, reasons)
        return done

    def _act(self, rule: ModerationRule, comment: Comment, reasons: list[str]) -> list[int]:
        actor = f"rule:{rule.id}"
        why = f"rule {rule.name!r}: " + "; ".join(reasons)
        done = self._done_before(actor, comment.id)
        ids: list[int] = []
        for action in rule.actions or []:
            kind = action.get("type")
            if (f"rule.{kind}", action.get("label")) in done:
                continue  # this rule already did it here (before an edit), maybe undone since
            detail: dict[str, Any] = {"rule_id": rule.id, "rule": rule.name, "reasons": reasons}
            try:
                if kind == "label":
                    with self.desk.session() as s, s.begin():
                        exists = s.scalars(
                            select(CommentLabel).where(
                                CommentLabel.comment_id == comment.id,
                                CommentLabel.label == action["label"],
                            )
                        ).first()
                        if exists is not None:
                            continue
                        s.add(
                            CommentLabel(
                                comment_id=comment.id, label=action["label"], rule_id=rule.id
                            )
                        )
                    detail["label"] = action["label"]
                elif kind == "assign":
                    with self.desk.session() as s:
                        if s.get(User, action["user_id"]) is None:
                            log.warning(
                                "rule %s assigns to unknown user %s", rule.id, action["user_id"]
                            )
                            continue
                    case = self.desk.workflow.open_case(comment.id, actor=actor, reason=why)
                    with self.desk.session() as s, s.begin():
                        row = s.get(Case, case.id)
                        assert row is not None
                        detail["case_id"] = row.id
                        detail["previous_owner_id"] = row.owner_id
                        row.owner_id = action["user_id"]
                    detail["owner_id"] = action["user_id"]
                elif kind == "hide":
                    if comment.status != "visible":
                        continue
                    outcome = self.desk.moderation.perform(
                        comment.id, "hide", actor=actor, reason=why
                    )
                    detail["outcome"] = outcome.get("status")
                elif kind == "escalate":
                    case = self.desk.workflow.open_case(comment.id, actor=actor, reason=why)
                    detail["case_id"] = case.id
                    detail["previous_owner_id"] = case.owner_id
                    detail["previous_responsible"] = case.responsible
                    self.desk.workflow.escalate(
                        case.id,
                        actor=actor,
                        topic=action.get("topic"),
                        note=action.get("note") or why,
                    )
                else:
                    continue
            except WorkflowError as exc:
                log.warning(
                    "rule %s could not %s comment %s: %s", rule.id, kind, comment.id, exc.message
                )
                continue
            ids.append(self._audit(f"rule.{kind}", actor, comment.id, why, detail))
        return ids

    def _done_before(self, actor: str, comment_id: int) -> set[tuple[str, str | None]]:
        """What ``actor`` (one rule) already did to the comment, by action and label."""
        with self.desk.session() as s:
            rows = s.execute(
                select(AuditEntry.action, AuditEntry.detail).where(
                    AuditEntry.comment_id == comment_id,
                    AuditEntry.actor == actor,
                    AuditEntry.action.in_([f"rule.{k}" for k in ACTION_TYPES]),
                )
            ).all()
        return {(row.action, (row.detail or {}).get("label")) for row in rows}

    def _audit(
        self, action: str, actor: str, comment_id: int, reason: str, detail: dict[str, Any]
    ) -> int:
        # Written here (not through desk.audit) because the id is the undo handle.
        with self.desk.session() as s, s.begin():
            entry = AuditEntry(
                at=self.desk.clock(),
                actor=actor,
                action=action,
                comment_id=comment_id,
                object_type="comment",
                object_id=str(comment_id),
                reason=reason,
                detail=detail,
            )
            s.add(entry)
            s.flush()
            return int(entry.id)

    # -- undo -----------------------------------------------------------------------------

    def undo(self, audit_id: int, *, actor: str, user_id: int | None = None) -> None:
        """Revert one automatic action and log ``rule.undo``; undoing twice is refused."""
        with self.desk.session() as s:
            entry = s.get(AuditEntry, audit_id)
            if (
                entry is None
                or not entry.action.startswith("rule.")
                or "rule_id" not in (entry.detail or {})
            ):
                raise RuleError("no such automatic action")
            undone = s.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "rule.undo", AuditEntry.object_id == str(audit_id)
                )
            ).first()
        if undone is not None:
            raise RuleError("this action was already undone")
        detail = dict(entry.detail)
        comment_id = entry.comment_id
        assert comment_id is not None
        if entry.action == "rule.label":
            with self.desk.session() as s, s.begin():
                s.execute(
                    delete(CommentLabel).where(
                        CommentLabel.comment_id == comment_id, CommentLabel.label == detail["label"]
                    )
                )
        elif entry.action == "rule.hide":
            self.desk.moderation.perform(
                comment_id,
                "unhide",
                actor=actor,
                user_id=user_id,
                reason=f"undo of audit entry {audit_id}",
            )
        elif entry.action in ("rule.assign", "rule.escalate"):
            with self.desk.session() as s, s.begin():
                case = s.get(Case, detail["case_id"])
                if case is not None:
                    case.owner_id = detail.get("previous_owner_id")
                    if entry.action == "rule.escalate":
                        case.responsible = detail.get("previous_responsible")
        else:
            raise RuleError("this action cannot be undone")
        self.desk.audit(
            "rule.undo",
            actor=actor,
            user_id=user_id,
            comment_id=comment_id,
            object_type="audit",
            object_id=str(audit_id),
            detail={"undid": entry.action, "rule_id": detail["rule_id"]},
        )

    def automatic_actions(
        self, comment_id: int | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Recent automatic actions with whether each was undone (for the rules page)."""
        with self.desk.session() as s:
            query = (
                select(AuditEntry)
                .where(AuditEntry.action.in_([f"rule.{k}" for k in ACTION_TYPES]))
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
            if comment_id is not None:
                query = query.where(AuditEntry.comment_id == comment_id)
            entries = list(s.scalars(query))
            undone = {
                e.object_id
                for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "rule.undo"))
            }
        return [
            {
                "id": e.id,
                "at": e.at,
                "action": e.action,
                "comment_id": e.comment_id,
                "reason": e.reason,
                "rule_id": (e.detail or {}).get("rule_id"),
                "undone": str(e.id) in undone,
            }
            for e in entries
        ]
