"""Vulgar words, also when they are disguised.

A comment with a vulgar word (:data:`~crisisdesk.analysis.lexicon.PROFANITY`) is offensive at
:data:`~crisisdesk.analysis.lexicon.PROFANITY_FLOOR` at least. Writers who expect a filter
disguise the word, and a list of plain words misses every disguise. Six kinds of disguise are
common enough to look for, each by a rule a person can check by eye:

- **clipped forms**: "stfu", "fck", "vaffa" (:data:`~crisisdesk.analysis.lexicon.PROFANITY_SHORT`).
- **elongations**: "fuuuuck", "cazzooo", "bitchhh": one letter of a listed word written three to
  twelve times. ``rules.words`` keeps elongations as written (the model's ``features.normalise``
  cuts them, the word lists do not), so the plain list never matched them.
- **look-alike digits**: "sh1t", "m3rda", "str0nzo": 0, 1, 3, 4, 5, 7 for o, i, e, a, s, t, with
  two letters of the word kept at least.
- **masked letters**: "f*ck", "c***o", "c@zzo", "merd@", "sh!t", "$hit". The token reads as a
  listed word of the same length whose letters agree wherever the token shows one: a mask
  (``* # @ $ . !``) stands for any letter, a digit only for the letter it looks like. The first
  letter must show ("5*****" is a rating). When the masks are one run between a kept start and a
  kept end, three letters kept in all, the run may stand for any number of letters ("vaff***lo").
- **spelled out**: single letters between dots or spaces: "f.u.c.k", "f u c k", "m e r d a".
- **run together in a hashtag**: "#fuckoff", "#merdadiservizio", "#JuveMerda". A listed word
  that opens a tag counts, unless the tag opens with an ordinary word that holds it ("#cazzola",
  "#prickly", "#puttanesca": :data:`_ORDINARY_OPENINGS`); further into a tag, only a listed word
  the tag's capitals mark as a word of its own ("#GrilloHaRottoIlCazzo"): "#scunthorpe",
  "#emmerdale" and "#disputa" hold one by chance.

Every comment passes through here and hardly any is disguised, so the common case must cost
next to nothing. The first three kinds are whole words: the spellings they produce are listed
once, at import (some 9,700 of them, under a megabyte), and looked up like the plain words, in
one pass over the comment's words; so are the listed words with an apostrophe ("fuck's",
"shit'll", "l'enculé"), which the tokeniser keeps whole. Masks and spelling out split a word,
and leave a sign: a consonant standing alone ("f*ck" leaves "f" and "ck"), or a mask right after
a letter. Only a comment with such a sign (a few in a hundred) is read again, and only around
the sign.

Not attempted: a masked first letter ("*uck"), words run together outside a hashtag ("fuckyou"),
a clipped form opening a hashtag ("#cazzullo", "#fukushima" open with "cazz" and "fuk"),
letters from other scripts that look Latin, a word spelled out inside a longer run of single
letters ("a f u c k"), elongations of two letters or beyond twelve ("caaaazziii"). Caught on
purpose although a name could be masked the same way: a token that shows only its first letter
("f***", "s***"), except right after a title ("Mr P***", "Sig.ra B****"), where it is a name
kept private. Words inside e-mail addresses, links, bare domains ("shit.com") and mentions are
not the writer's own.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from crisisdesk.analysis.lexicon import PROFANITY, PROFANITY_SHORT


class Vulgar(NamedTuple):
    """A disguised vulgar word: as the comment writes it, lower-cased, and the listed word it
    stands for. ``start`` and ``end`` are its offsets in ``text.lower()``. ``inside`` is where
    the listed word starts in ``written`` when other words run into it in a hashtag ("fuckoff"
    of "#fuckoff" holds "fuck" at 0), and -1 when ``written`` stands for the word alone."""

    written: str
    word: str
    start: int
    end: int
    inside: int = -1


# --- tables built once ----------------------------------------------------------------------------

#: Every plain spelling a disguise may read as, with the listed word it stands for.
_READINGS: dict[str, str] = {w: w for w in PROFANITY} | PROFANITY_SHORT
#: Digits that stand for the letter they look like, and back.
_DIGIT_FOR = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "t": "7"}
_LEET = {d: c for c, d in _DIGIT_FOR.items()} | {"@": "a", "$": "s", "!": "i"}
_LEET_TABLE = str.maketrans(_LEET)
#: The longest elongation listed: a letter written twelve times.
_LONGEST_RUN = 12
#: ``rules.words`` keeps an apostrophe inside a word, so "fuck's sake", "shit'll" and French
#: "l'enculé" were one word each, and none listed: the English clitics after a listed word, and
#: the elided article before one that opens with a vowel, are spellings of it. Italian needs none
#: ("va' a fanculo", "'sti cazzi" split before the vulgar word).
_CLITICS = ("s", "ll", "re", "ve", "d")
_ELIDED = ("l", "d")


def _spellings() -> dict[str, str]:
    """The whole-word disguises of every reading: clipped, elongated, with look-alike digits;
    and the listed words with an apostrophe ("fuck's")."""
    out = dict(PROFANITY_SHORT)
    for plain, word in _READINGS.items():
        for run in re.finditer(r"(.)\1*", plain):
            for n in range(max(3, len(run[0]) + 1), _LONGEST_RUN + 1):
                out.setdefault(plain[: run.start()] + run[1] * n + plain[run.end() :], word)
        places = [i for i, c in enumerate(plain) if c in _DIGIT_FOR]
        for k in range(1, len(places) + 1):
            for chosen in itertools.combinations(places, k):
                leet = "".join(_DIGIT_FOR[c] if i in chosen else c for i, c in enumerate(plain))
                if len(plain) - k >= 2:  # "5h17" is no word any more
                    out.setdefault(leet, word)
    for plain in PROFANITY:
        for mark in "'’":
            for clitic in _CLITICS:
                out.setdefault(f"{plain}{mark}{clitic}", plain)
            if plain[0] in "aeiouéè":
                for article in _ELIDED:
                    out.setdefault(f"{article}{mark}{plain}", plain)
    return out


#: Disguised whole words, each with the listed word it stands for.
_SPELLINGS = _spellings()
#: Listed words by (length, first letter): the candidates of a masked token. The clipped forms
#: are left out: a masked token of three letters ("f**") says too little.
_BY_SHAPE: dict[tuple[int, str], list[str]] = defaultdict(list)
#: Listed words by first letter: the candidates of a token whose masks hide a number of letters.
_BY_FIRST: dict[str, list[str]] = defaultdict(list)
#: Listed words by their first four letters (every listed word has four at least), the longest
#: first: the candidates of a hashtag that opens with one ("#fuckoff", "#shittydeal").
_BY_OPENING: dict[str, list[str]] = defaultdict(list)
for _w in sorted(PROFANITY):
    _BY_SHAPE[len(_w), _w[0]].append(_w)
    _BY_FIRST[_w[0]].append(_w)
for _w in sorted(PROFANITY, key=len, reverse=True):
    _BY_OPENING[_w[:4]].append(_w)
#: Ordinary words that open with a listed one: a hashtag that opens with one of them is not read
#: as the listed word run together with others. A trowel and a punch ("cazzola", "cazzotto"),
#: Neapolitan cunning ("cazzimma"), prickles and pricking, the mushroom as often misspelled
#: ("shitake"), "putative", the pasta sauce, the Trojans, dungarees ("salopette"), "bastardise".
_ORDINARY_OPENINGS = (
    "cazzol",
    "cazzott",
    "cazzimm",
    "pricke",
    "pricki",
    "prickl",
    "shitak",
    "putativ",
    "puttanesc",
    "troian",
    "salopett",
    "bastardis",
    "bastardiz",
)

#: Characters that stand for any letter in a masked word.
_MASKS = frozenset("*#@$.!")

#: Consonants, which are no word on their own in the desk's languages: a mask leaves one standing
#: ("f*ck" -> "f", "ck"), and two of them may spell a word out ("f u c k"). Vowels, "y" and "u"
#: ("u" for "you") are words; every listed word has two consonants at least.
_LONE_LETTERS = frozenset("bcdfghjklmnpqrstvwxzñ")
#: The words that call for a closer look: one lookup each, with the comment's words.
_TELLING_WORDS = frozenset(_SPELLINGS) | _LONE_LETTERS

# --- signs in the text ----------------------------------------------------------------------------

#: A mask right after a letter ("f*ck", "c@zzo", "merd@"), or "$" before one ("$hit"); the "#"
#: and "@" of a hashtag or a mention have a space before them. One pattern per character, led by
#: it, and run only when the comment holds that character: the regex engine finds a literal
#: character several times faster than a class of them.
_STAR = re.compile(r"\*(?<=[^\W\d_]\*)")
_HASH = re.compile(r"#(?<=[^\W\d_]#)")
_DOLLAR = re.compile(r"\$(?:(?<=[^\W\d_]\$)|(?=[^\W\d_]))")
_AT = re.compile(r"@(?<=[^\W\d_]@)")
#: A dot or "!" between letters ("c.zzo", "sh!t", "f.u.c.k"), looked for only beside a consonant
#: standing alone, which such a mask leaves ("c", "zzo"): sentences end in them everywhere else.
_DOT = re.compile(r"\.(?<=[^\W\d_]\.)(?=[^\W\d_])")
_BANG = re.compile(r"!(?<=[^\W\d_]!)(?=[^\W\d_])")
#: Links, e-mail addresses and mentions: their letters, dots and "@" are no disguise, and a
#: listed word in them names a place or a person ("info@merda-secca.it", "@fuck_jerry"): nobody
#: swears there. Blanked, not removed, so that offsets stay those of the comment. Hashtags are
#: the writer's own words ("#bullshit"): they count.
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
#: A bare domain, as comments write a site without "www." ("shit.com", "merda-secca.it",
#: "fuck.example.co.uk/x"): labels of letters, digits and hyphens (63 at most, RFC 1035) with a
#: dot after each, then a common top-level domain, which no letter, hyphen or apostrophe
#: follows. A dot between two ordinary words, a sentence run into the next, is no domain: few
#: words are top-level domains, and the list keeps to common ones that are not words of the
#: desk's languages ("io", "me", "us", "de", "es": "che merda.Io e voi?"), but for "it", which
#: counts in lower case only: the case tells "what a shit.It never works" from "fuck.it" (the
#: kinds read a lower-cased comment, where "shit.it" is a domain). Each label is tried from one
#: start only, after no word character, dot, "@" or hyphen.
_DOMAIN = re.compile(
    r"(?<![\w.@\-])(?:[^\W_][\w\-]{0,62}\.)+"
    r"(?:(?i:com|net|org|info|biz|eu|co|uk|tv|ly|fr|ch|app|xyz)|it)"
    r"(?![\w\-'’])(?:/\S*)?"
)
#: An address's local part is 64 characters at most (RFC 5321): unbounded, a long run of word
#: characters was scanned again from each of its characters for an "@" after it.
_HANDLE = re.compile(r"[\w.+\-]{1,64}@[\w\-]+\.[\w.\-]+|(?<![\w@])@\w+(?:\.\w+)*")
_SPACE = re.compile(r"\s")
#: The words of ``rules.words``, with their offsets.
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
#: Single letters between dots or spaces: "f.u.c.k", "f u c k", "m. e. r. d. a."
_SPELLED = re.compile(r"(?<![\w.@#])[^\W\d_](?:(?:\. ?| )[^\W\d_](?!\w))+")
#: A token with masks: letters, digits and masks, with a dot or "!" only between them. Mentions,
#: hashtags and numbers are tokens too, which :func:`_reading` turns down by their first character.
_TOKEN = re.compile(r"(?<![\w*#@$.!])(?:[^\W_]|[*#@$])+(?:[.!](?:[^\W_]|[*#@$])+)*")
#: Masks that form one run between a kept start and a kept end: "vaff***lo".
_ONE_RUN = re.compile(r"([^\W_]+)[*#@$.!]{2,}([^\W_]+)")
#: A title, and the space after it, just before a masked word: "Mr P***", "la Sig.ra B****".
#: Pages mask the names of people they quote after a title; nobody swears after one.
_TITLE = re.compile(
    r"(?<![\w.])(?:mrs?|ms|miss|dr|sig(?:\.ra|\.na)?|signora?|dott(?:\.ssa)?)\.?\s+\Z"
)
#: A hashtag's first word: "#" after no word character, "#" or "&" ("C#", "##", "&#39;"), and
#: the letters and digits after it ("#fuck_united" is two words, read as such already).
_TAG = re.compile(r"(?<![\w#&])#([^\W_]+)")


def _any_of(words: Sequence[str]) -> str:
    """An expression for any of ``words`` (none empty, none the start of another), shaped as a
    tree of their letters: the scan tries one branch per next letter, not every word."""
    heads: dict[str, list[str]] = defaultdict(list)
    for word in words:
        heads[word[0]].append(word[1:])
    alts = [re.escape(h) + (_any_of(t) if t != [""] else "") for h, t in sorted(heads.items())]
    return alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"


#: Any listed word, anywhere: the words that hold another ("motherfucker", "bullshit") are
#: found through it. A tag reads as a listed word only when it holds one, and most comments
#: with a tag ("#UnitedAirlines", a sixth of tweets) hold none: this one scan tells so, where
#: reading the tags needs the comment's handles blanked and each tag's capitals walked.
_LISTED_ANYWHERE = re.compile(
    _any_of(sorted(w for w in PROFANITY if not any(v != w and v in w for v in PROFANITY)))
)


def listed(words: Sequence[str], text: str | None = None) -> list[str]:
    """The listed vulgar words of a comment (``rules.words``), once each, in order; with the
    comment's ``text``, those written only inside e-mail addresses, mentions and bare domains
    are left out (``rules.words`` drops the links that open with "http" or "www." already).

    >>> listed(["andate", "a", "fanculo", "voi", "merda", "fanculo"])
    ['fanculo', 'merda']
    >>> text = "Grazie @merda_secca_band, che concerto! Scrivete a cazzo.club@example.it, merda"
    >>> from crisisdesk.analysis.rules import words
    >>> listed(words(text), text)
    ['merda']
    >>> text = "Che merda, il negozio è su shit.com e fanculo.shop.it"
    >>> listed(words(text), text)
    ['merda']
    """
    if PROFANITY.isdisjoint(words):  # most comments: one pass in C, no set built
        return []
    found = list(dict.fromkeys(w for w in words if w in PROFANITY))
    # a vulgar comment with "@" or a domain: rare, so look again
    if text is not None and ("@" in text or ("." in text and _DOMAIN.search(text))):
        said = set(_WORD.findall(_without_handles(text.lower(), text)))
        found = [w for w in found if w in said]
    return found


def disguised(text: str, words: Sequence[str]) -> list[Vulgar]:
    """The disguised vulgar words of a comment, in order; ``words`` is ``rules.words(text)``.

    >>> from crisisdesk.analysis.rules import words
    >>> text = "F**k off, str0nzi. Vaff***lo! Cazzooo"
    >>> [(v.written, v.word) for v in disguised(text, words(text))]
    [('f**k', 'fuck'), ('str0nzi', 'stronzi'), ('vaff***lo', 'vaffanculo'), ('cazzooo', 'cazzo')]
    >>> text = "Rated 5*****, $$$ but worth it: F.lli Rossi s.p.a., @cazzola, a b c"
    >>> disguised(text, words(text))
    []
    >>> text = "#fuckoff #JuveMerda #cazzola #scunthorpe"
    >>> [(v.written, v.word) for v in disguised(text, words(text))]
    [('fuckoff', 'fuck'), ('juvemerda', 'merda')]
    """
    lone, whole = 0, False
    if not _TELLING_WORDS.isdisjoint(words):
        lone = len(_LONE_LETTERS.intersection(words))
        whole = not _SPELLINGS.keys().isdisjoint(words)
    masked = _masked(text, lone > 0)
    tagged = "#" in text and _TAG.search(text) is not None
    if not (whole or masked or lone >= 2 or tagged):
        return []
    low = text.lower()
    if not (whole or masked or lone >= 2) and _LISTED_ANYWHERE.search(low) is None:
        # only tags to read, and none can hold a listed word: blanking handles keeps the
        # letters of a tag, and a tag's capitals split it where its lower-cased letters are
        return []
    low = _without_handles(low, text)
    found: list[Vulgar] = []
    if lone >= 2:
        for m in _SPELLED.finditer(low):
            word = _READINGS.get(m[0].replace(".", "").replace(" ", ""))
            if word:
                found.append(Vulgar(m[0], word, m.start(), m.end()))
    if whole:
        found += [
            Vulgar(m[0], _SPELLINGS[m[0]], m.start(), m.end())
            for m in _WORD.finditer(low)
            if m[0] in _SPELLINGS
        ]
    taken = _Taken(found)  # "f.u.c.k" is read as spelled out
    if tagged:  # a tag's words are no token with masks (those open with "#"): nothing to take
        found += _in_tags(low, text)
    if masked:
        for start, end in _stretches(low, lone > 0):
            for m in _TOKEN.finditer(low, start, end):
                word = _reading(m[0])
                if word and m.start() not in taken and not after_title(low, m.start()):
                    found.append(Vulgar(m[0], word, m.start(), m.end()))
    return sorted(found, key=lambda v: v.start)


def profanity(text: str, words: Sequence[str]) -> list[str]:
    """The vulgar words of a comment as it writes them, once each: the listed words, then the
    disguised ones; ``words`` is ``rules.words(text)``.

    >>> from crisisdesk.analysis.rules import words
    >>> text = "Andate a fanculo, voi e la vostra torta di m3rda. Che c@zzo, m e r d a!"
    >>> profanity(text, words(text))
    ['fanculo', 'm3rda', 'c@zzo', 'm e r d a']
    """
    return listed(words, text) + list(dict.fromkeys(v.written for v in disguised(text, words)))


def plainly(low: str, found: Sequence[Vulgar]) -> str:
    """``low``, a lower-cased comment, with its disguised words (``found``) written plainly.

    >>> from crisisdesk.analysis.rules import words
    >>> text = "che c@zzo dici, f u c k off"
    >>> plainly(text, disguised(text, words(text)))
    'che cazzo dici, fuck off'

    A word run together with others in a hashtag is written apart from them:

    >>> text = "#fuckoff #JuveMerda"
    >>> plainly(text.lower(), disguised(text, words(text)))
    '#fuck off #juve merda'
    """
    parts, at = [], 0
    for v in found:
        if v.start >= at:
            plain = v.word
            if v.inside >= 0:
                rest = v.written[v.inside + len(v.word) :]
                plain = " ".join(p for p in (v.written[: v.inside], v.word, rest) if p)
            parts += [low[at : v.start], plain]
            at = v.end
    parts.append(low[at:])
    return "".join(parts)


def after_title(low: str, at: int) -> bool:
    """Does a title ("Mr", "Mrs", "Ms", "Dr", "Sig.", "Sig.ra", "Dott.") end just before offset
    ``at`` of a lower-cased comment? A masked word there is a name kept private, not swearing.

    >>> after_title("ho parlato con la sig.ra m*****", 25), after_title("che c***o", 4)
    (True, False)
    """
    return _TITLE.search(low, max(0, at - 16), at) is not None


class _Taken:
    """The stretches of a comment read already, asked about offset by offset: by bisection, so
    that a comment of many disguised words, each masked again beside ("fuuuck f*ck ..."), is
    not read once per pair of them."""

    def __init__(self, found: Sequence[Vulgar]) -> None:
        spans = sorted((v.start, v.end) for v in found)
        self._starts = [s for s, _ in spans]
        self._reach = list(itertools.accumulate((e for _, e in spans), max))

    def __contains__(self, at: int) -> bool:
        i = bisect.bisect_right(self._starts, at) - 1
        return i >= 0 and self._reach[i] > at


def _blank(match: re.Match[str]) -> str:
    return " " * len(match[0])


def _without_handles(low: str, text: str | None = None) -> str:
    """A lower-cased comment with its links, e-mail addresses, mentions and bare domains blanked.
    A bare domain is found in the comment as written (``text``), whose case tells a top-level
    domain from a sentence run into the next ("merda.Io"); without it, or when lower-casing
    changed the comment's length (a few letters outside ASCII), in ``low``."""
    if "://" in low or "www." in low:
        low = _URL.sub(_blank, low)
    if "@" in low:
        low = _HANDLE.sub(_blank, low)
    if "." in low:
        cased = text if text is not None and len(text) == len(low) else low
        parts, at = [], 0  # joined once: one slice of the comment per domain
        for m in _DOMAIN.finditer(cased):
            parts += [low[at : m.start()], " " * (m.end() - m.start())]
            at = m.end()
        if parts:
            low = "".join([*parts, low[at:]])
    return low


def _in_tags(low: str, text: str) -> list[Vulgar]:
    """The listed words run together with others in the hashtags of ``low``, a lower-cased
    comment with its links and handles blanked: one per tag, as :data:`_TAG` and
    :data:`_ORDINARY_OPENINGS` tell. ``text`` is the comment as written, whose capitals mark the
    words of a tag ("#JuveMerda"), when lower-casing kept its length."""
    cased = text if len(text) == len(low) else low
    found = []
    for m in _TAG.finditer(low):
        tag = m[1]
        if tag in PROFANITY or tag in _SPELLINGS:  # a word on its own: read as one already
            continue
        inside = 0
        word = next((w for w in _BY_OPENING.get(tag[:4], ()) if tag.startswith(w)), None)
        if word is not None and tag.startswith(_ORDINARY_OPENINGS):
            word = None
        if word is None:
            word, inside = _capitalised(cased[m.start(1) : m.end(1)])
        if word is not None:
            found.append(Vulgar(tag, word, m.start(1), m.end(1), inside))
    return found


def _capitalised(tag: str) -> tuple[str | None, int]:
    """The first listed word that a tag's capitals mark as a word of its own
    ("#GrilloHaRottoIlCazzo", "#CrazyBitch"), with its offset in the tag; (None, -1) if none.
    A word starts at a capital after a letter that is not one, and at a digit after a letter or a
    letter after a digit: a tag in one case marks no word. Only the plain listed words, which
    :func:`plainly` can write apart by their length: a clipped form ("#WtfUnited") is let go."""
    if tag.islower() or tag.isupper() or tag.isdigit():
        return None, -1
    start = 0
    for i in range(1, len(tag) + 1):
        if i == len(tag) or (
            (tag[i].isupper() and not tag[i - 1].isupper())
            or tag[i].isdigit() != tag[i - 1].isdigit()
        ):
            part = tag[start:i].lower()
            if part in PROFANITY:
                return part, start
            start = i
    return None, -1


def _masked(text: str, lone: bool) -> bool:
    """Does a comment have a mask right after a letter? "#", dots and "!" count only if ``lone``
    (a consonant stands alone among its words, as in "f#ck", "c.zzo", "sh!t"): hashtags, sentence
    ends and exclamations put them in many comments."""
    t = text
    return (
        ("*" in t and _STAR.search(t) is not None)
        or ("$" in t and _DOLLAR.search(t) is not None)
        or ("@" in t and _AT.search(t) is not None)
        or (lone and "#" in t and _HASH.search(t) is not None)
        or (lone and "." in t and _DOT.search(t) is not None)
        or (lone and "!" in t and _BANG.search(t) is not None)
    )


def _stretches(low: str, lone: bool) -> Iterator[tuple[int, int]]:
    """The stretches of a lower-cased comment between two spaces that hold a mask, once each."""
    seen = set()
    for pattern in (_STAR, _DOLLAR, _AT, _HASH, _DOT, _BANG) if lone else (_STAR, _DOLLAR, _AT):
        for mask in pattern.finditer(low):
            at = mask.start()
            start = max(low.rfind(" ", 0, at), low.rfind("\n", 0, at), low.rfind("\t", 0, at)) + 1
            if start not in seen:
                seen.add(start)
                space = _SPACE.search(low, at)
                yield start, space.start() if space else len(low)


def _reading(token: str) -> str | None:
    """The listed word a lower-cased token with masks stands for, if any."""
    first = token[0]
    if not (first.isalpha() or first == "$"):  # a mention, a hashtag, a number or a rating
        return None
    plain = token.translate(_LEET_TABLE)
    if plain.isalpha():  # "$hit", "c@zzo", "sh!t"
        word = _READINGS.get(plain) or _SPELLINGS.get(plain)
        if word:
            return word
    if not first.isalpha():  # a masked word keeps its first letter
        return None
    return _unmasked(token)


def _unmasked(token: str) -> str | None:
    """The listed word a masked token stands for: same length first, then one run of masks."""
    for word in _BY_SHAPE.get((len(token), token[0]), ()):
        if all(
            t == w or t in _MASKS or _LEET.get(t) == w for t, w in zip(token, word, strict=True)
        ):
            return word
    run = _ONE_RUN.fullmatch(token)
    if run is None:
        return None
    start, end = run[1].translate(_LEET_TABLE), run[2].translate(_LEET_TABLE)
    if len(start) + len(end) < 3 or not (start + end).isalpha():
        return None
    for word in _BY_FIRST.get(start[0], ()):
        if len(word) > len(start) + len(end) and word.startswith(start) and word.endswith(end):
            return word
    return None
