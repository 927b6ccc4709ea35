"""The one message shape every channel renders."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Notification:
    """Something the team must know now.

    ``episode_key`` identifies what the message is about (a flame episode and level, an
    escalated case): the dispatcher sends each key once.

    >>> n = Notification("Flame: Forno", "42 comments in 30 minutes", "flame", None, "page:1:x")
    >>> n.payload()["text"].startswith("*Flame: Forno*")
    True
    """

    title: str
    text: str
    level: str
    url: str | None
    episode_key: str
    kind: str = "alert"
    fields: dict[str, str] = field(default_factory=dict)

    def plain(self) -> str:
        """Title, text and link as plain text (e-mail bodies, logs)."""
        return f"{self.title}\n\n{self.text}" + (f"\n\n{self.url}" if self.url else "")

    def payload(self) -> dict[str, Any]:
        """The webhook body: ``text`` for Slack and Teams incoming webhooks (both render it),
        plus the structured fields (the bare text is ``message``) for anything that parses.

        Titles and texts quote what others wrote (page names, post texts, comments), so in
        ``text`` their ``<``, ``>`` and ``&`` are escaped as Slack asks: otherwise a comment
        saying ``<!channel>`` would ping the whole channel, or ``<https://x|y>`` make a link.

        >>> Notification("Flame", "post <!channel> & co", "flame", None, "k").payload()["text"]
        '*Flame*\\npost &lt;!channel&gt; &amp; co'
        """
        text = f"*{_slack_escape(self.title)}*\n{_slack_escape(self.text)}"
        if self.url:
            text += f"\n<{_slack_escape(self.url)}>"
        return {**asdict(self), "text": text, "message": self.text}


def _slack_escape(text: str) -> str:
    # The three characters Slack's message formatting reserves; nothing else is special there.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
