"""Vulgar words: the offence step lifts a comment that uses one to an offence of at least
:data:`~crisisdesk.analysis.lexicon.PROFANITY_FLOOR`.

The words are :data:`~crisisdesk.analysis.lexicon.PROFANITY`; finding them is a concept of its
own, apart from the kind rules, which look the same words up as insults or swearing.
"""

from __future__ import annotations

from collections.abc import Sequence

from crisisdesk.analysis.lexicon import PROFANITY


def listed(words: Sequence[str]) -> list[str]:
    """The listed vulgar words of a comment (``rules.words``), once each, in order.

    >>> listed(["andate", "a", "fanculo", "voi", "merda", "fanculo"])
    ['fanculo', 'merda']
    """
    if PROFANITY.isdisjoint(words):  # most comments: one pass in C, no set built
        return []
    return list(dict.fromkeys(w for w in words if w in PROFANITY))
