"""The author card: what the desk can tell about a commenter, and two risk scores with reasons.

A page sees little about a commenter (an id, a name, what they did on our pages), so the card is
built from behaviour in the store: history across our pages, sentiment and kinds over time,
moderation history, when they post, what their name looks like, which links they share, which texts
they share with other authors, and whether they push a competitor. Two scores come out of it,
``fake`` and ``competitor``, each in [0, 1] with the reasons that raised it; the reasons are the
point (the person on duty checks them against the profile), the number only orders the queue.

Evidence combines like independent alarms: ``1 - prod(1 - w)``, so no single weak sign saturates
the score and several together do. A verdict a person records for an author on a page overrides
the behaviour on that page: ``real`` damps both scores, ``fake`` and ``competitor`` raise theirs,
``unsure`` only adds its note.

Reasons are :class:`~crisisdesk.reasons.Reason` values: English sentences for the JSON
and the command line, with a code and parameters so the web interface can say them in Italian.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from crisisdesk.models import AuditEntry, Author, AuthorVerdict, Comment, Page
from crisisdesk.reasons import Reason
from crisisdesk.settings import display_zone
from crisisdesk.signals.competitors import (
    competitors_for,
    flag_comment,
    friendly_threads,
    thread_key,
)
from crisisdesk.signals.coordination import extract_urls, normalise_text, token_set

if TYPE_CHECKING:
    from crisisdesk.desk import Desk

VERDICTS = ("real", "fake", "competitor", "unsure")
MODERATION_ACTIONS = ("moderation.hide", "moderation.delete", "moderation.ban")
MAX_COMMENTS = 500

# Every reason the card can give, by code; the Italian is in web/locales/authors.json.
REASONS = {
    "name.none": "no display name",
    "name.default": "default-like name ({name})",
    "name.digits": "ends in a long run of digits ({digits})",
    "name.random": "random-looking letters ({word})",
    "name.mixed": "letters and digits mixed ({text})",
    "name.symbols": "name made only of symbols",
    "fake.new": "first seen on our pages less than two days ago",
    "fake.name": "name looks like a throwaway account: {patterns}",
    "fake.same_text": "posted the same text as {authors} other author(s)",
    "fake.near_text": "posted near-identical texts to {comments} other comment(s)",
    "fake.coordinated": "part of a coordinated group of {size} accounts ({networks})",
    "fake.bursts": "bursts of activity ({comments} comments in {minutes} minutes)",
    "fake.links": "posts the same links again and again ({domains})",
    "fake.all_negative": "all {comments} comments are negative",
    "fake.repeat_offender": "repeat offender (hidden, removed or banned before)",
    "fake.no_comments": "no comments in the store",
    "competitor.threads": "comments on {threads} thread(s) where a competitor is pushed",
    # ``note`` is ": " and the person's note, or nothing: punctuation every language shares.
    "verdict.real": "checked by a person and marked real{note}",
    "verdict.fake": "checked by a person and marked fake{note}",
    "verdict.competitor": "checked by a person and marked competitor{note}",
    "verdict.unsure": "checked by a person, unsure{note}",
}


def _reason(code: str, **params: Any) -> Reason:
    return Reason(code, REASONS[code], **params)


#: What each coordination network means, in words (the toolkit's names are for specialists).
NETWORK_LABELS = {
    "co_retweet": "shared the same post",
    "co_tweet": "posted identical text",
    "co_similar": "posted near-identical text",
    "co_link": "shared the same links",
    "co_reply": "replied to the same comments",
    "co_timing": "new accounts active at the same moments",
}


def network_label(network: str) -> Reason | str:
    """A coordination network's name in words (unknown names stay as they are)."""
    label = NETWORK_LABELS.get(network)
    return Reason(f"network.{network}", label) if label else network


@dataclass
class Risk:
    score: float
    reasons: list[Reason] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "reasons": self.reasons}


@dataclass
class AuthorCard:
    author_id: int
    platform: str
    platform_id: str
    name: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    comments: int
    pages: list[dict[str, Any]]
    sentiment: dict[str, int]
    kinds: dict[str, int]
    timeline: list[dict[str, Any]]
    moderation: dict[str, Any]
    hours: list[int]  # comments by hour of the day, in ``hours_zone``
    bursts: list[dict[str, Any]]
    name_patterns: list[Reason]
    links: list[str]
    domains: dict[str, int]
    shared_texts: list[dict[str, Any]]
    competitor_flags: list[dict[str, Any]]
    competitor_threads: int
    coordination: dict[str, Any] | None
    verdicts: list[dict[str, Any]]
    fake: Risk
    competitor: Risk
    recent: list[dict[str, Any]] = field(default_factory=list)
    hours_zone: str = "UTC"

    @property
    def busiest_hours(self) -> dict[str, int] | None:
        """The three hours in a row (across midnight too) with the most comments: someone who
        writes only between 2 and 5 at night is worth a second look.

        >>> card = AuthorCard.__new__(AuthorCard)
        >>> card.hours = [1] + [0] * 13 + [2] + [0] * 7 + [4, 3]  # 00:00, 14:00, 22:00, 23:00
        >>> card.busiest_hours
        {'start': 22, 'end': 1, 'comments': 8, 'total': 10}
        """
        total = sum(self.hours)
        if not total:
            return None
        window = [sum(self.hours[(h + i) % 24] for i in range(3)) for h in range(24)]
        start = max(range(24), key=lambda h: (window[h], -h))
        return {"start": start, "end": (start + 3) % 24, "comments": window[start], "total": total}

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["fake"] = self.fake.as_dict()
        out["competitor"] = self.competitor.as_dict()
        for key in ("first_seen", "last_seen"):
            value = out[key]
            out[key] = value.isoformat() if value else None
        return out


# -- names -------------------------------------------------------------------------------------

_DEFAULT_NAMES = re.compile(
    r"^(?:user|utente|account|profile|profilo|fb|facebook user|utente facebook|instagram user|"
    r"guest|anonymous|anonimo|test|new user|nuovo utente)[\W_]*\d*$",
    re.IGNORECASE,
)
_VOWELS = set("aeiouy")


def name_patterns(name: str | None, handle: str | None = None) -> list[Reason]:
    """Signs of a throwaway account in a display name or handle.

    >>> name_patterns("Mario Rossi")
    []
    >>> name_patterns("giulia84736251")
    ['ends in a long run of digits (84736251)']
    >>> name_patterns("User 1234")
    ['default-like name (User 1234)']
    """
    found: list[Reason] = []
    text = (name or "").strip()
    if not text:
        return [_reason("name.none")]
    if _DEFAULT_NAMES.match(text):
        found.append(_reason("name.default", name=text[:40]))
        return found
    digits = re.search(r"(\d{4,})$", text.replace(" ", ""))
    if digits:
        found.append(_reason("name.digits", digits=digits.group(1)[:20]))
    for word in re.findall(r"[A-Za-z]{6,}", text):
        low = word.lower()
        vowels = sum(c in _VOWELS for c in low)
        if vowels / len(low) < 0.2 or re.search(r"[^aeiouy]{5,}", low):
            found.append(_reason("name.random", word=word[:30]))
            break
    mixed = re.search(r"[A-Za-z]+\d+[A-Za-z]+\d*", text)
    if mixed and not digits and len(mixed.group(0)) >= 8:
        found.append(_reason("name.mixed", text=mixed.group(0)[:30]))
    if re.fullmatch(r"[\W_]+", text):
        found.append(_reason("name.symbols"))
    return found


# -- activity ----------------------------------------------------------------------------------


def bursts(
    times: list[datetime], window: timedelta = timedelta(minutes=10), least: int = 3
) -> list[dict[str, Any]]:
    """Runs of at least ``least`` comments with no gap longer than ``window``."""
    out: list[dict[str, Any]] = []
    ordered = sorted(times)
    start = 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] - ordered[i - 1] > window:
            if i - start >= least:
                out.append(
                    {
                        "start": ordered[start].isoformat(),
                        "end": ordered[i - 1].isoformat(),
                        "comments": i - start,
                        "minutes": round((ordered[i - 1] - ordered[start]).total_seconds() / 60, 1),
                    }
                )
            start = i
    return out


def _combine(weights: list[float]) -> float:
    quiet = 1.0
    for w in weights:
        quiet *= 1.0 - max(0.0, min(1.0, w))
    return round(1.0 - quiet, 4)


# -- the card ----------------------------------------------------------------------------------


def _members(desk: Desk, platform: str, accounts: list[str]) -> list[dict[str, Any]]:
    """The cluster's accounts as people read them: name and card, in the cluster's order; an
    account the store does not know (yet) keeps its platform id."""
    with desk.session() as s:
        rows = s.execute(
            select(Author.id, Author.platform_id, Author.name).where(
                Author.platform == platform, Author.platform_id.in_(accounts)
            )
        ).all()
    known = {r.platform_id: r for r in rows}
    return [
        {
            "platform_id": a,
            "name": (known[a].name or a) if a in known else a,
            "author_id": known[a].id if a in known else None,
        }
        for a in accounts
    ]


def _grouped_evidence(
    desk: Desk, platform: str, evidence: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A cluster's evidence as a person reads it: the pairs that shared the same thing on the
    same network become one line naming every account involved (``names``) and the widest gap
    between them (``seconds_apart``); other evidence (bursts of new accounts) stays as it is.

    Five pairs that posted one copied text say one thing, not five; and a line must say who."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for item in evidence:
        if not isinstance(item, dict) or "user_1" not in item:
            out.append(item)
            continue
        key = (str(item.get("network")), normalise_text(str(item.get("shared", ""))))
        line = grouped.get(key)
        if line is None:
            line = grouped[key] = {**item, "accounts": [], "seconds_apart": 0.0}
            out.append(line)
        for account in (item["user_1"], item["user_2"]):
            if account not in line["accounts"]:
                line["accounts"].append(account)
        line["seconds_apart"] = max(line["seconds_apart"], float(item.get("seconds_apart", 0)))
    involved = list(dict.fromkeys(a for line in grouped.values() for a in line["accounts"]))
    names = {m["platform_id"]: m for m in _members(desk, platform, involved)} if involved else {}
    for line in grouped.values():
        line["names"] = [names[a] for a in line["accounts"] if a in names]
    return out


def _zone(desk: Desk) -> ZoneInfo:
    try:
        return display_zone(str(desk.settings.timezone))
    except ValueError:  # the web app refuses to start on a bad zone; elsewhere, fall back
        return ZoneInfo("UTC")


def author_card(
    desk: Desk,
    author_id: int,
    *,
    page_id: int | None = None,
    coordination: Any = None,
) -> AuthorCard | None:
    """Build the card of ``author_id``; ``page_id`` selects whose verdicts apply, and
    ``coordination`` (a :class:`CoordinationMonitor`) adds cluster membership."""
    with desk.session() as s:
        author = s.get(Author, author_id)
        if author is None:
            return None
        comments = list(
            s.scalars(
                select(Comment)
                .where(Comment.author_id == author_id)
                .order_by(Comment.created_at.desc())
                .limit(MAX_COMMENTS)
            )
        )
        total = (
            s.scalar(
                select(func.count()).select_from(Comment).where(Comment.author_id == author_id)
            )
            or 0
        )
        page_names = {p.id: p.name for p in s.scalars(select(Page))}
        comment_ids = [c.id for c in comments]
        audit = (
            list(
                s.scalars(
                    select(AuditEntry)
                    .where(
                        AuditEntry.comment_id.in_(comment_ids),
                        AuditEntry.action.in_(MODERATION_ACTIONS),
                    )
                    .order_by(AuditEntry.at.desc())
                )
            )
            if comment_ids
            else []
        )
        verdict_rows = list(
            s.scalars(
                select(AuthorVerdict)
                .where(AuthorVerdict.author_id == author_id)
                .order_by(AuthorVerdict.created_at.desc(), AuthorVerdict.id.desc())
            )
        )
    now = desk.clock()
    pages = Counter(c.page_id for c in comments)
    sentiment = Counter(c.sentiment or "unknown" for c in comments)
    kinds = Counter(c.kind or "unknown" for c in comments)
    weeks: dict[str, Counter[str]] = {}
    week_kinds: dict[str, Counter[str]] = {}
    for c in comments:
        week = c.created_at.strftime("%G-W%V")
        weeks.setdefault(week, Counter())[c.sentiment or "unknown"] += 1
        week_kinds.setdefault(week, Counter())[c.kind or "unknown"] += 1
    timeline = [
        {"week": w, **dict(counts), "kinds": dict(week_kinds[w])}
        for w, counts in sorted(weeks.items())
    ]
    # hours of the day where the desk is, not UTC: "writes at 3 at night" must mean local night
    zone = _zone(desk)
    hours = [0] * 24
    for c in comments:
        hours[c.created_at.replace(tzinfo=UTC).astimezone(zone).hour] += 1
    hidden = sum(c.status == "hidden" for c in comments)
    removed = sum(c.status == "removed" for c in comments)
    actions = Counter(a.action for a in audit)
    offences = hidden + removed + int(author.banned)
    moderation = {
        "hidden": hidden,
        "removed": removed,
        "banned": author.banned,
        "actions": dict(actions),
        "repeat_offender": offences >= 2 or (author.banned and offences >= 1),
        "log": [
            {"at": a.at.isoformat(), "action": a.action, "actor": a.actor, "reason": a.reason or ""}
            for a in audit[:20]
        ],
    }
    links: list[str] = []
    for c in comments:
        for url in extract_urls(c.text):
            if url not in links:
                links.append(url)
    domains = Counter(u.split("/")[0] for c in comments for u in extract_urls(c.text))
    # The 20 most recent comments: enough to see a copy-paste habit, cheap enough for a panel.
    shared = _shared_texts(desk, author_id, comments[:20])
    found_bursts = bursts([c.created_at for c in comments])
    # From the platform's id only the digit patterns: ids are often generated, names are chosen.
    patterns = name_patterns(author.name) + [
        p
        for p in name_patterns(author.platform_id)
        if p.code in ("name.digits", "name.mixed") and author.platform_id != author.name
    ]

    # Competitors: flags on this author's comments and presence on competitor-friendly threads.
    flags: list[dict[str, Any]] = []
    threads_seen = 0
    for pid in pages:
        competitors = competitors_for(desk, pid)
        if not competitors:
            continue
        friendly = friendly_threads(desk, pid)
        own_threads = set()
        for c in comments:
            if c.page_id != pid:
                continue
            own = flag_comment(c.text, competitors, sentiment=c.sentiment, kind=c.kind)
            for flag in own:
                flags.append({**flag.as_dict(), "comment_id": c.id, "page_id": pid})
            key = thread_key(c.post_id, c.parent_id, c.id)
            # Only threads someone else made competitor-friendly: their own flags count above.
            if key in friendly and not own:
                own_threads.add(key)
        threads_seen += len(own_threads)

    cluster_info: dict[str, Any] | None = None
    if coordination is not None:
        for pid in pages:
            cluster = coordination.accounts(pid).get(author.platform_id)
            if cluster is not None:
                cluster_info = {"page_id": pid, **cluster.as_dict()}
                for item in cluster_info.get("evidence") or []:
                    if isinstance(item, dict) and "network" in item:
                        item["label"] = network_label(str(item["network"]))
                cluster_info["members"] = _members(desk, author.platform, cluster.accounts[:12])
                cluster_info["evidence"] = _grouped_evidence(
                    desk, author.platform, cluster_info.get("evidence") or []
                )
                break

    verdicts = [
        {
            "verdict": v.verdict,
            "note": v.note,
            "page_id": v.page_id,
            "user_id": v.user_id,
            "at": v.created_at.isoformat(),
        }
        for v in verdict_rows
    ]
    fake = _fake_risk(
        author, comments, now, patterns, shared, found_bursts, domains, cluster_info, moderation
    )
    competitor = _competitor_risk(flags, threads_seen)
    _apply_verdict(fake, competitor, verdict_rows, page_id)
    return AuthorCard(
        author_id=author.id,
        platform=author.platform,
        platform_id=author.platform_id,
        name=author.name,
        first_seen=author.first_seen,
        last_seen=author.last_seen,
        comments=total,
        pages=[
            {"page_id": p, "name": page_names.get(p, str(p)), "comments": n}
            for p, n in pages.most_common()
        ],
        sentiment=dict(sentiment),
        kinds=dict(kinds),
        timeline=timeline,
        moderation=moderation,
        hours=hours,
        hours_zone=zone.key,
        bursts=found_bursts,
        name_patterns=patterns,
        links=links[:30],
        domains=dict(domains.most_common(20)),
        shared_texts=shared,
        competitor_flags=flags[:30],
        competitor_threads=threads_seen,
        coordination=cluster_info,
        verdicts=verdicts,
        fake=fake,
        competitor=competitor,
        recent=[
            {
                "id": c.id,
                "at": c.created_at.isoformat(),
                "text": c.text[:300],
                "kind": c.kind,
                "status": c.status,
            }
            for c in comments[:10]
        ],
    )


def _shared_texts(desk: Desk, author_id: int, comments: list[Comment]) -> list[dict[str, Any]]:
    """Texts this author shares with other authors on the same page within a day: identical after
    normalisation, or near-identical (Jaccard >= 0.7 on token sets). Bounded to the page's
    comments around each text (an indexed range), never a scan of the whole store."""
    out: list[dict[str, Any]] = []
    with desk.session() as s:
        for c in comments:
            norm = normalise_text(c.text)
            tokens = token_set(c.text)
            if len(tokens) < 4:
                continue
            near = s.execute(
                select(Comment.id, Comment.text, Comment.author_id, Author.name, Author.platform_id)
                .join(Author, Author.id == Comment.author_id)
                .where(
                    Comment.page_id == c.page_id,
                    Comment.author_id != author_id,
                    Comment.created_at.between(
                        c.created_at - timedelta(days=1), c.created_at + timedelta(days=1)
                    ),
                )
                .order_by(Comment.created_at.desc())
                .limit(500)
            ).all()
            others: dict[int, dict[str, Any]] = {}
            identical = False
            for row in near:
                if row.author_id in others:
                    continue
                if normalise_text(row.text) == norm:
                    identical = True
                    others[row.author_id] = {
                        "author_id": row.author_id,
                        "name": row.name or row.platform_id,
                        "comment_id": row.id,
                        "how": "identical",
                    }
                    continue
                if not 0.5 <= len(row.text) / max(1, len(c.text)) <= 2.0:
                    continue  # lengths this far apart are not treated as near-identical
                theirs = token_set(row.text)
                if theirs and len(tokens & theirs) / len(tokens | theirs) >= 0.7:
                    others[row.author_id] = {
                        "author_id": row.author_id,
                        "name": row.name or row.platform_id,
                        "comment_id": row.id,
                        "how": "near-identical",
                    }
            if others:
                out.append(
                    {
                        "comment_id": c.id,
                        "text": c.text[:300],
                        "identical": identical,
                        "others": list(others.values())[:10],
                        "count": len(others),
                    }
                )
    return out[:20]


def _fake_risk(
    author: Author,
    comments: list[Comment],
    now: datetime,
    patterns: list[Reason],
    shared: list[dict[str, Any]],
    found_bursts: list[dict[str, Any]],
    domains: Counter[str],
    cluster: dict[str, Any] | None,
    moderation: dict[str, Any],
) -> Risk:
    weights: list[float] = []
    reasons: list[Reason] = []

    def add(weight: float, code: str, **params: Any) -> None:
        weights.append(weight)
        reasons.append(_reason(code, **params))

    if (
        author.first_seen is not None
        and now - author.first_seen < timedelta(days=2)
        and len(comments) <= 3
    ):
        add(0.15, "fake.new")
    if patterns:
        add(min(0.35, 0.2 * len(patterns)), "fake.name", patterns=patterns)
    identical = sum(1 for s in shared if s["identical"])
    if identical:
        others = {o["author_id"] for s in shared for o in s["others"]}
        add(min(0.5, 0.3 + 0.05 * len(others)), "fake.same_text", authors=len(others))
    elif shared:
        add(0.2, "fake.near_text", comments=len(shared))
    if cluster is not None:
        size = len(cluster.get("accounts", []))
        networks = [network_label(n) for n in sorted(cluster.get("networks", {}))]
        add(min(0.5, 0.15 + 0.07 * size), "fake.coordinated", size=size, networks=networks)
    if found_bursts:
        biggest = max(found_bursts, key=lambda b: b["comments"])
        add(0.1, "fake.bursts", comments=biggest["comments"], minutes=biggest["minutes"])
    repeated = [d for d, n in domains.items() if n >= 2]
    if repeated:
        add(0.15, "fake.links", domains=", ".join(repeated[:3]))
    negative = sum(c.sentiment == "negative" for c in comments)
    if len(comments) >= 3 and negative == len(comments):
        add(0.1, "fake.all_negative", comments=len(comments))
    if moderation["repeat_offender"]:
        add(0.1, "fake.repeat_offender")
    if not comments:
        reasons.append(_reason("fake.no_comments"))
    return Risk(_combine(weights), reasons)


def _competitor_risk(flags: list[dict[str, Any]], threads: int) -> Risk:
    weights: list[float] = []
    reasons: list[Reason] = []
    for flag in flags[:10]:
        weights.append(float(flag["weight"]))
        if flag["reason"] not in reasons:
            reasons.append(flag["reason"])
    if threads:
        weights.append(min(0.3, 0.1 * threads))
        reasons.append(_reason("competitor.threads", threads=threads))
    return Risk(_combine(weights), reasons)


def _apply_verdict(
    fake: Risk, competitor: Risk, verdicts: list[AuthorVerdict], page_id: int | None
) -> None:
    """The newest verdict for this page (or a page-less one) decides."""
    chosen = next((v for v in verdicts if v.page_id == page_id), None)
    if chosen is None:
        chosen = next((v for v in verdicts if v.page_id is None), None)
    if chosen is None:
        return
    note = f": {chosen.note}" if chosen.note else ""
    # A verdict outside VERDICTS (an old row, a hand edit) reads as unsure, as it always did.
    verdict = chosen.verdict if chosen.verdict in VERDICTS else "unsure"
    checked = _reason("verdict." + verdict, note=note)
    if chosen.verdict == "real":
        fake.score = round(fake.score * 0.2, 4)
        competitor.score = round(competitor.score * 0.2, 4)
        fake.reasons.insert(0, checked)
        competitor.reasons.insert(0, checked)
    elif chosen.verdict == "fake":
        fake.score = max(fake.score, 0.95)
        fake.reasons.insert(0, checked)
    elif chosen.verdict == "competitor":
        competitor.score = max(competitor.score, 0.95)
        competitor.reasons.insert(0, checked)
    else:
        fake.reasons.insert(0, checked)


def record_verdict(
    desk: Desk,
    author_id: int,
    verdict: str,
    *,
    note: str = "",
    page_id: int | None = None,
    actor: str,
    user_id: int | None = None,
    comment_id: int | None = None,
) -> AuthorVerdict:
    """Save a person's verdict on an author (for a page) and log it in the audit trail."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    note = (note or "").strip()[:2000]
    with desk.session() as s, s.begin():
        if s.get(Author, author_id) is None:
            raise ValueError("no such author")
        if page_id is not None and s.get(Page, page_id) is None:
            raise ValueError("no such page")
        row = AuthorVerdict(
            author_id=author_id,
            page_id=page_id,
            verdict=verdict,
            note=note,
            user_id=user_id,
            created_at=desk.clock(),
        )
        s.add(row)
        s.flush()
        s.expunge(row)
    desk.audit(
        "author.verdict",
        actor=actor,
        user_id=user_id,
        comment_id=comment_id,
        object_type="author",
        object_id=str(author_id),
        reason=note or None,
        detail={"verdict": verdict, "page_id": page_id},
    )
    return row


def fake_score(
    desk: Desk, author_id: int, page_id: int | None = None, coordination: Any = None
) -> Risk:
    """The ``fake`` risk alone (rules read it)."""
    card = author_card(desk, author_id, page_id=page_id, coordination=coordination)
    return card.fake if card else Risk(0.0, [])


def latest_verdict(desk: Desk, author_id: int, page_id: int | None = None) -> str | None:
    with desk.session() as s:
        rows = list(
            s.scalars(
                select(AuthorVerdict)
                .where(AuthorVerdict.author_id == author_id)
                .order_by(AuthorVerdict.created_at.desc(), AuthorVerdict.id.desc())
                .limit(50)
            )
        )
    chosen = next((v for v in rows if v.page_id == page_id), None) or next(
        (v for v in rows if v.page_id is None), None
    )
    return chosen.verdict if chosen else None


def is_repeat_offender(desk: Desk, author_id: int) -> bool:
    with desk.session() as s:
        author = s.get(Author, author_id)
        if author is None:
            return False
        offences = (
            s.scalar(
                select(func.count())
                .select_from(Comment)
                .where(Comment.author_id == author_id, Comment.status.in_(("hidden", "removed")))
            )
            or 0
        )
    return offences + int(author.banned) >= 2 or (author.banned and offences >= 1)


def hours_entropy(hours: list[int]) -> float:
    """Spread of activity over the day in bits (0: always the same hour)."""
    total = sum(hours)
    if not total:
        return 0.0
    return -sum((h / total) * math.log2(h / total) for h in hours if h)
