"""What the criticism is about: the words that recur in a page's complaints, and which are rising.

A cause is recorded when a person closes a case; topics need nobody. They are the content words,
and pairs of content words ("ingredienti scaduti", "refund delay"), that the most critical comments
of a period share, counted once per comment, beside their count in the period before. A topic that
many comments name now, and few named before, is what to look into first.

Counting words is deliberately plain: every topic can be checked by reading the comments that name
it, and the example ids lead there. Stop words of the languages the detector knows are left out, and
so are the page's own name and its handle, which every comment mentions.

>>> now = [(1, "Colomba arrivata in ritardo"), (2, "Ancora ritardo nella consegna della colomba"),
...        (3, "Consegna in ritardo, colomba fredda")]
>>> [(t.term, t.count, t.before) for t in topics(now, ["La colomba era buona"], limit=2)]
[('colomba', 3, 1), ('ritardo', 3, 0)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from crisisdesk.analysis import lexicon, rules

#: Function words and empty verbs beyond the detector's short lists: a topic is a thing or a deed.
EXTRA_STOPWORDS = frozenset(
    """
    alla alle allo agli dal dalla dalle dai dagli nella nelle nello negli nei sul sulla sulle sui
    col coi tra fra questo quello quella quelli quelle questi queste suo sua suoi sue loro nostro
    nostra vostro vostra mio mia miei mie tuo tua ogni tutto tutta tutte poi già solo ora oggi
    ieri qui dove chi cui quindi però anzi oppure invece allora fatto fare fate fa essere stato
    stata stati sono siete era erano sarà avete hanno aveva avere può possono deve devono voglio
    vuole vorrei detto dire dice dite visto vedere volta volte cosa cose niente nulla nessuno
    della delle degli dello sempre ancora mai più meno molto tanto troppo proprio davvero
    the and for with from this that these those their there here then than them they what which
    who whom whose your yours our ours its his her hers him she he you we are was were been being
    have has had having does did doing done get got getting make made can could would should will
    shall may might must not don't didn't doesn't isn't wasn't aren't won't can't just only also
    still again even ever never always really very much many more most some any every all about
    into onto over under after before since until while because why how when where now today
    yesterday one two three time times thing things anything something nothing someone anyone
    altra altro altri altre don doesn didn isn wasn aren weren won haven hasn wouldn couldn
    uno due tre quattro cinque sei sette otto nove dieci four five six seven eight nine ten
    giorno giorni ora ore minuti settimana settimane mese mesi anno anni day days hour hours
    minutes week weeks month months year years
    """.split()
)
#: What follows the apostrophe in English contractions ("don't", "customer's"): the word is
#: before it. Elsewhere the word is after it ("dell'olio", "l'ho", "c'est").
_ENGLISH_CLITICS = frozenset({"t", "s", "re", "ve", "ll", "d", "m"})
STOPWORDS = frozenset().union(*lexicon.STOPWORDS.values(), EXTRA_STOPWORDS)

#: Examples kept per topic: enough to check it, few enough to read.
EXAMPLES = 3


@dataclass(frozen=True)
class Topic:
    """A word or pair of words and how many critical comments named it, now and before."""

    term: str
    count: int
    before: int
    examples: list[int] = field(default_factory=list)

    @property
    def rising(self) -> bool:
        """Named by at least 3 comments now and by at least twice as many as before."""
        return self.count >= 3 and self.count >= 2 * max(self.before, 1)


def terms(text: str, exclude: frozenset[str] = frozenset()) -> set[str]:
    """The content words of a comment and the pairs of neighbouring ones.

    >>> sorted(terms("Il rimborso non è mai arrivato!"))
    ['arrivato', 'rimborso', 'rimborso arrivato']
    >>> sorted(terms("L'ho trovata nell'impasto, don't eat it"))
    ['eat', 'impasto', 'impasto eat', 'trovata', 'trovata impasto']
    """
    kept = []
    for word in rules.words(text):
        word = word.replace("’", "'")
        if "'" in word:
            before, _, after = word.partition("'")
            word = before if after in _ENGLISH_CLITICS else after
        if len(word) >= 3 and not word.isdigit() and word not in STOPWORDS and word not in exclude:
            kept.append(word)
    return {*kept, *(f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False) if a != b)}


def topics(
    now: Sequence[tuple[int, str]],
    before: Iterable[str],
    limit: int = 12,
    min_count: int = 2,
    exclude: Iterable[str] = (),
) -> list[Topic]:
    """The ``limit`` terms named by most of the ``now`` comments (``(id, text)``, newest first),
    with their count among the ``before`` texts; words of ``exclude`` (the page's names) are left
    out, and a word is dropped when a pair containing it accounts for most of its mentions."""
    skip = frozenset(w for name in exclude for w in rules.words(name))
    named: dict[str, list[int]] = {}  # term -> the comments naming it, newest first
    for comment_id, text in now:
        for term in terms(text, skip):
            named.setdefault(term, []).append(comment_id)
    ranked = sorted(
        (t for t, ids in named.items() if len(ids) >= min_count),
        key=lambda t: (-len(named[t]), " " in t, t),
    )
    # for each word, the most comments a pair containing it is named by
    best_pair: dict[str, int] = {}
    for term in ranked:
        if " " in term:
            for word in term.split(" "):
                best_pair[word] = max(best_pair.get(word, 0), len(named[term]))
    out: list[tuple[str, list[int]]] = []
    phrases: dict[tuple[int, ...], int] = {}  # the comments of a chosen pair -> its row
    phrase_sets: list[set[int]] = []  # the comments of each chosen pair, to spot fragments
    for term in ranked:
        ids = named[term]
        if " " not in term:
            if len(out) == limit or best_pair.get(term, 0) >= 0.8 * len(ids):
                continue  # "scaduti" adds nothing to "ingredienti scaduti"
            out.append((term, ids))
            continue
        key = tuple(ids)
        if key in phrases:
            # the same comments, one more pair of their words: a copied sentence (a campaign)
            # gives "colomba fatta", "fatta ingredienti", "ingredienti scaduti": one phrase
            row = phrases[key]
            out[row] = (_join(out[row][0], term), out[row][1])
            continue
        if len(out) == limit or _fragment(set(ids), phrase_sets):
            continue
        phrases[key] = len(out)
        phrase_sets.append(set(ids))
        out.append((term, ids))
    wanted = {t for phrase, _ in out for t in _parts(phrase)}
    earlier: dict[str, int] = dict.fromkeys(wanted, 0)
    for text in before:
        for term in terms(text, skip) & wanted:
            earlier[term] += 1
    return [
        Topic(phrase, len(ids), min(earlier[t] for t in _parts(phrase)), ids[:EXAMPLES])
        for phrase, ids in out
    ]


#: A phrase grows from pairs up to this many words.
PHRASE_WORDS = 5


def _fragment(ids: set[int], phrases: list[set[int]]) -> bool:
    """Is a pair more of a chosen phrase's copied sentence: named only by comments that name the
    phrase, and by most of them?"""
    return any(ids <= their and 4 * len(ids) >= 3 * len(their) for their in phrases)


def _join(phrase: str, pair: str) -> str:
    """``phrase`` extended by ``pair`` where they overlap by a word ("a b" + "b c" = "a b c");
    else ``phrase`` unchanged (the pair's comments are already listed under it)."""
    words, (first, second) = phrase.split(" "), pair.split(" ")
    if len(words) >= PHRASE_WORDS or second in words or first in words[:-1]:
        return phrase
    if words[-1] == first:
        return f"{phrase} {second}"
    if words[0] == second:
        return f"{first} {phrase}"
    return phrase


def _parts(phrase: str) -> list[str]:
    """The terms a phrase was built from: its pairs of neighbouring words, or the one word."""
    words = phrase.split(" ")
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)] or words
