"""Reading flame alerts back from the store, as plain dictionaries for the CLI, the web and JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crisisdesk.models import Alert, Author, Comment, Page, Post

# The alert figures a person reads; the rest are the detector's internal scores, shown apart as
# technical detail because they repeat the shares above in a form nobody can act on.
TECHNICAL_FIGURES = ("volume_score", "acceleration", "coordination", "heat")


def alert_dicts(desk: Any, *, page_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest alerts first, each with its page name and its evidence."""
    query = (
        select(Alert, Page.name, Page.platform, Post.platform_id, Post.message, Post.permalink)
        .join(Page, Page.id == Alert.page_id)
        .outerjoin(Post, Post.id == Alert.post_id)
        .order_by(Alert.at.desc(), Alert.id.desc())
        .limit(max(1, limit))
    )
    if page_id is not None:
        query = query.where(Alert.page_id == page_id)
    with desk.session() as s:
        rows = s.execute(query).all()
        author_ids = _loudest_author_ids(s, [(a.page_id, a.evidence or {}) for a, *_ in rows])
    out = []
    for alert, page_name, platform, post_platform_id, post_message, post_permalink in rows:
        evidence = dict(alert.evidence or {})
        figures = dict(evidence.get("figures") or {})
        out.append(
            {
                "id": alert.id,
                "page_id": alert.page_id,
                "page_name": page_name,
                "platform": platform,
                "post_id": alert.post_id,
                # How people recognise the post: its text if known, else the platform's id.
                "post": post_label(post_platform_id, post_message),
                "post_permalink": post_permalink,
                "level": alert.level,
                "episode": alert.episode,
                "at": alert.at.isoformat(),
                "created_at": alert.created_at.isoformat() if alert.created_at else None,
                "reasons": list(evidence.get("reasons", [])),
                "evidence": evidence,
                "technical": {k: figures[k] for k in TECHNICAL_FIGURES if k in figures},
                "loudest": [
                    {
                        "name": str(a.get("name") or ""),
                        "comments": a.get("comments"),
                        "author_id": author_ids.get((alert.page_id, str(a.get("name") or ""))),
                    }
                    for a in evidence.get("authors") or []
                ],
                "acknowledged_by": alert.acknowledged_by,
            }
        )
    return out


def _loudest_author_ids(s: Any, alerts: list[tuple[int, dict[str, Any]]]) -> dict[Any, int]:
    """``(page id, name) -> author id`` for the loudest authors an alert's evidence names.

    The flame detector keeps a name (or the platform's author id when the name is unknown), not
    the desk's author row; a name is linked only when exactly one author who wrote on that page
    answers to it, so two people sharing a name are never mixed up.
    """
    wanted: dict[int, set[str]] = {}
    for page_id, evidence in alerts:
        for a in evidence.get("authors") or []:
            if a.get("name"):
                wanted.setdefault(page_id, set()).add(str(a["name"]))
    found: dict[Any, set[int]] = {}
    for page_id, names in wanted.items():
        rows = s.execute(
            select(Author.id, Author.name, Author.platform_id)
            .join(Comment, Comment.author_id == Author.id)
            .where(
                Comment.page_id == page_id,
                (Author.name.in_(names)) | (Author.platform_id.in_(names)),
            )
            .distinct()
        ).all()
        for author_id, name, platform_id in rows:
            # the detector names an author by name, or by platform id when the name is unknown
            key = name if name else platform_id
            if key in names:
                found.setdefault((page_id, key), set()).add(author_id)
    return {key: ids.pop() for key, ids in found.items() if len(ids) == 1}


def post_label(platform_id: str | None, message: str | None, width: int = 60) -> str | None:
    """How people recognise a post: the start of its text, else the platform's id.

    >>> post_label("123_456", "  Our new   menu  "), post_label("123_456", " "), post_label(None, "x")
    ('Our new menu', '123_456', None)
    """
    if platform_id is None:
        return None
    if message and message.strip():
        text = " ".join(message.split())
        return text if len(text) <= width else text[: width - 1] + "…"
    return platform_id


def announced_fields(alert: Alert) -> dict[str, Any]:
    """A stored alert as the flame monitor announces it (see :func:`live_alert`)."""
    return {
        "id": alert.id,
        "page_id": alert.page_id,
        "post_id": alert.post_id,
        "level": alert.level,
        "episode": alert.episode,
        "at": alert.at,
        "evidence": alert.evidence,
    }


def live_alert(desk: Any, alert: dict[str, Any]) -> dict[str, Any]:
    """The live banner's ``alert`` event for an alert (as :func:`announced_fields` gives it).

    The flame monitor publishes it when its own process announces the alert, and the web app
    when it finds one another process announced (:class:`~crisisdesk.notify.live.AlertRelay`):
    one function, so a banner reads the same whichever process raised the flame. ``text`` is
    the English line, which the notifications open with too; the parts are there so that the
    web adapter can say it in each reader's language.
    """
    with desk.session() as s:
        page = s.get(Page, alert["page_id"])
        post = s.get(Post, alert["post_id"]) if alert["post_id"] else None
        page_name = page.name if page is not None else f"page {alert['page_id']}"
        label = None
        if alert["post_id"]:
            # the post as people know it (its text or the platform's id), not the desk's row id
            known = post_label(post.platform_id, post.message) if post is not None else None
            label = known or str(alert["post_id"])
    evidence = alert["evidence"] or {}
    reasons = list(evidence.get("reasons", []))
    text = (
        f"{alert['level'].upper()} on {page_name}"
        + (f" (post {label})" if label else "")
        + (": " + "; ".join(reasons) if reasons else "")
    )
    return {
        "id": alert["id"],
        "page_id": alert["page_id"],
        "post_id": alert["post_id"],
        "level": alert["level"],
        "text": text,
        "url": f"/crisis/{alert['page_id']}",
        "page_name": page_name,
        "post_label": label,
        "reasons": {"en": reasons, "it": evidence.get("reasons_it") or reasons},
    }


def acknowledge(desk: Any, alert_id: int, user_id: int) -> bool:
    """Mark an alert as taken in hand by ``user_id`` (kept in the audit log); False if there
    is no such alert. Acknowledging again keeps the first person."""
    with desk.session() as s, s.begin():
        alert = s.get(Alert, alert_id)
        if alert is None:
            return False
        if alert.acknowledged_by is None:
            alert.acknowledged_by = user_id
    desk.audit(
        "alert.acknowledge",
        actor=f"user:{user_id}",
        user_id=user_id,
        object_type="alert",
        object_id=str(alert_id),
    )
    return True


def crisis_view(desk: Any, monitor: Any, page_id: int) -> dict[str, Any] | None:
    """What the crisis page shows: the chart, the posts driving it, what changed in the hour.

    Times are event times: "now" is the page's latest comment, so a replayed import reads the
    same as a live flame.
    """
    from datetime import timedelta

    from sqlalchemy import case, func

    with desk.session() as s:
        page = s.get(Page, page_id)
        if page is None:
            return None
        now = s.scalar(select(func.max(Comment.created_at)).where(Comment.page_id == page_id))
        view: dict[str, Any] = {
            "page": {"id": page.id, "name": page.name, "platform": page.platform},
            "level": monitor.level_of(page_id),
            "now": now.isoformat() if now else None,
            "posts": [],
            "attention": [],
            "changes": None,
            # The inbox's own filters: this page, most urgent first.
            "inbox_url": f"/?page={page.id}&sort=urgent",
        }
        if now is None:
            view["chart"] = build_chart([], [], [])
            view["alerts"] = alert_dicts(desk, page_id=page_id, limit=20)
            return view
        hour = now - timedelta(hours=1)
        before = now - timedelta(hours=2)
        negative = case((Comment.sentiment == "negative", 1), else_=0)
        rows = s.execute(
            select(
                Comment.post_id,
                func.count(),
                func.sum(negative),
                Post.message,
                Post.platform_id,
                Post.permalink,
            )
            .outerjoin(Post, Post.id == Comment.post_id)
            .where(Comment.page_id == page_id, Comment.created_at > hour)
            .group_by(Comment.post_id, Post.message, Post.platform_id, Post.permalink)
            .order_by(func.count().desc())
            .limit(5)
        ).all()
        view["posts"] = [
            {
                "post_id": post_id,
                "platform_id": platform_id,
                "label": post_label(platform_id, message, width=120),
                "permalink": permalink,
                "comments": int(n),
                "negative": int(neg or 0),
                "level": monitor.level_of(page_id, post_id) if post_id else None,
            }
            for post_id, n, neg, message, platform_id, permalink in rows
        ]
        view["attention"] = _needing_attention(s, page_id, hour)

        def window(start: Any, end: Any) -> dict[str, Any]:
            n, neg = s.execute(
                select(func.count(), func.sum(negative)).where(
                    Comment.page_id == page_id,
                    Comment.created_at > start,
                    Comment.created_at <= end,
                )
            ).one()
            new_authors = s.scalar(
                select(func.count(func.distinct(Comment.author_id)))
                .join(Author, Author.id == Comment.author_id)
                .where(
                    Comment.page_id == page_id,
                    Comment.created_at > start,
                    Comment.created_at <= end,
                    Author.first_seen > start,
                )
            )
            n = int(n or 0)
            return {
                "comments": n,
                "negative_share": (int(neg or 0) / n) if n else 0.0,
                "new_authors": int(new_authors or 0),
            }

        view["changes"] = {"last_hour": window(hour, now), "hour_before": window(before, hour)}
    history = monitor.history(page_id)
    alerts = alert_dicts(desk, page_id=page_id, limit=50)
    view["alerts"] = alerts[:20]
    view["chart"] = build_chart(history["buckets"], history["changes"], alerts)
    levels = [b[3] for b in history["buckets"]]
    view["changes"]["level_hour_ago"] = _level_at(history["buckets"], hour) or (
        levels[0] if levels else "calm"
    )
    return view


ATTENTION_LIMIT = 5


def _needing_attention(s: Any, page_id: int, since: Any) -> list[dict[str, Any]]:
    """The most urgent comments of the window that nobody has handled yet, for the crisis view
    to send people straight to them."""
    rows = s.execute(
        select(Comment, Author.name, Author.platform_id)
        .outerjoin(Author, Author.id == Comment.author_id)
        .where(
            Comment.page_id == page_id,
            Comment.created_at > since,
            Comment.triage != "handled",
            Comment.status != "removed",
        )
        .order_by(Comment.urgency.desc(), Comment.created_at.desc(), Comment.id.desc())
        .limit(ATTENTION_LIMIT)
    ).all()
    return [
        {
            "id": c.id,
            "at": c.created_at.isoformat(),
            "text": " ".join(c.text.split())[:280],
            "author_id": c.author_id,
            "author": name or author_platform_id,
            "sentiment": c.sentiment,
            "kind": c.kind,
            "urgency": c.urgency,
        }
        for c, name, author_platform_id in rows
    ]


def _level_at(buckets: list[list[Any]], at: Any) -> str | None:
    from datetime import datetime

    found = None
    for start, _n, _neg, level in buckets:
        if datetime.fromisoformat(start) <= at:
            found = level
    return found


LEVEL_RANK = {"calm": 0, "watch": 1, "flame": 2, "crisis": 3}


def build_chart(
    buckets: list[list[Any]],
    changes: list[list[Any]],
    alerts: list[dict[str, Any]],
    *,
    width: int = 720,
    height: int = 200,
    bin_buckets: int = 3,
) -> dict[str, Any]:
    """Geometry of the timeline chart, for an SVG drawn by the template with CSS classes only
    (the CSP forbids inline styles): volume bars, a negative-share line, level bands and alert
    markers. Buckets are ``[iso start, count, negatives, level]``, grouped ``bin_buckets`` a bar.

    >>> c = build_chart([["2024-01-01T00:00:00+00:00", 4, 1, "calm"],
    ...                  ["2024-01-01T00:05:00+00:00", 8, 6, "flame"]], [], [], bin_buckets=1)
    >>> [b["level"] for b in c["bands"]], len(c["bars"]), c["max"]
    (['flame'], 2, 8)
    >>> c["negative_lines"]
    ['180.0,132.0 540.0,44.0']
    """
    from datetime import datetime

    bins: list[dict[str, Any]] = []
    for i in range(0, len(buckets), bin_buckets):
        group = buckets[i : i + bin_buckets]
        n = sum(int(b[1]) for b in group)
        neg = sum(int(b[2]) for b in group)
        level = max((b[3] for b in group), key=lambda lv: LEVEL_RANK.get(lv, 0))
        bins.append({"start": group[0][0], "n": n, "neg": neg, "level": level})
    top = max([b["n"] for b in bins] + [1])
    pad = 24
    plot_h = height - pad
    slot = width / max(1, len(bins))
    bars: list[dict[str, Any]] = []
    # One line per run of bins with comments: an empty bin has no share, and joining across it
    # would draw a trend nobody measured.
    segments: list[list[str]] = []
    previous_empty = True
    bands: list[dict[str, Any]] = []
    for i, b in enumerate(bins):
        x = i * slot
        h = plot_h * b["n"] / top
        bars.append(
            {
                "x": round(x + slot * 0.1, 1),
                "y": round(plot_h - h, 1),
                "w": round(slot * 0.8, 1),
                "h": round(h, 1),
                "title": f"{b['start'][:16].replace('T', ' ')}: {b['n']}",
            }
        )
        if b["n"]:
            share = b["neg"] / b["n"]
            if previous_empty:
                segments.append([])
            segments[-1].append(f"{x + slot / 2:.1f},{plot_h - plot_h * share:.1f}")
        previous_empty = not b["n"]
        if b["level"] != "calm":
            if bands and bands[-1]["level"] == b["level"] and bands[-1]["end"] == i:
                bands[-1]["end"] = i + 1
                bands[-1]["w"] = round((i + 1) * slot - bands[-1]["x"], 1)
            else:
                bands.append(
                    {"level": b["level"], "x": round(x, 1), "w": round(slot, 1), "end": i + 1}
                )
    markers = []
    if bins:
        first = datetime.fromisoformat(bins[0]["start"])
        span = len(bins) * bin_buckets * 5 * 60
        for alert in alerts:
            offset = (datetime.fromisoformat(alert["at"]) - first).total_seconds()
            if 0 <= offset <= span:
                markers.append(
                    {
                        "x": round(width * offset / span, 1),
                        "level": alert["level"],
                        "title": f"{alert['level']} {alert['at'][:16].replace('T', ' ')}",
                    }
                )
    labels = []
    if bins:
        step = max(1, len(bins) // 6)
        for i in range(0, len(bins), step):
            labels.append({"x": round(i * slot, 1), "text": bins[i]["start"][11:16]})
    return {
        "width": width,
        "height": height,
        "plot_height": plot_h,
        "bars": bars,
        "negative_lines": [" ".join(points) for points in segments],
        "bands": bands,
        "markers": markers,
        "labels": labels,
        "max": top,
        "changes": changes,
    }
