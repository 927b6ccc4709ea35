"""Reading flame alerts back from the store, as plain dictionaries for the CLI, the web and JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crisisdesk.models import Alert, Page


def alert_dicts(desk: Any, *, page_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest alerts first, each with its page name and its evidence."""
    query = (
        select(Alert, Page.name)
        .join(Page, Page.id == Alert.page_id)
        .order_by(Alert.at.desc(), Alert.id.desc())
        .limit(max(1, limit))
    )
    if page_id is not None:
        query = query.where(Alert.page_id == page_id)
    with desk.session() as s:
        rows = s.execute(query).all()
    out = []
    for alert, page_name in rows:
        evidence = dict(alert.evidence or {})
        out.append(
            {
                "id": alert.id,
                "page_id": alert.page_id,
                "page_name": page_name,
                "post_id": alert.post_id,
                "level": alert.level,
                "episode": alert.episode,
                "at": alert.at.isoformat(),
                "created_at": alert.created_at.isoformat() if alert.created_at else None,
                "reasons": list(evidence.get("reasons", [])),
                "evidence": evidence,
            }
        )
    return out
