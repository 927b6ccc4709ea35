"""Links to a comment or a post on its platform (permalinks), checked before they are stored.

A link ends up in an ``href`` on the desk's pages, and most of them come from outside: a file
anyone can hand over, a Mastodon status relayed from a server nobody here controls. Escaping keeps
a link from breaking out of its attribute, but not from being ``javascript:`` or ``data:`` once
clicked, so only plain web addresses are kept and anything else is dropped at ingest (the comment
itself is kept). The same check runs again where a link is rendered, so a row written by other
means is held to the same rule.

Bluesky gives no web address at all, only the ``at://`` URI of a post; :func:`bluesky_web_link`
builds the address its web app shows that post at.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_LINK_CHARS = 2000
WEB_SCHEMES = frozenset({"http", "https"})
# Characters a URL must percent-encode (RFC 3986). A platform never sends them raw; a link that
# holds them was made by hand, and browsers read a backslash as a slash ("https://a.b\\@c").
NOT_IN_URLS = frozenset('"<>\\^`{|}')


def web_link(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) address safe to put in a link, else ``None``.

    >>> web_link("https://www.facebook.com/100/posts/1?comment_id=2")
    'https://www.facebook.com/100/posts/1?comment_id=2'
    >>> web_link("  http://shop.example/p/1 ")
    'http://shop.example/p/1'
    >>> [web_link(v) for v in ("javascript:alert(1)", "data:text/html,x", "//evil.example/")]
    [None, None, None]
    >>> [web_link(v) for v in ("JaVaScRiPt:alert(1)", " java\\tscript:x", "https://a b", None)]
    [None, None, None, None]
    >>> [web_link(v) for v in ("https://www.facebook.com@evil.example/", 'https://a.b/"><b>')]
    [None, None]
    """
    if not isinstance(value, str):
        return None
    link = value.strip()
    if not link or len(link) > MAX_LINK_CHARS:
        return None
    # Browsers ignore tabs and newlines inside a URL ("java\tscript:"), and a space or a
    # control character has no place in a permalink: refuse rather than guess.
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch in NOT_IN_URLS for ch in link):
        return None
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not host:
        return None
    if parts.username is not None or parts.password is not None:
        # "https://www.facebook.com@evil.example/" reads as Facebook and opens evil.example.
        return None
    return link


def bluesky_web_link(uri: Any) -> str | None:
    """The bsky.app address of the post at the ``at://`` URI ``uri``; ``None`` for anything that
    is not a post record.

    >>> bluesky_web_link("at://did:plc:abc123/app.bsky.feed.post/3kq2xyz")
    'https://bsky.app/profile/did:plc:abc123/post/3kq2xyz'
    >>> bluesky_web_link("at://did:plc:abc123/app.bsky.feed.like/3kq2xyz") is None
    True
    """
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post":
        return None
    # The DID rather than the handle: a handle can change hands, the DID stays the account's.
    authority, _collection, rkey = parts
    if not authority or not rkey or any(c in authority + rkey for c in "?#@\\"):
        return None
    return web_link(f"https://bsky.app/profile/{authority}/post/{rkey}")
