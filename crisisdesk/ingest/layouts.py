"""Known CSV layouts: exports people already have, mapped to the canonical fields.

When a CSV's header matches a layout's signature and the user gave no ``--column`` mapping, the
layout's mapping is used. Each mapping is canonical field -> the export's header; one header may
feed two fields (a screen name is both the author's id and name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    signature: frozenset[str]
    mapping: dict[str, str]
    platform: str


LAYOUTS: list[Layout] = [
    Layout(
        name="twitter-us-airline",
        description="Kaggle's Twitter US Airline Sentiment Tweets.csv (one page per airline)",
        signature=frozenset({"tweet_id", "airline", "text", "tweet_created", "name"}),
        mapping={
            "id": "tweet_id",
            "page": "airline",
            "author_id": "name",
            "author_name": "name",
            "created_at": "tweet_created",
            "text": "text",
        },
        platform="twitter",
    ),
    Layout(
        name="twcs",
        description="Customer Support on Twitter (twcs.csv): tweets and brand replies, threaded",
        signature=frozenset({"tweet_id", "author_id", "inbound", "created_at", "text"}),
        mapping={
            "id": "tweet_id",
            "author_id": "author_id",
            "author_name": "author_id",
            "created_at": "created_at",
            "text": "text",
            "parent_id": "in_response_to_tweet_id",
        },
        platform="twitter",
    ),
]


def match_layout(header: Sequence[str]) -> Layout | None:
    """The known layout whose signature the header contains, if any.

    >>> match_layout(["tweet_id", "airline_sentiment", "airline", "name", "text", "tweet_created"]).name
    'twitter-us-airline'
    >>> match_layout(["id", "created_at", "text"]) is None
    True
    """
    present = set(header)
    for layout in LAYOUTS:
        if layout.signature <= present and all(h in present for h in layout.mapping.values()):
            return layout
    return None
