"""Competitors: who they are, per page, and the comments that push them.

A page lists its competitors in ``Page.config["competitors"]``: names, handles, web domains and
product names. A comment is flagged when it links to a competitor's domain, or names a competitor
(or one of its products or handles) while attacking us or telling people to go elsewhere; a plain
mention is noted with a lower weight. A thread with such a comment is "competitor-friendly", and the
author card counts how often an author turns up on such threads. Every flag carries its reason in
words, because the person on duty decides, not the score.

Reasons are :class:`~crisisdesk.reasons.Reason` values, said in the reader's language by
the web interface.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from crisisdesk.models import Comment, Page
from crisisdesk.reasons import Reason
from crisisdesk.signals.coordination import extract_urls

if TYPE_CHECKING:
    from crisisdesk.desk import Desk


# Every reason a competitor flag can give, by code; the Italian is in web/locales/authors.json.
REASONS = {
    "competitor.link": "links to {competitor} ({domain})",
    "competitor.push_attack": "names {name} and sends people there while attacking us",
    "competitor.attack": "names {name} while attacking us",
    "competitor.better": "names {name} as the better choice",
    "competitor.mention": "mentions {name}",
}


def _reason(code: str, **params: Any) -> Reason:
    return Reason(code, REASONS[code], **params)


# Kinds and sentiment that mean the comment is against us.
HOSTILE_KINDS = ("complaint", "rager", "troll", "misguided")
# Phrases that send people elsewhere, in the languages the desk serves first.
PUSH_WORDS = (
    "switch to", "go to", "buy from", "try", "better", "instead", "cheaper", "use",
    "prova", "provate", "meglio", "passa a", "passate a", "andate da", "comprate da", "invece",
    "conviene", "molto meglio",
)  # fmt: skip


@dataclass
class Competitor:
    name: str
    handles: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "handles": self.handles,
            "domains": self.domains,
            "products": self.products,
        }

    def terms(self) -> list[str]:
        return [t for t in [self.name, *self.handles, *self.products] if t.strip()]


@dataclass
class Flag:
    """Why a comment looks like it serves a competitor."""

    kind: str  # competitor_link | pushes_competitor | mentions_competitor
    competitor: str
    reason: Reason
    weight: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "competitor": self.competitor,
            "reason": self.reason,
            "weight": self.weight,
        }


def fold(text: str) -> str:
    """Lower case without accents, for matching names as people type them.

    >>> fold("Caffè NERO")
    'caffe nero'
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _clean_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\n]", value)]
    if not isinstance(value, list):
        return []
    return [str(v).strip()[:200] for v in value if str(v).strip()][:50]


def parse_competitors(raw: Any) -> list[Competitor]:
    """Competitors from a page's configuration; malformed entries are skipped."""
    out: list[Competitor] = []
    if not isinstance(raw, list):
        return out
    for entry in raw[:100]:
        if isinstance(entry, str) and entry.strip():
            out.append(Competitor(name=entry.strip()[:200]))
        elif isinstance(entry, dict) and str(entry.get("name", "")).strip():
            out.append(
                Competitor(
                    name=str(entry["name"]).strip()[:200],
                    handles=[h.lstrip("@") for h in _clean_list(entry.get("handles"))],
                    domains=[_domain(d) for d in _clean_list(entry.get("domains"))],
                    products=_clean_list(entry.get("products")),
                )
            )
    return out


def _domain(value: str) -> str:
    value = re.sub(r"(?i)^https?://", "", value.strip()).split("/")[0].lower()
    return value.removeprefix("www.")


def competitors_for(desk: Desk, page_id: int) -> list[Competitor]:
    with desk.session() as s:
        page = s.get(Page, page_id)
        return parse_competitors((page.config or {}).get("competitors")) if page else []


def set_competitors(
    desk: Desk,
    page_id: int,
    competitors: Iterable[Competitor],
    *,
    actor: str,
    user_id: int | None = None,
) -> list[Competitor]:
    """Replace a page's competitor list (audited)."""
    items = [c.as_dict() for c in competitors]
    with desk.session() as s, s.begin():
        page = s.get(Page, page_id)
        if page is None:
            raise ValueError("no such page")
        page.config = {**(page.config or {}), "competitors": items}
    desk.audit(
        "page.competitors",
        actor=actor,
        user_id=user_id,
        object_type="page",
        object_id=str(page_id),
        detail={"competitors": [c["name"] for c in items]},
    )
    return parse_competitors(items)


def _mentions(folded: str, term: str) -> bool:
    needle = fold(term).lstrip("@")
    if not needle:
        return False
    return re.search(r"(?<![\w])@?" + re.escape(needle) + r"(?![\w])", folded) is not None


def flag_comment(
    text: str,
    competitors: Iterable[Competitor],
    *,
    sentiment: str | None = None,
    kind: str | None = None,
) -> list[Flag]:
    """Flags for one comment on our page.

    >>> acme = Competitor("Acme", domains=["acme.example"], products=["RoadRunner"])
    >>> [f.kind for f in flag_comment("Awful service, buy a RoadRunner instead", [acme],
    ...                               sentiment="negative")]
    ['pushes_competitor']
    >>> [f.kind for f in flag_comment("see acme.example/deal", [acme])]
    ['competitor_link']
    """
    folded = fold(text)
    domains = [_domain(u) for u in extract_urls(text)]
    hostile = sentiment == "negative" or kind in HOSTILE_KINDS
    pushing = any(re.search(r"(?<![\w])" + re.escape(w) + r"(?![\w])", folded) for w in PUSH_WORDS)
    flags: list[Flag] = []
    for competitor in competitors:
        linked = [
            d for d in domains for cd in competitor.domains if d == cd or d.endswith("." + cd)
        ]
        # Bare domains ("see acme.example/deal") count too.
        linked += [
            cd
            for cd in competitor.domains
            if re.search(r"(?<![\w-])" + re.escape(cd) + r"(?![\w-])", folded)
        ]
        if linked:
            flags.append(
                Flag(
                    "competitor_link",
                    competitor.name,
                    _reason("competitor.link", competitor=competitor.name, domain=linked[0]),
                    0.35,
                )
            )
        named = [t for t in competitor.terms() if _mentions(folded, t)]
        if named and hostile and pushing:
            flags.append(
                Flag(
                    "pushes_competitor",
                    competitor.name,
                    _reason("competitor.push_attack", name=named[0]),
                    0.45,
                )
            )
        elif named and (hostile or pushing):
            flags.append(
                Flag(
                    "pushes_competitor",
                    competitor.name,
                    _reason("competitor.attack" if hostile else "competitor.better", name=named[0]),
                    0.3,
                )
            )
        elif named and not linked:  # a link already says more than the name in it
            flags.append(
                Flag(
                    "mentions_competitor",
                    competitor.name,
                    _reason("competitor.mention", name=named[0]),
                    0.1,
                )
            )
    return flags


def comment_flags(desk: Desk, comment_id: int) -> list[Flag]:
    with desk.session() as s:
        comment = s.get(Comment, comment_id)
    if comment is None:
        return []
    return flag_comment(
        comment.text,
        competitors_for(desk, comment.page_id),
        sentiment=comment.sentiment,
        kind=comment.kind,
    )


def friendly_threads(desk: Desk, page_id: int, limit: int = 5000) -> dict[str, list[Reason]]:
    """Threads (posts, or root comments without a post) on ``page_id`` where some comment pushes
    or links a competitor: thread key -> reasons."""
    competitors = competitors_for(desk, page_id)
    if not competitors:
        return {}
    out: dict[str, list[Reason]] = {}
    with desk.session() as s:
        rows = s.execute(
            select(
                Comment.id,
                Comment.text,
                Comment.sentiment,
                Comment.kind,
                Comment.post_id,
                Comment.parent_id,
            )
            .where(Comment.page_id == page_id)
            .order_by(Comment.created_at.desc())
            .limit(limit)
        ).all()
    for row in rows:
        flags = [
            f
            for f in flag_comment(row.text, competitors, sentiment=row.sentiment, kind=row.kind)
            if f.kind != "mentions_competitor"
        ]
        if flags:
            out.setdefault(thread_key(row.post_id, row.parent_id, row.id), []).extend(
                f.reason for f in flags
            )
    return out


def thread_key(post_id: int | None, parent_id: int | None, comment_id: int) -> str:
    if post_id is not None:
        return f"post:{post_id}"
    return f"comment:{parent_id or comment_id}"


def competitor_from_line(line: str) -> Competitor | None:
    """One competitor written as people write it: the name first, then handles, web domains and
    product names in any order, separated by ``;`` or ``,``. ``@name`` is a handle; a word with
    a dot and no spaces is a domain; anything else is a product.

    >>> competitor_from_line("Panificio Rivale; @rivale, rivale.it; Colomba Rivale").as_dict()
    {'name': 'Panificio Rivale', 'handles': ['rivale'], 'domains': ['rivale.it'], \
'products': ['Colomba Rivale']}
    """
    parts = [p.strip() for p in re.split(r"[;,]", line) if p.strip()]
    if not parts:
        return None
    competitor = Competitor(name=parts[0][:200])
    for part in parts[1:]:
        if part.startswith("@"):
            competitor.handles.append(part.lstrip("@")[:200])
        elif "." in part and " " not in part:
            competitor.domains.append(_domain(part))
        else:
            competitor.products.append(part[:200])
    return competitor


def competitor_to_line(competitor: Competitor) -> str:
    """The inverse of :func:`competitor_from_line`."""
    return "; ".join(
        [
            competitor.name,
            *("@" + h for h in competitor.handles),
            *competitor.domains,
            *competitor.products,
        ]
    )
