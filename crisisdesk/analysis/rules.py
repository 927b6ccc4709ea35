"""Explainable rules: questions and the playbook's kinds (spam has its own module, ``spam``).

The trained models say *how* a comment sounds (negative, offensive, ironic); the playbook needs to know
*what* it is (a real customer's complaint, a wrong claim, a rant, a provocation, spam). No public data
set labels those kinds, so they are derived here from the model signals plus small, readable cue lists
in Italian and English (with the commonest cues in es/fr/de/pt). Every rule that fires leaves a
human-readable reason, because the person on the desk must be able to see why a comment was sorted
the way it was, and disagree.

Cue lists match whole words on a lower-cased text whose accents are kept (Italian "è" and "e" differ).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from crisisdesk.analysis import profanity
from crisisdesk.analysis.lexicon import PROFANITY

# --- questions -------------------------------------------------------------------------------------

#: Words that open a question. Only the first word of a sentence counts, so "come sempre" (as always)
#: or "when I arrived" do not make a question; a question mark always does.
INTERROGATIVES = frozenset(
    """
    what why how when where who whom whose which can could is are do does did will would should shall
    may have has any anyone
    cosa che perché perche come quando dove chi quale quali quanto quanta quanti quante posso potete
    possiamo può puo è avete sapete c'è ce qualcuno
    qué que por cómo como cuándo cuando dónde donde quién quien cuál cual cuánto cuanto puedo pueden
    pourquoi comment quand où qui quel quelle quels quelles combien est-ce pouvez puis-je
    warum wie wann wo wer was welche welcher welches kann können gibt weshalb wieso
    porquê quem qual quanto onde posso podem
    """.split()
)
#: Interrogatives that are questions even as a plain first word with no verb-subject inversion.
STRONG_INTERROGATIVES = frozenset(
    """
    why how when where who which what perché perche quando dove chi quale quanto cosa
    pourquoi quand où combien warum wieso weshalb wann wo wer cuándo dónde quién cuál cómo
    porquê onde quem qual
    """.split()
)

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)
#: The same in lower-cased ASCII text, where "[^\W_]" is a-z and 0-9 and "’" cannot be: ranges
#: of characters are tested faster than the categories of "\W".
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
#: A sentence opens after a mark and the blanks that follow it. A newline is a mark itself, so
#: the blanks are any but a newline, and after several newlines the sentence is found from the
#: last one, with the same words. With ``\s*`` each newline of a long run of them scanned the
#: rest of the run again: on a comment of 4,000 blank lines this pattern and the others that
#: open on a sentence (``_PRICE_REQUEST``, ``_EXCLAIMED_CURSE``, ``_STILL_SO``, ``_SUPPOSING``)
#: took from a fifth of a second to nearly a second each.
_SENTENCE_START = re.compile(r"(?:^|[.!?¿¡\n][^\S\n]*)([^\W\d_]+(?:['’\-][^\W\d_]+)?)", re.UNICODE)


def _without_urls(text: str) -> str:
    """``text`` with links replaced by a space.

    Most comments hold no link, and a link needs "://" or "www." (no other character than "w"
    and "W" matches "w" with re.IGNORECASE): their absence, proved by two substring tests, saves
    running the pattern.
    """
    if "://" not in text and "www." not in text.lower():
        return text
    return _URL.sub(" ", text)


def words(text: str) -> list[str]:
    """Lower-cased word tokens, URLs removed.

    >>> words("Perché il treno è in RITARDO? https://x.it")
    ['perché', 'il', 'treno', 'è', 'in', 'ritardo']
    """
    low = _without_urls(text).lower()
    return (_ASCII_WORD if low.isascii() else _WORD).findall(low)


def question_signal(text: str) -> tuple[bool, list[str]]:
    """Is the person asking something? Returns the decision and why.

    >>> question_signal("Quando riaprite il negozio")
    (True, ["starts with 'quando'"])
    >>> question_signal("Do you deliver to Monza as well")
    (True, ["starts with 'do you'"])
    >>> question_signal("Come sempre, ottimo!")
    (False, [])
    """
    bare = _without_urls(text)
    if "?" in bare or "¿" in bare or "？" in bare:
        return True, ["question mark"]
    low = bare.lower()
    # "come"/"comment" are also English words: only their unambiguous openings count
    opening = _HOW_OPENING.match(low)
    if opening:
        return True, [f"starts with '{opening.group(0).strip()}'"]
    info = _INFO_OPENING.match(low)
    if info:
        return True, [f"starts with '{info.group(1)}'"]
    price = _PRICE_REQUEST.search(low)
    if price:
        return True, [f"starts with '{price.group(1)}'"]
    offered = _CLITIC_ASK.search(low)
    if offered and "!" not in bare:
        return True, [f"asks '{offered.group(0)}'"]
    choice = _asks_which(low)
    if choice:
        return True, [f"asks '{choice}'"]
    greeted = _EN_GREETING.match(low)
    if greeted:  # "Hi, are the wristbands transferable": the question opens after the greeting
        low = low[greeted.end() :]
    for match in _SENTENCE_START.finditer(low):
        first = match.group(1)
        asked = _yes_no(low, match)
        if asked:
            return True, [f"starts with '{asked}'"]
        if first in STRONG_INTERROGATIVES:
            rest = bare[match.end() :].split()
            # "Come sempre", "Quando sono arrivato": a wh-word followed by a comma-free clause of a
            # few words is a question; followed by a typical subordinate opener it is not.
            if (
                first in _ALSO_CONJUNCTIONS
                and rest
                and rest[0].lower().strip(",") in _NOT_QUESTION_AFTER
            ):
                continue
            if "!" in bare and first not in ("why", "perché", "perche", "warum", "pourquoi"):
                continue
            return True, [f"starts with '{first}'"]
    return False, []


def _yes_no(low: str, match: re.Match[str]) -> str | None:
    """The opening of a yes/no question at the sentence start ``match`` of ``low``, if any."""
    first = match.group(1)
    if first in _AUXILIARIES:
        # "Do you deliver to Monza", "Is there parking": English asks by putting the verb
        # before its subject, question mark or not
        subject = low[match.end() :].split(maxsplit=1)
        said = subject[0].strip(",") if subject else ""
        if said in _SUBJECTS or (said in _NOUN_DETERMINERS and first not in _ALSO_ORDERS):
            return f"{first} {said}"
    if first not in _IT_YES_NO_FIRST:  # most sentences: one set look-up, no Italian parse
        return None
    return _italian_yes_no(low[match.start(1) :])


#: Italian offers a choice to ask which holds, question mark or not: "la birra si trova anche in
#: bottiglia o solo alla spina", "si può entrare con lo zaino o bisogna lasciarlo".
_ALTERNATIVE_ASK = re.compile(
    r"\b(?:anche|si (?:può|puo'?|possono))\b[^.!?\n]{1,60}?\bo (?:solo|soltanto|bisogna|"
    r"serve|si deve|devo|dobbiamo)\b"
)


def _asks_which(low: str) -> str | None:
    """The choice a lower-cased text offers to ask which holds, if any, without an exclamation."""
    # "o" opens after any mark, not only a space: "in bottiglia,o solo alla spina"
    if "o " not in low or "!" in low or ("anche" not in low and "si p" not in low):
        return None
    match = _ALTERNATIVE_ASK.search(low)
    return match.group(0) if match else None


def asks_yes_or_no(text: str) -> bool:
    """Does a sentence of ``text`` open as a yes/no question ("Do you...", "Consegnate anche...")?

    >>> asks_yes_or_no("Fate anche torte senza glutine"), asks_yes_or_no("Quando aprite")
    (True, False)
    """
    low = _without_urls(text).lower()
    return any(_yes_no(low, match) for match in _SENTENCE_START.finditer(low))


#: A greeting before an English question: "Hi, are the wristbands transferable".
_EN_GREETING = re.compile(
    r"\s*(?:hi|hello|hey|good (?:morning|afternoon|evening))(?: there| all| everyone| guys| team)?"
    r"\s*[,!.]\s*"
)

_HOW_OPENING = re.compile(
    r"\s*(come (si|faccio|posso|devo|mai|funziona|fare)|comment (faire|puis|est-ce)|"
    r"cómo (puedo|se|hago)|como (posso|faço|se))\b"
)


@dataclass(frozen=True)
class _Rare:
    """A pattern few comments match, and words at least one of which every match contains.

    Most comments hold none of the words, and a few substring tests cost far less than a scan
    with the pattern: keep ``hints`` in step with the pattern when either changes.
    """

    pattern: re.Pattern[str]
    hints: tuple[str, ...]

    def _may_match(self, text: str) -> bool:
        # a loop rather than any() over a generator: this runs a hundred thousand times per
        # ten thousand comments, and the generator's frame costs more than the tests
        for hint in self.hints:
            if hint in text:
                return True
        return False

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self._may_match(text) else iter(())

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self._may_match(text) else None

    def match(self, text: str) -> re.Match[str] | None:
        return self.pattern.match(text) if self._may_match(text) else None

    def sub(self, repl: str, text: str) -> str:
        return self.pattern.sub(repl, text) if self._may_match(text) else text


#: "Info prezzi abbonamento", "Informazioni orari": a request for information, asked by naming it.
_INFO_OPENING = _Rare(
    re.compile(
        r"\s*(?:(?:buongiorno|buonasera|salve|ciao|hi|hello)[\s,!]+)?(?:richiesta (?:di )?)?"
        r"(info|informazioni)\b"
        r"(?![\s,:]*(?:utile|utili\w*|useful|interessant\w*|prezios\w*|grazie|thanks)\b)"
    ),
    ("info",),
)

#: "Price of the oak table pls", "Prezzo del divano in foto?": a price asked for by naming it,
#: a noun phrase with no verb. A verb or a verdict in the sentence makes it a statement ("Price
#: of the table is a joke", "prezzi troppo alti").
_PRICE_REQUEST = _Rare(
    re.compile(
        # no newline among the blanks after the mark: see _SENTENCE_START
        r"(?:^|[.!?\n][^\S\n]*)(?:(?:hi|hello|ciao|salve|buongiorno|buonasera)[\s,!]+)?"
        r"(price|prices|cost|prezzo|prezzi|costo)\s+"
        r"(?:of|for|del|della|dello|dei|degli|delle|di|per)\b"
        r"(?![^.!?\n]*\b(?:is|are|was|were|has|have|too|è|e'|sono|era|erano|troppo|alti|alto|"
        r"high|ridiculous|assurdo|assurdi|ridicolo|ridicoli)\b)"
    ),
    ("pric", "prezz", "cost"),
)
#: "Il divano della foto lo fate anche grigio", "the blue one, li avete ancora": the thing asked
#: about named first, then picked up by a pronoun before the verb a customer asks a shop with.
#: "Anche"/"ancora" after it asks whether it is also, or still, on offer.
_CLITIC_ASK = _Rare(
    re.compile(
        r"\b(?:lo|la|li|le|l'|ne)\s?(?:"
        + "|".join(
            sorted(
                (
                    "consegnate spedite fate vendete avete portate fornite noleggiate "
                    "montate tenete trovate"
                ).split()
            )
        )
        + r") (?:anche|ancora)\b"
    ),
    ("anche", "ancora"),
)

#: English verbs that open a yes/no question when the subject follows them ("do you...").
_AUXILIARIES = frozenset(
    "do does did can could will would should is are was were have has may shall".split()
)
#: "u" and "ya" are how "you" is typed on a phone ("do u deliver outside the ring road").
_SUBJECTS = frozenset(
    "you u ya y'all i we it there they he she anyone anybody someone somebody".split()
)
#: "Is the shop open on Sunday", "Are your gyms open": the subject is a noun. Not "this", which
#: also opens exclamations ("Is this the best bakery in town or what").
_NOUN_DETERMINERS = frozenset("the your my our their".split())
#: Auxiliaries that are also orders before a noun: "Do your job", "Have the decency".
_ALSO_ORDERS = frozenset("do have".split())

#: Wh-words that also open statements ("when I arrived", "quando sono arrivato").
_ALSO_CONJUNCTIONS = frozenset("when where what quando dove cosa cuando quand wann wo onde".split())

_NOT_QUESTION_AFTER = frozenset(
    "sempre al il i la le lo un una uno always usual ever i we they i'm sono siamo ho abbiamo a an "
    "bel bella bello bei "
    "usual d'habitude immer siempre sempre".split()
)

#: Italian asks a yes/no question in the word order of a statement ("Consegnate anche a Monza"):
#: without its question mark only the opening can tell. These openings ask whatever follows them
#: ("sapete se...", "si può...", "è possibile..."), except where they open a rhetorical complaint
#: ("è possibile che ogni giorno...").
_IT_ASKING_OPENING = re.compile(
    r"(?:sapete|sai) (?:se|quando|dove|come|perch[eé]|chi|dirmi|darmi|indicarmi)\b"
    r"|(?:mi|ci) (?:sapete|sai|potete|potreste|puoi) (?:dire|indicare|spiegare|aiutare|confermare)\b"
    r"|si (?:possono|può|puo'|puo)(?![\w'])(?! non\b)"
    r"|(?:è|e') possibile\b(?! che\b)"
    r"|(?:vorrei|volevo|vorremmo|volevamo) (?:sapere|chiedere)\b"
    r"|qualcuno sa\b"
    r"|c'è (?:ancora|anche|modo|un modo|la possibilità|possibilità|parcheggio|posto)\b"
    r"(?! (?:gente|chi|qualcuno|persone)\b)"
    r"|ci sono (?:ancora|anche|posti|parcheggi)\b(?! (?:gente|persone)\b)"
)
#: A greeting or an apology before the question ("Buongiorno, consegnate anche a Monza").
_IT_GREETING = re.compile(
    r"(?:(?:buongiorno|buonasera|salve|ciao|scusate|scusi|ragazzi|gentilmente|ma|una domanda|"
    r"info|domanda)[\s,:]+)+"
)
#: Second-person plural verbs of what a customer asks a shop: "Consegnate a Monza", "Fate torte
#: senza glutine", "Avete la colomba", "Accettate i buoni pasto". Addressed to the page at the
#: start of a sentence, with no exclamation, they ask.
_ASKED_VERBS = frozenset(
    """
    consegnate spedite fate vendete accettate effettuate organizzate preparate servite offrite
    portate ritirate prendete fornite riparate installate lavorate aprite chiudete fatturate
    rilasciate emettete cucinate sfornate noleggiate affittate avete
    """.split()
)
#: The first words an Italian yes/no question without its question mark can open with: a
#: greeting (``_IT_GREETING``), the first word of an asking opening (``_IT_ASKING_OPENING``) or an
#: asked verb. Keep in step with those three.
_IT_YES_NO_FIRST = _ASKED_VERBS | frozenset(
    """
    buongiorno buonasera salve ciao scusate scusi ragazzi gentilmente ma una info domanda
    sapete sai mi ci si è e vorrei volevo vorremmo volevamo qualcuno c'è c’è siete
    """.split()
)
#: "Siete" asks only about being open or available ("Siete aperti a Natale"); otherwise it
#: judges the page ("Siete dei ladri", "Siete i migliori").
_OPEN_WORDS = frozenset("aperti aperte chiusi chiuse disponibili operativi raggiungibili".split())
#: Adverbs skipped between the verb and what it asks about ("Avete ancora la colomba").
_IT_ADVERBS = frozenset("anche ancora già pure sempre mai".split())
#: After the verb, these make an order, a verdict or a passive, not a question: "Fate
#: qualcosa", "Avete ragione", "Aprite gli occhi", "Portate dagli immigrati"; and English
#: "Fate is...".
_NOT_ASKED_AFTER = frozenset(
    """
    finta qualcosa silenzio attenzione bene male ragione torto solo proprio gli
    da dal dallo dalla dai dagli dalle
    is was has had will would of and
    """.split()
)
#: Anywhere in the sentence, these make it an order or a verdict: "Aprite questo link presto",
#: "Spedite subito il mio pacco", "Fate (una grande) pena", "Fate ridere".
_ORDER_WORDS = frozenset(
    """
    presto subito immediatamente finalmente prima schifo pena ridere piangere vomitare cagare
    vergogna
    """.split()
)
#: An order with its pronoun attached ("diffondetelo", "fatelo", "vergognatevi") is no question.
_ORDER_WITH_PRONOUN = re.compile(r"\w{2,}[aei]te(?:lo|la|li|le|ne|vi|ci|mi|celo|cela|melo|mela)")
#: Irregular past participles: "Avete rotto", "Avete perso un cliente" tell what the page did.
_IRREGULAR_PARTICIPLES = frozenset(
    """
    fatto fatta fatti fatte detto detta messo messa messi preso presa presi rotto rotta rotti
    perso persa persi visto vista scritto chiuso chiusa aperto aperta speso spesa tolto vinto
    letto risposto rimasto stati stato distrutto distrutta
    """.split()
)
_REGULAR_PARTICIPLE = re.compile(r"\w{2,}(?:at|ut|it)[oaie]")


def _italian_yes_no(sentence: str) -> str | None:
    """The opening that makes a lower-cased Italian sentence a question without its question mark.

    >>> _italian_yes_no("consegnate anche a monza"), _italian_yes_no("siete aperti a natale")
    ('consegnate', 'siete aperti')
    >>> _italian_yes_no("siete dei ladri"), _italian_yes_no("avete rovinato la festa")
    (None, None)
    """
    sentence = sentence.replace("’", "'")
    end = re.search(r"[.!?\n]", sentence)
    if end and sentence[end.start()] == "!":  # "Fate qualcosa!" orders, it does not ask
        return None
    clause = sentence[: end.start()] if end else sentence
    greeting = _IT_GREETING.match(clause)
    if greeting:
        clause = clause[greeting.end() :]
    opening = _IT_ASKING_OPENING.match(clause)
    if opening:
        return opening.group(0).strip()
    toks = words(clause)
    if not toks or len(toks) > 10 or toks[0] not in _ASKED_VERBS | {"siete"}:
        return None
    # insults, anger and a concrete problem say the page is judged, not asked: "Fate schifo",
    # "Consegnate sempre in ritardo"
    if any(
        w in ANGER_WORDS
        or w in INSULT_WORDS
        or w in PROFANITY
        or w in _STRONG_PROBLEMS
        or w in _ORDER_WORDS
        or _ORDER_WITH_PRONOUN.fullmatch(w)
        for w in toks
    ):
        return None
    rest = [w for w in toks[1:] if w not in _IT_ADVERBS]
    if toks[0] == "siete":
        return f"siete {rest[0]}" if rest and rest[0] in _OPEN_WORDS else None
    if rest and (
        rest[0] in _NOT_ASKED_AFTER
        or rest[0] in _IRREGULAR_PARTICIPLES
        or _REGULAR_PARTICIPLE.fullmatch(rest[0])
    ):
        return None
    return toks[0]


_DIGIT = re.compile(r"\d")


# --- cues for the kinds ----------------------------------------------------------------------------

#: What the writer says they saw themselves (see the "witness" claim).
_WITNESSED = r"(?:co|con )i miei occhi|with my (?:own )?(?:two )?eyes"

#: A wrong factual claim or an accusation stated as fact: rumours ("I heard"), appeals to what
#: everybody knows, "it's a scam", "fake news", secret practices, conspiracies.
MISGUIDED_PATTERNS: tuple[tuple[str, str], ...] = tuple(
    (name, pattern)
    for name, pattern in (
        (
            "rumour",
            r"\b(i heard(?! (?:nothing|anything|back|no\b))|i've heard|i have heard|heard that|rumou?r has it|word is|they say|people say|i saw (on|in) (a|the) (group|post|forum)|i read (on|in) (a|the) (group|post|forum))\b",
        ),
        (
            "rumour",
            r"\b(ho sentito(?<!non ho sentito)(?! (?:niente|nulla|nessun\w*|male|dolore|freddo|caldo)\b)|ho letto che|ho saputo|mi hanno detto(?! di\b)|si dice|dicono che|gira voce|ho visto su (un|una|il|la) (gruppo|post|pagina|forum)|ho letto su (un|una|il|la) (gruppo|post|pagina|forum))\b",
        ),
        (
            # a source at second hand: "me l'ha detto uno che ci lavora", "a friend who works
            # there told me", "my cousin works there"
            "rumour",
            r"\b(me l'ha detto|me lo ha detto|me l'hanno detto|uno che (?:ci |li )?lavora|una che (?:ci |li )?lavora|un amico che (?:ci |li )?lavora|un'amica che (?:ci |li )?lavora|mi[oa] cugin[oa] che (?:ci |li )?lavora|a friend (?:who|that) works|someone (?:who|that) works|somebody (?:who|that) works|a guy (?:who|that) works|my (?:\w+'s )?(?:cousin|friend|mate|brother|sister|neighbou?r) (?:who|that )?works (?:there|here|for (?:you|them)|at the)|mi[oa] (?:cugin[oa]|amic[oa]|fratello|sorella) lavora (?:lì|li|da voi|per voi|nel|nella|al|alla)|a (?:former|ex)[- ](?:employee|worker|staff member)|un(?:a|')? ?ex[- ]dipendente)\b",
        ),
        (
            # the news as the source: "it was all over the news", "l'hanno detto al TG"
            "rumour",
            r"\b(all over the news|it was on the (?:local |national |evening )?news|detto (?:al|sul) (?:tg|telegiornale|giornale)|uscit[oa] (?:al|sul) (?:tg|telegiornale|giornale)|(?:è|e') uscit[oa] (?:pure |anche )?(?:un articolo|un servizio)|there was an article|there's an article)\b",
        ),
        (
            # the writer as the witness: "l'ho visto coi miei occhi", "saw it with my own eyes".
            # A weak cue: "I saw it with my own eyes, the driver threw my parcel" is a complaint
            "witness",
            rf"\b({_WITNESSED})\b",
        ),
        (
            # "ma lo sapete che...": the pronoun doubling what follows makes it a revelation put
            # to the readers, not a question to the page ("sapete che ore sono")
            "rumour",
            r"\b(lo sapete che|lo sapevate che)\b",
        ),
        (
            # "look it up", "informatevi": the writer's proof is the reader's own search
            "everyone knows",
            r"\b(look it up(?: yourselves| yourself| people)?(?=\s*(?:[.!,)]|$))|google it(?=\s*(?:[.!,)]|$))|do your (?:own )?research|cercate su google|informatevi)",
        ),
        (
            "everyone knows",
            # "everyone who works there knows it": the witnesses named between
            r"\b(everyone knows|everybody knows|we all know|it's well known|it is well known|"
            r"everyone (?:[\w']+ ){1,4}knows (?:it|this|that)|"
            r"everybody (?:[\w']+ ){1,4}knows (?:it|this|that))\b",
        ),
        (
            "everyone knows",
            r"\b(lo sanno tutti|tutti sanno|sanno tutti|è risaputo|e risaputo|si sa che)\b",
        ),
        (
            "scam claim",
            r"\b(it'?s a scam|is a scam|are a scam|total scam|(?:a|is a|it'?s a) (?:known|well-known|well known|famous|classic) scam|è una truffa|e una truffa|sono una truffa|truffatori|è una presa in giro)\b",
        ),
        ("fake news", r"\b(fake news|bufala|bufale|hoax|notizia falsa)\b"),
        (
            "cover-up",
            r"\b(cover[- ]?up|they hide|you hide|hiding the truth|nascondete|vi nascondete|insabbiat\w*|non ve lo dicono|they don'?t tell you|won'?t tell you|hanno nascost[oaie]|tenut[oaie] nascost[oaie]|tengono nascost[oaie]|di nascosto|in segreto|secretly|behind (?:our|your|everyone's|people's|customers') backs?|without telling (?:anyone|anybody|them|people|customers|everyone)|senza dir(?:lo|celo|e niente) a nessuno)\b",
        ),
        (
            "conspiracy",
            r"\b(conspiracy|complotto|poteri forti|big pharma|chemtrail\w*|5g|microchip|paid by|pagati da|vi pagano|they pay)\b",
        ),
        (
            "secret practice",
            r"\b(you (secretly )?use|you put|you add|made with|made from|usate|mettete|aggiungete|fatt[aoie] con|preparat[aoie] con)\b[^.!?]{0,40}\b(palm oil|olio di palma|chemicals|chimic\w+|additiv\w+|conservant\w+|frozen|surgelat\w+|congelat\w+|expired|scadut\w+|poison|veleno|plastic|plastica|cheap|scarto|scarti)\b",
        ),
        (
            "false claim",
            r"\b(actually|in realtà|in realta)\b[^.!?]{0,50}\b(owned by|di proprietà|belongs to|appartiene)\b",
        ),
        ("false claim", r"\b(owned by|di proprietà di|funded by|finanziat\w+ da)\b"),
        (
            "false claim",
            r"\b(is made in china|made in china|viene dalla cina|fatto in cina|from china)\b",
        ),
        (
            "false claim",
            r"\b(causes? (?:cancer|autism)|fa venire (?:il cancro|i tumori|l'autismo)|fanno venire (?:il cancro|i tumori|l'autismo)|causano (?:il cancro|i tumori|l'autismo)|cancerogen\w+|toxic|tossic\w+)\b",
        ),
        (
            "false claim",
            r"\b(they are closing|you are closing|shutting you down|closing you down|state chiudendo|chiuderete|vi chiudono|vi fanno chiudere|fallit\w+|bankrupt|going bankrupt|(?:sta|stanno|state) per fallire|about to (?:go bust|go under|collapse))\b",
        ),
        (
            # the organisation closed, sold or emptied, told as fact: "is closing for good",
            # "the uni is scrapping the degree", "è stato venduto a una società privata",
            # "hanno già licenziato tutti". Not "the shop is closing at 5".
            "false claim",
            r"\b(is (?:shutting|scrapping|axing)|are (?:shutting|scrapping|axing)|they're (?:shutting|scrapping|axing)|you're (?:shutting|scrapping|axing)|closing (?:for good|down for good)|being (?:let go|laid off)|sta chiudendo|stanno chiudendo|chiude per sempre|"
            r"they[’']?re closing(?! (?:at|early|earlier|late|later)\b)|"
            r"closing(?<!you closing)(?<!you're closing)(?<!you’re closing) (?:in (?:january|february|march|april|may|june|july|august|september|"
            r"october|november|december)|at the end of (?:the|this) (?:year|month|season)|"
            r"(?:next|this) (?:month|year|summer|spring|autumn|winter))|"
            r"(?:chiude|chiuderà|chiudera'|chiudono|chiuderanno) (?:a fine (?:anno|mese|stagione|"
            r"estate)|definitivamente|per sempre|a (?:gennaio|febbraio|marzo|aprile|maggio|giugno|"
            r"luglio|agosto|settembre|ottobre|novembre|dicembre))|è stat[oa] (?:vendut[oa]|comprat[oa]|cedut[oa])|e' stat[oa] (?:vendut[oa]|comprat[oa]|cedut[oa])|sono stati (?:venduti|licenziati)|hanno (?:già )?licenziato)\b",
        ),
        (
            # no licence or insurance: "non è riconosciuta dal ministero", "have no insurance"
            "false claim",
            r"\b(non (?:è|e') riconosciut[oa]|not accredited|non hanno (?:nessuna |alcuna )?(?:assicurazione|autorizzazione|licenza)|non avete (?:nessuna |alcuna )?(?:assicurazione|autorizzazione|licenza)|have no (?:insurance|licence|license)|has no (?:insurance|licence|license))\b",
        ),
        (
            "false claim",
            r"\b(it is proven|it's proven|è dimostrato|è provato|studies show|gli studi dicono)\b",
        ),
        (
            # a warning to the other readers about the organisation: "vi avverto", "guardate
            # che", "be warned". Not "FYI" or "heads up": customers use them to tell the page
            # of a fault ("FYI your app is down"). A weak cue: a warning is a claim only when
            # the writer tells no story of their own ("Be warned, they charged me twice")
            "warning",
            r"\b(vi avverto|vi avviso|guardate che|occhio che|attenzione che|be warned|"
            r"beware of (?:them|this|these|that)|for anyone (?:thinking|considering)|"
            r"per chi (?:sta pensando|pensa) di)\b",
        ),
        (
            # what is going told to the other readers as news: "closed for good", "get your
            # bargains while you can", "sign the petition before it's too late", "sbrigatevi
            # finché c'è". Weak: "we closed our account for good" and "go while you can, the
            # exhibition is wonderful" tell no news of the page
            "closure",
            r"\b(closed (?:down )?for good|chius[oaie] per sempre|"
            r"(?:hanno|ha) chiuso (?:[^\s.!?]+ ){0,3}?per sempre|"
            r"while (?:you|u) (?:still )?can|before it'?s too late|"
            r"finch[eé] (?:c'è|c'e'|ce|esiste|(?:siete|sei) in tempo)|prima che (?:chiuda|"
            r"chiudano|sia troppo tardi)|sign the petition|firmate la petizione)\b",
        ),
        (
            # money trouble told as fact: "the theatre is broke", "the actors weren't even paid",
            # "non pagano i dipendenti". Weak: "I wasn't paid" is the writer's own story
            "money trouble",
            r"\b((?:company|theatre|theater|club|council|town|city|business|shop|store|owners?|"
            r"they|they're) (?:is |are |re )?(?:completely |totally )?(?:broke|skint)|"
            r"(?:è|e'|sono) al verde|(?:weren't|aren't|haven't been|hasn't been|were not|are not) "
            r"(?:even )?(?:being )?paid|non (?:sono|vengono) (?:nemmeno |neanche )?(?:stati )?"
            r"pagati|non (?:paga|pagano) (?:i|gli|le|nemmeno i) (?:dipendenti|stipendi|lavoratori|attori|"
            r"fornitori|artisti))\b",
        ),
        (
            # credentials denied, told as fact: "non è nemmeno autorizzata", "non risultano
            # iscritti", "none of the chefs are qualified". A weak cue: "the technician who
            # came to my flat wasn't qualified" is the writer's own story
            "credentials",
            r"\b(non (?:è|e'|sono) (?:nemmeno |neanche |neppure |mica |davvero )?"
            r"(?:autorizzat|riconosciut|abilitat|certificat|iscritt|qualificat)\w*|"
            r"non risult\w* (?:iscritt|registrat|autorizzat|abilitat)\w*|"
            r"(?:isn't|aren't|is not|are not|they'?re not|they’re not|not even|"
            r"none of (?:the|them|their) (?:[\w'‘’]+ ){0,3}(?:is|are)) "
            r"(?:even |properly |actually |really )?(?:qualified|licensed|certified|accredited|"
            r"registered|authori[sz]ed|proper (?:doctors|optometrists|teachers|instructors|"
            r"accountants|chefs|lawyers|mechanics|engineers|vets|dentists|nurses|school)))\b",
        ),
        (
            # a fact asserted as settled, or the proof sent to the small print: "that's a fact",
            # "ormai è deciso", "c'è una legge nuova", "read the small print". A weak cue
            "settled fact",
            r"\b(that'?s a fact|it'?s a fact|è un dato di fatto|e' un dato di fatto|"
            r"(?:è|e') (?:già |ormai )?deciso|ormai (?:è|e') deciso|it'?s (?:already )?been decided|"
            r"c'è una (?:nuova )?legge|ce una (?:nuova )?legge|there'?s a (?:new )?law|"
            r"it'?s (?:all )?in the (?:small|fine) print|read the (?:small|fine) print|"
            r"(?:è|e') scritto in piccolo|"
            r"do some research|do the research|"
            # an admission said to be on record: "they admitted it in court", "l'hanno ammesso"
            r"(?:they|the company|the council|he|she) (?:even |already )?(?:admitted|confessed) "
            r"(?:it|that|to it)|l'hanno (?:pure |anche )?ammesso|hanno (?:pure |anche )?ammesso che|"
            r"it'?s in the (?:new )?budget|(?:è|e') nel (?:nuovo )?bilancio)\b",
        ),
        (
            # what the product holds or how it is made, named as a scandal: "sprayed with
            # pesticides", "farina di grilli", "made by children in sweatshops", "in nero". A
            # weak cue: "I found insects in my salad" is a complaint
            "scandal claim",
            r"\b(pesticid\w*|ormoni|hormones|antibiotici|antibiotics|microchips?|ogm|gmo|"
            r"carne di cavallo|horse ?meat|farina di (?:grilli|insetti)|insect flour|"
            r"lavoro minorile|child labou?r|sweatshops?|slave labou?r|sfruttano|sfruttate|"
            r"exploit (?:their|your|the) (?:staff|workers|employees)|galline in gabbia|"
            r"caged hens|in nero|evadete|evadono|tax evasion|riciclaggio|money laundering|"
            r"mazzett\w+|tangent[ei]|bribes|kickbacks|vernici? al piombo|lead paint|amianto|"
            r"asbestos|radiazioni|radiation)\b",
        ),
        (
            # a label said to be false: "altro che italiano", "so much for organic", "imported
            # from Romania"
            "false label",
            r"\b(altro che (?:italian|biologic|bio\b|artigian|natural|km ?0|fatt[oaie] in casa|"
            r"fatt[oaie] a mano|fresc|genuin|made in italy|allevament|nostran|local)|"
            r"so much for (?:['\"‘“]\s*)?(?:organic|local|fresh|homemade|handmade|natural|"
            r"italian|free[- ]range)|(?:isn't|aren't|is not|are not|non (?:è|e'|sono)) "
            r"(?:even |really |nemmeno |neanche |mica |davvero )?(?:italian[io]?|organic|"
            r"biologic[oaie]|local|free[- ]range)\b|importat[oaie] dall?|imported from)",
        ),
        (
            # public money said to be taken from one use for another: "money taken from the
            # schools", "soldi tolti agli asili"
            "money claim",
            r"\b((?:soldi|fondi) (?:tolti|presi|rubati|sottratti|spostati) (?:a|ai|alle|agli|alla|"
            r"dalle|dai|dagli|dalla)\b|money (?:taken|stolen|diverted) from|"
            r"funds (?:taken|stolen|diverted) from)",
        ),
        (
            # watched without knowing: "your cars track your location", "le app vi spiano"
            "data claim",
            r"\b(track (?:your|our|my|people's|customers') (?:location|movements|phone)|vi spiano|ci spiano|li spiano|spy on (?:you|us|customers|people)|spying on (?:you|us|customers|people))\b",
        ),
        (
            "data claim",
            r"\b(sell|selling|sells|sold|vende|vendete|vendono|rivende|rivendete|rivendono)\b[^.!?]{0,20}\b(our|my|your|i nostri|i miei|i vostri)(?: \w+)? (data|dati)\b",
        ),
        (
            "motive claim",
            r"\b(just|only|solo|soltanto) (to|per) (pay|fund|fill|line|make money|pagare|finanziare|riempire|intascare|guadagnare|fare soldi)\b",
        ),
        (
            "fake claim",
            r"\b((is|it's|are|was) (all )?(fake|made up|staged)|è (tutto )?(finto|inventato|una messinscena)|sono finti)\b",
        ),
        ("cartel claim", r"\b(cartel|cartello|price[- ]fixing)\b"),
        (
            # a cause told as known fact: "that's why the prices doubled", "ecco perché". A weak
            # cue: only in a text told in no first person and not read as glad (decide_kind)
            "cause claim",
            r"\b(that'?s (?:literally |exactly |precisely |just )?why|that is why|"
            r"ecco perch[eé]|, per questo (?:i|il|la|le|lo|gli|hanno|sono|è|costa|costano))\b",
        ),
        (
            "accusation",
            r"\b(that'?s illegal|it'?s illegal|is illegal|è illegale|e' illegale|against the law|contro la legge)\b",
        ),
        (
            # a deal told as already done behind the customers' backs: "the building's already
            # been sold", "l'hanno già venduto", "the contract's already signed". Not sold out,
            # and not the writer's own ("I've already signed up").
            "done deal",
            # The pattern opens on "already"/"già" (the claim patterns are scanned by their first
            # word), with the third-person auxiliary looked for behind it.
            r"\b(already(?:(?<=has already)|(?<='s already)|(?<=is already)|(?<=was already)|"
            r"(?<=are already)|(?<=ere already))(?<!\bi was already)(?: been)? "
            r"(?:sold|signed|agreed|bought)(?! out| up)|"
            r"già(?:(?<=anno già)|(?<=ha già)|(?<=è già)|(?<=e' già)|(?<=ono già))(?: stat[oaie])? "
            r"(?:vendut[oaie]|firmat[oaie]|cedut[oaie]|comprat[oaie])(?! tutt))\b",
        ),
    )
)


def _split_group(fragment: str) -> list[str]:
    """The top-level alternatives of ``fragment`` up to the parenthesis that closes it (or its
    end).

    >>> _split_group("a|b(c|d)|[|)]e)f")
    ['a', 'b(c|d)', '[|)]e']
    """
    out, depth, start, i = [], 0, 0, 0
    while i < len(fragment):
        ch = fragment[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a class may hold "|" or ")" as plain characters
            i = fragment.index("]", i + 2) + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(fragment[start:i])
            start = i + 1
        i += 1
    return [*out, fragment[start:i]]


def _first_letter(alternative: str) -> str | None:
    """The character every match of a claim pattern's first-group ``alternative`` starts with,
    or None where that is not plain to read ("(?:a|is a)...", "e?x", "a+").

    >>> _first_letter("i heard"), _first_letter("(?:sta|stanno) per fallire"), _first_letter("a+h")
    ('i', None, None)
    """
    if alternative[:1].isalnum() and alternative[1:2] not in ("?", "*", "+", "{"):
        return alternative[0]
    return None


def _spread(alternative: str) -> list[str]:
    """``alternative`` as one alternative per alternative of the group it opens with, each with
    the rest after it: they match what it matches, and each opens with a letter of its own.

    >>> _spread("(?:a|is a) scam"), _spread("(is|was) (all )?fake"), _spread("(?:a|b)?c")
    (['a scam', 'is a scam'], ['is (all )?fake', 'was (all )?fake'], ['(?:a|b)?c'])
    """
    if alternative.startswith("(?:"):
        start = 3
    elif alternative.startswith("(") and not alternative.startswith("(?"):
        start = 1
    else:
        return [alternative]
    inner = _split_group(alternative[start:])
    end = start + len("|".join(inner))
    rest = alternative[end + 1 :]
    if alternative[end : end + 1] != ")" or rest[:1] in ("?", "*", "+", "{"):
        return [alternative]
    return [spread for part in inner for spread in _spread(part + rest)]


def _alternatives(pattern: str) -> list[str]:
    r"""The alternatives of the first group of a claim pattern (``\b(first|group)...``), those
    that open with a group of their own spread (:func:`_spread`)."""
    if not pattern.startswith("\\b("):
        raise ValueError(
            f"a claim pattern must start with a word boundary and a group: {pattern!r}"
        )
    return [spread for alt in _split_group(pattern[3:]) for spread in _spread(alt)]


def _openings(patterns: Sequence[str]) -> re.Pattern[str]:
    r"""One expression that matches, with no width, wherever any of ``patterns`` (each
    ``\b(first|group)...``) could start a match: their first groups' alternatives, gathered by
    their first letter.

    At each word start a plain alternation tries every alternative in turn; gathered by first
    letter it tries one branch per letter and enters one. On tweets that scan takes a fifth of
    the time, and only the texts it matches (about a tenth of tweets) run the patterns, each only
    where it could start. Every match of a pattern begins with one of its first group's
    alternatives, so a pattern matches nowhere but at the places this finds.
    """
    by_letter: dict[str, list[str]] = {}
    whole: list[str] = []
    for pattern in patterns:
        for alt in _alternatives(pattern):
            first = _first_letter(alt)
            if first is None:
                whole.append(alt)
            else:
                by_letter.setdefault(first, []).append(alt[1:])
    branches = [f"{re.escape(c)}(?:{'|'.join(tails)})" for c, tails in sorted(by_letter.items())]
    # a lookahead, so that finditer gives every place, also one inside another's match
    return re.compile("\\b(?=" + "|".join([*branches, *whole]) + ")")


def _first_letters(pattern: str) -> frozenset[str] | None:
    """The characters a match of the claim ``pattern`` can start with; None: any."""
    firsts = [_first_letter(alt) for alt in _alternatives(pattern)]
    return None if None in firsts else frozenset(c for c in firsts if c is not None)


# Patterns run on the lower-cased text: case-sensitive matching of a big alternation is about
# twice as fast as re.IGNORECASE, and this scan runs on every comment.
_MISGUIDED = tuple((name, re.compile(p)) for name, p in MISGUIDED_PATTERNS)
_MISGUIDED_FIRST = tuple(_first_letters(p) for _, p in MISGUIDED_PATTERNS)
_MISGUIDED_OPENINGS = _openings([p for _, p in MISGUIDED_PATTERNS])


def misguided_cues(text: str) -> list[str]:
    """Names of the claim/accusation patterns a text matches.

    >>> misguided_cues("Ho sentito che usate olio di palma, è una truffa")
    ['rumour', 'scam claim', 'secret practice']
    """
    found: list[str] = []
    text = text.lower()
    first = _MISGUIDED_OPENINGS.search(text)  # one scan for the common case: no claim at all
    if first is None:
        return found
    starts = [m.start() for m in _MISGUIDED_OPENINGS.finditer(text, first.start())]
    opened = {text[at] for at in starts}
    # A pattern is tried, anchored, only where its first letter opens a claim: the texts let
    # through are mostly "just" and "only" (the motive claim), which all the others would scan
    # in full to no avail.
    for (name, pattern), firsts in zip(_MISGUIDED, _MISGUIDED_FIRST, strict=True):
        if name in found:
            continue
        if firsts is not None and firsts.isdisjoint(opened):
            continue  # one set operation where a generator would try every place
        if any((firsts is None or text[at] in firsts) and pattern.match(text, at) for at in starts):
            found.append(name)
    return found


#: Marks of a customer's own experience: first person, service objects, times and amounts.
EXPERIENCE_WORDS = frozenset(
    """
    my me i'm i've we our us ordered order bought paid waited waiting booked booking ticket tickets
    delivery delivered package parcel refund refunded charged bill invoice receipt subscription contract
    account line internet wifi connection signal router modem call called phone customer service support
    train trains bus flight station platform seat late delayed delay cancelled canceled missed broken
    stale mouldy moldy cold burnt raw wrong missing never arrived hours hour minutes days weeks month
    months still again since yesterday today this morning staff waiter cashier manager shop store
    bread cake croissant pizza coffee pastry order
    ho abbiamo mio mia miei mie mi ci noi ordinato ordine comprato pagato pagata aspettato aspettando
    atteso prenotato prenotazione biglietto biglietti consegna consegnato pacco rimborso addebitato
    addebito bolletta fattura scontrino abbonamento contratto linea fibra internet connessione segnale
    modem chiamato chiamata telefonato numero verde assistenza servizio clienti operatore treno treni
    regionale frecciarossa binario stazione posto ritardo ritardi cancellato soppresso soppressi perso
    rotto rotta freddo bruciato crudo sbagliato mancante mai arrivato arrivata ore ora minuti giorni
    settimane mese mesi ancora ieri oggi stamattina personale cameriere cassiera commessa commesso
    negozio pane torta cornetto cornetti brioche pizza caffè pasticceria
    """.split()
)

ANGER_WORDS = frozenset(
    """
    shame disgrace disgraceful disgusting disgusted outrageous ridiculous unacceptable pathetic furious
    fuming livid enough worst horrible terrible awful hate angry rage scandal scandalous unbelievable
    joke kidding
    vergogna vergognatevi vergognoso vergognosa schifo schifoso schifosi vomitevole ridicolo ridicoli
    inaccettabile pazzesco assurdo assurda basta peggiore peggior pessimo pessimi orribile incazzato
    incazzata arrabbiato arrabbiata furioso furiosa scandalo scandaloso scandalosa indegno indegni
    patetici patetico odio rabbia scherzando stufo stufa incredibile
    """.split()
)

#: Anger words that also say wonder: in a text the model reads as glad they praise ("un posto
#: pazzesco")...
_AMAZED = frozenset("unbelievable incredibile pazzesco pazzesca".split())
#: ...and, with these, they are not anger there ("kidding", "don't hate").
_WONDER = _AMAZED | frozenset("kidding hate joke scherzando".split())

#: Words of a concrete problem: what went wrong in the customer's experience.
PROBLEM_WORDS = frozenset(
    """
    late delayed delay cancelled canceled cancelling canceling missed broken stale mould mouldy moldy cold burnt raw wrong
    missing never still again down twice charged overcharged rude ruined nobody nothing instead no not
    without doesn't didn't won't can't isn't wasn't weren't haven't hasn't refund lost error failure
    ritardo ritardi soppresso soppressi cancellato cancellata perso persa rotto rotta duri duro muffa
    freddo fredda freddi bruciato crudo sbagliato sbagliata mancante mai ancora giù addebitato
    sgarbata sgarbato maleducato maleducata nessuno nessun nessuna niente invece senza non rimborso
    saltata saltato errore guasto
    smell smelled smelt smelly weird odore puzza puzzava strano strana
    """.split()
)

#: Problem words that are also everyday grammar: enough beside other marks of a complaint, not
#: as the writer's one concrete problem.
_WEAK_PROBLEMS = frozenset(
    """
    never still again twice nobody nothing instead no not without doesn't didn't won't can't
    isn't wasn't weren't haven't hasn't mai ancora giù nessuno nessun nessuna niente invece
    senza non
    """.split()
)

#: Problem words that are a concrete problem on their own.
_STRONG_PROBLEMS = PROBLEM_WORDS - _WEAK_PROBLEMS

#: Insults and name-calling (it/en): with them a comment is provocation, not a complaint.
INSULT_WORDS = frozenset(
    """
    idiot idiots moron morons clown clowns stupid dumb imbecile imbeciles muppet muppets losers loser
    incompetent incompetents garbage trash scum thieves crooks geniuses sheep
    idiota idioti cretino cretini coglione coglioni stronzo stronzi deficiente deficienti imbecille
    imbecilli pagliaccio pagliacci buffone buffoni incapace incapaci tonti tonto ladri ladroni
    pezzenti spazzatura pecoroni pecore geni somari asini
    """.split()
)

#: Vulgar words said to someone: name-calling, like the insults above.
_VULGAR_INSULTS = frozenset(
    """
    stronza stronze puttana puttane troia troie zoccola zoccole mignotta mignotte bastardo bastarda
    bastardi bastarde vaffanculo fanculo affanculo cazzone cazzoni asshole assholes arsehole
    arseholes bitch bitches bastard bastards cunt cunts dickhead dickheads wanker wankers twat twats
    prick pricks motherfucker motherfuckers succhiacazzi
    """.split()
)
INSULT_WORDS = INSULT_WORDS | _VULGAR_INSULTS
#: The other vulgar words swear rather than call names ("che cazzo di servizio", "this is
#: bullshit"): venting, like anger words; in a text the model reads as glad, enthusiasm.
_SWEARING = PROFANITY - INSULT_WORDS
_ANGER_CUES = ANGER_WORDS | _SWEARING
#: "Porca puttana!", "porca troia": an exclamation, not a name called.
_EXCLAIMED = re.compile(r"\bporca (puttana|troia)\b")
#: Swearing at someone: "fuck you", "fuck off".
_SWORN_AT = re.compile(r"\b(fuck (you|off|u)|screw you)\b")
#: Exasperation without an anger word: "fed up", "I'm so done", "non se ne può più", "porca
#: miseria", "mannaggia". The writer has had enough of the situation: a rant.
_EXASPERATED = _Rare(
    re.compile(
        r"\b(?:fed up|(?:so|absolutely|completely|totally) done\b|"
        r"so done|sick (?:and tired )?of|had enough|can'?t take (?:it|this) any ?more|"
        r"(?:i've|i have|ive|we've|we have) had it (?:with|up to)|"
        r"(?:non|nn) se ne p(?:uò|uo'?|o) pi[uù]|(?:non|nn) ce la faccio pi[uù]|"
        r"porca (?:miseria|vacca|paletta)|mannaggia|che palle|ho le palle piene|ne ho abbastanza|"
        r"makes? my blood boil|my blood (?:is )?boiling|che nervi|"
        r"mi (?:fa|fate|fanno) (?:incazzare|imbestialire))\b"
    ),
    (
        "blood",
        "nervi",
        "incazzare",
        "imbestialire",
        "fed up",
        "had it",
        "done",
        "sick",
        "enough",
        "any",
        "se ne p",
        "ce la faccio",
        "porca",
        "mannaggia",
        "palle",
        "abbastanza",
    ),
)
#: Every exasperation holds one of these words (the pattern ends at a word's end: "so doneee"
#: holds none): most comments hold none, which one set operation on the comment's words tells.
_EXASPERATION_WORDS = frozenset(
    """
    fed done sick enough anymore any più piu porca mannaggia palle abbastanza had blood boil
    boiling nervi incazzare imbestialire
    """.split()
)
#: Swearing written with asterisks ("m***a", "f**k", "sh*t", "f***"): still swearing. A masked
#: word keeps its first letters, three at most, then stars, then at most three letters or no
#: letter after two stars at least. Two words joined by a star ("helpful*ma", "proud*RT") and
#: words starred for stress or action ("*not*", "*drops mic*") hide nothing. The stars are taken
#: once (possessive) and a match opens only where a run of letters does: a long run is read once.
_MASKED_SWEAR = _Rare(
    re.compile(r"(?<![a-z*])[a-z]{1,3}(?:\*++[a-z]{1,3}|\*{2,}+)(?![a-z])"), ("*",)
)
#: Faces of anger: on their own they vent.
_ANGRY_EMOJI = ("😡", "🤬", "👿")
#: "Vaffanculo" exclaimed at the start of a sentence, with nobody addressed in the comment ("ma
#: vaffanculo, tre gol presi in casa"), swears at the situation. Told to the page ("vaffanculo
#: voi", "andate a fanculo") it is an insult.
_EXCLAIMED_CURSE = re.compile(
    # no newline among the blanks after the mark: see _SENTENCE_START
    r"(?:^|[.!?\n][^\S\n]*)(?:(?:ma|oh|eh|e|ah)[\s,]+)?(?P<w>vaffanculo|fanculo|affanculo)(?=\s*(?:[,.!]|$))"
)
#: Words that address the page or someone: with one of them, a curse is aimed at them.
_ADDRESSED = frozenset(
    """
    you your you're yours u ur voi vi vostro vostra vostri vostre tu ti te tuo tua tuoi tue
    siete avete andate andatevene
    """.split()
)


def _vented(text: str, low: str, present: set[str]) -> list[str]:
    """Venting without an anger word: exasperation, masked swearing, angry faces."""
    found = []
    if not present.isdisjoint(_EXASPERATION_WORDS):
        found += [m.group(0) for m in _EXASPERATED.finditer(low)]
    found += [
        m.group(0)
        for m in _MASKED_SWEAR.finditer(low)
        if not profanity.after_title(low, m.start())  # "Mr P***s": a name kept private
    ]
    if not text.isascii():
        found += [e for e in _ANGRY_EMOJI if e in text]
    return found


#: Mockery and provocation: laughter at someone, clown emoji, "wake up", "lol", rhetorical taunts.
#: The words are scanned for with "(?<!\w)" where "\b" would do: every one starts with a word
#: character, so the two agree, and the scan runs at twice the speed. The faces are looked up
#: apart, in the texts that are not plain ASCII.
_MOCKERY_WORDS = _Rare(
    re.compile(
        r"(?<!\w)(?:a+h+a+h+\w*|ha(?:ha)+h?|he(?:he)+|lol+|lmao+|rofl|xd+|sveglia|wake up|"
        r"bravi bravi|complimenti davvero|well done genius|good job genius\w*|oh look|toh|"
        r"nice try|ma fatemi il piacere|yeah right|certo certo|imagine|immagina|"
        r"good luck with that|call the newspapers|chiamate i giornali|"
        r"cry more|keep crying|cope harder|stay mad|seethe)\b"
    ),
    # "ah" is in every laugh of "a"s and "h"s ("ahah", "haha") and in "yeah right"
    (
        "ah",
        "hehe",
        "lol",
        "lmao",
        "rofl",
        "xd",
        "sveglia",
        "wake up",
        "bravi bravi",
        "complimenti davvero",
        "genius",
        "oh look",
        "toh",
        "nice try",
        "fatemi",
        "certo certo",
        "imagin",
        "immagina",
        "good luck with that",
        "newspapers",
        "giornali",
        "cry more",
        "keep crying",
        "cope harder",
        "stay mad",
        "seethe",
    ),
)
_MOCKERY_FACES = ("🤡", "🤣", "😂", "🙄", "🙃", "👏", "🐔", "🥱", "💀")


def mockery_marks(low: str) -> list[str]:
    """The marks of mockery in the lower-cased ``low``, each once, sorted.

    >>> mockery_marks("ahahah bravi bravi 👏👏")
    ['ahahah', 'bravi bravi', '👏']
    """
    found = {m.group(0) for m in _MOCKERY_WORDS.finditer(low)}
    if not low.isascii():
        found.update(face for face in _MOCKERY_FACES if face in low)
    return sorted(found)


#: Laughter: with a target it mocks, on its own it only laughs ("😂", "lol the dog in the photo").
#: "💀" ("I'm dead") is laughter too.
_LAUGHTER = re.compile(r"a+h+a+h+\w*|ha(ha)+h?|he(he)+|lol+|lmao+|rofl|xd+|🤣|😂|💀")
#: What laughter is aimed at when the comment names it: the page, its people, the reader.
_LAUGHED_AT = _ADDRESSED | frozenset(
    """
    page pagina admin intern stagista social marketing company azienda società staff personale
    dipendenti employees istruttori instructors trainers camerieri waiters commessi commesse
    whoever sviluppatori developers devs designer designers progettisti
    """.split()
)
#: The people a product is said to be for, or made by: "bici elettriche per chi non ha le gambe
#: 😂", "a shop for people who need everyone to know they read", "fatto da sviluppatori di 8
#: anni 🤣". Laughter beside them is at the page's customers or makers.
_AIMED_AT = _Rare(
    re.compile(
        r"\b(?:per chi (?:non|ha|è|e'|vuole|deve)|for (?:people|those|anyone|someone) who|"
        r"fatt[oaie] da (?:un|una|dei|degli|delle|gente|chi)|made by (?:a|an|some|people|someone))\b"
    ),
    ("per chi", "who", "fatt", "made by"),
)
#: Encouragement with a patronising name: "keep it up champ", "nice try genius", "continuate
#: così campioni". Mockery when the text reads unhappy; a fan's cheer when it reads glad.
_MOCK_CHEER = _Rare(
    re.compile(
        r"\b(?:keep it up|keep going|nice try|nice one|well done|good job|great job|way to go|"
        r"continua così|continuate così|bel lavoro|ottimo lavoro) "
        r"(?:champ|champs|champion|genius|geniuses|chief|sport|buddy|pal|einstein|sherlock|"
        r"campione|campioni|genio|geni|fenomeno|fenomeni|einstein)\b"
    ),
    ("keep", "nice", "well done", "job", "way to go", "così", "lavoro"),
)
#: Put-downs and taunts with no laughter or insult word: "who even reads books anymore",
#: "nobody asked", "oh wait", "peak car dealer energy", "bet your intern wrote this",
#: "datevi all'ippica", "cambiate mestiere", "tornate a fare i muratori", "università da
#: barzelletta", "assunto per pietà", "ma davvero qualcuno paga...". Each tells the page it is
#: worthless, to bait, and none is how a customer describes a problem.
_TAUNT = re.compile(
    r"\b(?:who even|does any(?:one|body) (?:actually|really|even)|nobody asked|no one asked|"
    r"oh wait|peak (?:[\w']+ ){1,3}energy|bet (?:your|the|ur) (?:[\w']+ ){1,3}"
    r"(?:wrote|made|designed|did|picked|chose)|go back to (?:selling|flipping|making|your)|"
    r"datevi all'ippica|cambiate mestiere|tornate a (?:fare|vendere|zappare|giocare)|"
    r"da barzelletta|per pietà|out of pity|radical chic|ma davvero (?:qualcuno|c'è qualcuno)|"
    # asked of the page's competence: "do you guys even know how to cook", "sapete almeno
    # leggere", "avete comprato la laurea su Amazon", "ci siete o ci fate"
    r"(?:do|can|does|did) (?:you|u|ya|they|he|she)(?: guys| people| lot| all)? (?:even|actually) "
    r"(?:know|read|care|understand|check|listen|test|try|work|cook|drive|count|spell)|"
    r"(?:sapete|sai|sanno|sa) almeno|ci siete o ci fate|ci sei o ci fai|"
    r"(?:comprat[oa]|pres[oa]) (?:la laurea|il diploma|la patente)|"
    r"bought (?:your|their|his|her|the) (?:degree|diploma|licen[cs]e)|"
    # the author guessed as a child, an animal or an object: "l'avete fatto fare a un bambino
    # dell'asilo?", "did the intern take the photo with a potato?"
    r"(?:did|has|let) (?:the|your|an|ur) intern (?:write|make|design|do|pick|choose|run|take|draw)|"
    r"(?:l'ha|l'hanno|lo ha|la ha) (?:fatt|scritt|disegnat|scelt)[oaie] (?:lo|il|la|un|una) "
    r"(?:stagista|bambin[oa])|"
    r"(?:fatt[oaie] fare|fatt[oaie]|disegnat[oaie]|scritt[oaie]|made|designed|wrote|written|"
    r"drawn|took|taken|take|drew|draw|write|design)\b[^?.!\n]{0,30}?\b(?:a|by|da|with|con) "
    r"(?:un |una |a |an |the |your |vostro |vostra |il |lo |la )?(?:bambin[oaie]|child|kid|"
    r"toddler|intern|stagista|scimmi[ae]|monkey|potato|patata|toaster|tostapane|nipote|nephew|"
    r"niece|cugino|gatto|calcolatrice|calculator|nokia)|"
    # the genius who approved it: "who approved this", "chi è il genio che", "who thought this
    # was a good idea"
    r"who (?:approved|signed off on|thought (?:this|that|it) was a good idea)|"
    r"who(?:'s| is) the genius|chi (?:è|e') (?:stato )?(?:il|quel) genio|chi ha approvato|"
    r"who(?:'s| is| would be) (?:so )?(?:desperate|stupid|dumb|naive|gullible) enough|"
    r"chi (?:è|e') così (?:disperat|scem|fess|ingenu|stupid)\w* da|"
    # an age for the page's people: "ma il vostro social media manager ha 12 anni?"
    r"(?:manager|admin|social|grafic[oa]|stagista|designer|intern)\b[^?.!\n]{0,25}?\b"
    r"(?:ha|hanno|is|are) (?:tipo |like |forse |about )?\d{1,2}(?: anni| years old)?(?=\s*\?)|"
    # a mind or a mood likened to a thing: "the IQ of a flat tyre", "sadder than my ex's wedding"
    r"(?:the|an|il|un) (?:iq|qi) (?:of|di|da)|sadder than|più trist[ei] (?:di|del|della|dei)|"
    # sent back where they belong: "tornatevene a vendere cover al mercato"
    r"tornatevene|"
    # a name taken back: "Theatre? More like a very expensive nap room"
    r"(?<=\? )more like)\b"
)
#: Every taunt of :data:`_TAUNT` holds one of these words: one set operation on the comment's
#: words rules most comments out before the scan.
_TAUNT_WORDS = frozenset(
    """
    even actually really asked wait energy bet back all'ippica mestiere tornate barzelletta pietà pity
    radical davvero almeno fate fai laurea diploma patente degree licence license bambino
    bambina bambini bambine child kid toddler intern stagista scimmia scimmie monkey potato patata
    toaster tostapane nipote nephew niece cugino gatto calcolatrice calculator nokia approved
    idea genius genio approvato desperate stupid dumb naive gullible così manager admin social
    grafico grafica designer more signed iq qi sadder triste tristi tornatevene
    """.split()
)
#: The patronising names of :data:`_MOCK_CHEER`: every match holds one.
_MOCK_NAMES = frozenset(
    """
    champ champs champion genius geniuses chief sport buddy pal einstein sherlock campione campioni
    genio geni fenomeno fenomeni
    """.split()
)

POSITIVE_CUES = frozenset(
    """
    thanks thank grazie great amazing excellent love loved lovely best delicious fantastic wonderful
    perfect kind helpful fast quick recommend recommended appreciated impressed beautiful
    brava bravi bravo bravissima bravissimi bravissimo buono buona buonissimo buonissima buonissimi
    ottimo ottima ottimi eccellente
    fantastico fantastica perfetto perfetta gentile gentilissimi gentilissima gentilissimo consiglio
    consigliato complimenti meraviglioso meravigliosa top super squisito squisita delizioso deliziosa
    adoro spaziale spaziali stupendo stupenda comodissima comodissimo simpaticissimo simpaticissima
    velocissimo velocissima bellissimo bellissima bel bello bella spettacolare spettacolari promosso
    promossa ringrazio ringraziamo grato grata grateful gracias merci danke obrigado obrigada
    proud orgoglioso orgogliosa orgogliosi orgogliose fiero fieri
    legend legends leggenda leggende hero heroes eroi shoutout shout-out
    consigliatissimo consigliatissima consigliatissimi consigliatissime velocissimi velocissime
    pulitissimo pulitissima pulitissimi pulitissime semplicissimo semplicissima puntualissimo
    puntualissima puntualissimi disponibilissimo disponibilissima disponibilissimi
    gentilissime bravissime
    """.split()
)
#: Praise said in a phrase rather than a word: "worth every penny", "well done", "non lo lascio
#: più", "trattati come dei re", "è un tesoro". They count as praise words; unlike the idioms of
#: :func:`praise_idiom` they do not overrule a negative reading ("well done, late again").
_PRAISE_PHRASES = _Rare(
    re.compile(
        r"\b(?:worth every (?:penny|cent)|(?:well|nicely) done|good job|great job|ben fatto|"
        r"(?:non|nn) (?:lo|la|li|le) lascio pi[uù]|non ne (?:faccio|posso fare) pi[uù] a meno|"
        r"can'?t live without|(?:treated|trattat[oaie]) (?:us |me )?(?:like|come) (?:dei |dei veri )?"
        r"(?:re|royalty|kings|queens|vip)|(?:è|e'|sei|siete|is|are) (?:un |una |a |an |dei |degli )"
        r"(?:tesoro|tesori|gem|gems|star|stars|lifesaver|angel|angels|angelo|angeli))\b"
    ),
    (
        "worth",
        "done",
        "job",
        "ben fatto",
        "lascio",
        "meno",
        "live without",
        "tratt",
        "treated",
        "tesor",
        "gem",
        "star",
        "lifesaver",
        "angel",
    ),
)


#: Every phrase of :data:`_PRAISE_PHRASES` holds one of these words.
_PRAISE_PHRASE_WORDS = frozenset(
    """
    worth done job fatto lascio meno without treated trattato trattata trattati trattate tesoro
    tesori gem gems star stars lifesaver angel angels angelo angeli
    """.split()
)


def praise_phrases(low: str, present: set[str] | None = None) -> list[str]:
    """The phrases of praise in a lower-cased text; ``present``, the set of its words, lets most
    texts skip the scan.

    >>> praise_phrases("worth every penny, non la lascio più")
    ['worth every penny', 'non la lascio più']
    """
    if present is not None and present.isdisjoint(_PRAISE_PHRASE_WORDS):
        return []
    return [m.group(0) for m in _PRAISE_PHRASES.finditer(low)]


#: "On top", "to the top": a place, not the Italian "top!" of praise.
_TOP_AS_PLACE = re.compile(r"\b(?:on|at|to|from|over)(?: the)? top\b")

#: Comments that say nothing about the page ("first!", "ok"): never praise however upbeat.
_NON_CONTENT = frozenset("first primo prima ok okay k idem same here".split())


_LONG_WORD = re.compile(r"[^\W\d_]{3,}")
#: The same in a text of ASCII characters, whose letters are A-Z and a-z: a range of characters
#: is tested at half the cost of the categories of "\w" and "\d".
_ASCII_LONG_WORD = re.compile(r"[A-Za-z]{3,}")
_ASCII_CAPITALS = bytes(range(ord("A"), ord("Z") + 1))


def shouting(text: str) -> tuple[float, int]:
    """Share of upper-case letters among letters in words of 3+ letters, and the '!' count."""
    ascii_only = text.isascii()
    letters = "".join((_ASCII_LONG_WORD if ascii_only else _LONG_WORD).findall(text))
    if len(letters) < 8:
        return 0.0, text.count("!")
    # all cased letters lower-case (most comments): no capital, without a look at each letter
    if letters.islower():
        caps = 0
    elif ascii_only:  # the capitals, deleted in C, are what the length loses
        caps = len(letters) - len(letters.encode().translate(None, _ASCII_CAPITALS))
    else:
        caps = sum(map(str.isupper, letters))
    return caps / len(letters), text.count("!")


@dataclass
class KindInput:
    """The signals a kind decision rests on (model outputs and rule cues)."""

    text: str
    words: list[str]
    sentiment: str
    negative: float
    positive: float
    offensive: float
    irony: float
    question: bool
    spam: float
    #: The disguised vulgar words (:func:`~crisisdesk.analysis.profanity.disguised`), when the
    #: caller has found them already; None to find them here.
    disguised: Sequence[profanity.Vulgar] | None = None


#: Years ago: "nel 2009", "back in the 80s", "negli anni '90", "when I was a kid".
_LONG_AGO = _Rare(
    re.compile(
        r"\b(?:(?:nel|in|back in) (?:19|200|201)\d|back in the (?:'?\d0s|day)|"
        r"in the (?:'?\d0s|(?:nineteen )?(?:sixties|seventies|eighties|nineties))|"
        r"negli anni (?:'?\d0|sessanta|settanta|ottanta|novanta)|"
        r"when (?:i|we) (?:was|were) (?:a )?(?:kids?|little|young|children)|"
        r"quando (?:ero|eravamo) (?:piccol[oaie]|bambin[oaie]|ragazz[oaie]))"
    ),
    ("nel ", "in ", "back in", "negli anni", "when ", "quando "),
)

#: "Late" as a time of day: "the late opening on Friday", "a late breakfast".
_LATE_AS_TIME = re.compile(
    r"\blate[ -](?:opening|openings|night|nights|evening|evenings|show|shows|shift|checkout|"
    r"check-out|breakfast|lunch|dinner|summer|afternoon|morning)\b"
)

#: Problem words that sarcastic praise is usually wrapped around.
_SARCASM_TARGETS = frozenset(
    "late delay delayed cancelled canceled cancelling canceling again failure ritardo ritardi "
    "soppresso cancellato ancora".split()
)


#: Problem words that, next to praise, usually mark a contrast rather than a problem.
_CONTRAST = frozenset({"instead", "invece"})

_BUT = frozenset("but however though yet ma però pero tuttavia eppure".split())
#: "Never had a problem", "nessun problema", "mai avuto problemi": a problem denied is
#: satisfaction, though its words ("never", "mai", "problem") read as a complaint to the model and
#: to the cue lists. Between the negation and the noun only the words such a phrase is made of.
_NO_PROBLEM = _Rare(
    re.compile(
        r"\b(?P<neg>never|no|not|zero|nessun|nessuno|nessuna|mai|senza)"
        r"(?:\s+(?:had|have|has|ever|a|an|any|single|one|un|uno|una|avuto|avuti|ho|abbiamo|alcun|"
        r"alcuno|alcuna|mezzo|più)){0,3}"
        r"\s+(?:problems?|issues?|complaints?|problema|problemi|intoppo|intoppi|lamentela|lamentele|"
        r"hassle|fuss|stress|pensieri)\b"
    ),
    # every match ends with a noun that holds one of these
    ("problem", "issue", "complaint", "intopp", "lamentel", "hassle", "fuss", "stress", "pensieri"),
)
_THANKS_FOR_NOTHING = re.compile(
    r"\b(thanks|thank you) for nothing\b|\bgrazie (per|di) niente\b|\bno,? (?:grazie|thanks)\s*[.!]*$"
)


#: What went wrong, told without a problem word: what was booked went to someone else, the
#: customer stood, was sent away or left stranded. "Booked seats 14A and 14B, at the gate they
#: were given to someone else" names no delay, breakage or refund, and is a complaint.
_BAD_OUTCOME = _Rare(
    re.compile(
        r"\b(?:(?:given|gave|sold|assigned|reassigned|handed)(?: \S+){0,3}? to (?:someone|somebody) else|"
        r"(?:given|gave|sold|assigned|reassigned|handed)(?: \S+){0,3}? to (?:another|other) "
        r"(?:passengers?|customers?|people|guests?|family|person)|"
        r"(?:stood|standing|stand) all the way|had to stand|"
        r"(?:turned|sent) (?:us|me) away|(?:were|was|got) (?:turned|sent) away|"
        r"left (?:us|me) stranded|(?:were|was|got) stranded|bumped (?:us|me) off|overbook\w*|"
        r"(?:dat|assegnat|vendut|cedut|rivendut)[oiae](?: \S+){0,2}? "
        r"(?:ad altri|ad altre persone|a qualcun altro|a qualcuno altro|a un altro|a un'altra)|"
        r"(?:stat|viaggiat|rimast)[oiae] in piedi|in piedi (?:fino|per tutto|tutto il)|"
        r"(?:lasciat|rimast)[oiae] a piedi|lasciat[oiae] a terra|"
        r"(?:mandat|rimandat)[oiae] (?:via|indietro)|(?:ci|mi) hanno (?:mandat|rimandat)[oiae] "
        r"(?:via|indietro))\b"
    ),
    (
        "else",
        "other",
        "stand",
        "stood",
        "away",
        "strand",
        "bumped",
        "overbook",
        "altr",
        "piedi",
        "terra",
        "via",
        "indietro",
    ),
)

#: More of what went wrong without a problem word: the customer who called was hung up on, or
#: what was bought does not work or is not what was shown ("a different colour from the photos").
_FAULT = _Rare(
    re.compile(
        r"\b(?:(?:hung|hang|hangs) up on (?:me|us)|(?:put|slammed) the phone down on (?:me|us)|"
        r"(?:mi|ci) (?:hanno|ha) (?:attaccat|sbattut|chius)[oa] (?:il telefono|la chiamata|"
        r"il telefono in faccia|in faccia)|riattaccat[oaie]|"
        r"(?:doesn'?t|does not|don'?t|do not|didn'?t|isn'?t|is not|won'?t) work(?:ing)?|"
        r"not working|non funzion\w*|not as (?:described|pictured|advertised|shown)|"
        r"different (?:\w+ )?(?:from|than|to) (?:the (?:photos?|pictures?|website|description)|"
        r"what (?:i|we) (?:ordered|bought|paid))|"
        r"divers[oaie] (?:da|dalla|dalle|dal|dai|rispetto alla) (?:quell[oa] (?:in|della|nella|sul) )?"
        r"(?:foto|descrizione|sito|immagin\w*|quell[oa] che (?:ho|abbiamo) (?:ordinato|pagato|comprato))|"
        # kept waiting, and fobbed off: "da due mesi aspetto", "due ore di coda", "queued 50
        # minutes", "continua a dire la settimana prossima", "keeps saying next week"
        r"(?:da|for) (?:\d+|due|tre|quattro|cinque|sei|two|three|four|five|six) "
        r"(?:mesi|settimane|giorni|months|weeks|days) (?:aspetto|che aspetto|sto aspettando)|"
        r"aspetto da (?:\d+|due|tre|quattro|cinque|sei) (?:mesi|settimane|giorni)|"
        r"(?:\d+|due|tre|quattro|cinque) ore di (?:coda|fila|attesa)|"
        r"queued (?:for )?\d+ (?:minutes|mins|hours)|\d+ (?:minutes|mins|hours) (?:in|of) (?:the )?(?:queue|line)|"
        r"continua(?:no)? a dir(?:e|mi|ci)|keeps? (?:saying|telling (?:me|us))|"
        # run out, all closed, failing again and again, made to pay
        r"(?:avevano|hanno|aveva|ha) (?:già )?finito (?:l'|il |la |i |le |gli )\w+|ran out of \w+|"
        r"(?:erano|era) (?:quasi )?(?:tutt[eiao] )?chius[oaie]|were (?:all |mostly )?closed|"
        r"was (?:all|mostly) closed|"
        r"keeps? (?:buffering|crashing|freezing|dropping|logging (?:me|us) out)|"
        r"continua a (?:bloccarsi|piantarsi|crashare|disconnettersi)|"
        r"(?:mi|ci) (?:chiedete|fate|hanno fatto|avete fatto) (?:anche )?(?:di )?pagare|made (?:me|us) pay)\b"
    ),
    (
        "hung up",
        "hang up",
        "hangs up",
        "phone down",
        "telefono",
        "chiamata",
        "faccia",
        "attacc",
        "t work",
        "not work",
        "non funzion",
        "not as",
        "different",
        "divers",
        "aspett",
        "ore di",
        "queue",
        "line",
        "continua",
        "keep",
        "finito",
        "ran out",
        "chius",
        "closed",
        "pagare",
        "pay",
    ),
)

#: "Still" right after the verb and subject of a yes/no question asks about what is on offer;
#: after "why" it complains ("why does it still say in progress"). Italian has no inversion:
#: only at the start of a sentence ("Avete ancora la colomba", not "non avete ancora capito").
_STILL_OFFERED = _Rare(
    re.compile(
        r"(?<!why )(?<!perché )(?<!perche )"
        r"\b(?:(?:do|does|are|is) (?:you|there|it|they) still|"
        r"(?:^|[.!?\n]\s*)(?:(?:buongiorno|buonasera|salve|ciao|scusate)[\s,]+)?"
        r"(?:avete|c'è|c’è|ci sono|siete|fate|vendete) ancora|"
        # anywhere in the sentence when what is asked after is a place or a ticket: "per
        # domenica ci sono ancora posti in platea", "volevo sapere se c'è ancora posto"
        r"(?:c'è|c’è|ci sono|avete) ancora (?:dei |degli |delle )?(?:posti|posto|biglietti|"
        r"biglietto|tavoli|camere|disponibilit[àa]))\b"
    ),
    ("still", "ancora"),
)
#: "Is the bulky waste collection still on Mondays", "Are your pools still open": a yes/no
#: question about what is still so, unless a problem follows ("Is the lift still broken").
_STILL_SO = _Rare(
    re.compile(
        # no newline among the blanks after the mark: see _SENTENCE_START
        r"(?:^|[.!?\n])[^\S\n]*(?:is|are|does|will)\b[^.!?\n]{0,40}?\bstill\b"
        r"(?! (?:not|no|waiting|broken|down|late|delayed|closed|missing|out of)\b)"
    ),
    ("still",),
)

_SENTENCE_END = re.compile(r"[.!?\n]")


#: Every fault or hang-up of :data:`_FAULT` holds one of these words, or "funzion" ("non
#: funzionerà": any ending): with the comment's words at hand, one set operation rules most
#: comments out.
_FAULT_WORDS = frozenset(
    """
    hung hang hangs phone telefono chiamata faccia riattaccato riattaccata riattaccati riattaccate
    work working funziona funzionano funzionava funzionavano funzionato funzionata funzionante
    funzionanti funzionare funzioni described pictured advertised shown different diverso diversa
    diversi diverse aspetto aspettando ore queued queue line continua continuano keep keeps finito
    ran chiuse chiusi chiusa chiuso closed pagare pay
    """.split()
)


def bad_outcomes(text: str, present: set[str] | None = None) -> list[str]:
    """The bad outcomes a lower-cased text reports; one asked about ("Is it overbooked?") is none.
    ``present``, the set of the text's words, lets most texts skip the scan for faults.

    >>> bad_outcomes("at the gate they were given to someone else"), bad_outcomes("is it overbooked?")
    (['given to someone else'], [])
    """
    found = []
    faulty = present is None or not present.isdisjoint(_FAULT_WORDS) or "funzion" in text
    faults = _FAULT.finditer(text) if faulty else ()
    for match in itertools.chain(_BAD_OUTCOME.finditer(text), faults):
        end = _SENTENCE_END.search(text, match.end())
        if not (end and end.group(0) == "?"):
            found.append(match.group(0))
    return found


#: A wish that the page fail, dressed as encouragement: "continuate così che fallite presto",
#: "keep it up and you'll be bankrupt in a month". Mockery, not a claim that the page is closing,
#: though its words ("fallite", "bankrupt") are those of a false claim.
_FAILURE_WISHED = _Rare(
    re.compile(
        r"\b(?:(?:continuate|continua|andate avanti|proseguite|avanti) così|di questo passo)\b"
        r"[^.!?]{0,30}?\b(?:fallite|fallirete|fallire|chiudete|chiuderete|chiudere|"
        r"(?:perdete|perderete) (?:tutti i )?clienti|(?:restate|rimanete) senza clienti)\b|"
        r"\b(?:keep (?:it|this|that) up|keep going like this|carry on like this|at this rate)\b"
        r"[^.!?]{0,40}?\b(?:bankrupt|go under|out of business|close down|shut down|"
        r"lose (?:all )?(?:your|the|every) customers?|have no customers)\b"
    ),
    ("così", "passo", "keep", "carry on", "at this rate"),
)

#: Praise that mocks by its form: the talent it takes to fail ("ci vuole talento a metterci 20
#: minuti", "it takes real talent to") and the page as the year's best joke. Mockery however it
#: applauds. Not a virtue in scare quotes: customers put them in complaints too ("on hold for
#: 30 minutes with your "customer service"").
_MOCK_PRAISE = _Rare(
    re.compile(
        r"\b(?:ci vuole (?:del |un certo |proprio )?talento (?:a|per)|"
        r"it takes (?:real |some |a special )?talent to|"
        r"la battuta (?:migliore|più bella) dell'anno|(?:the )?best joke (?:of the year|i've heard))\b"
    ),
    ("talent", "battuta", "joke"),
)

#: An insult by comparison: something likened to the minds of the page's people ("tastes like
#: cardboard, just like your staff's brains", "sanno di cartone, come il cervello dei vostri
#: dipendenti", "dure come la vostra testa"). Heads and faces count only as "your"/"vostra".
_COMPARED_TO_BRAINS = _Rare(
    re.compile(
        r"\b(?:like|as|come|tipo|quanto)\s+"
        r"(?:(?:the|your|their|his|her|il|la|lo|i|le|gli|l'|del|della|dei|delle|vostro|vostra|vostri|"
        r"vostre|tuo|tua|tuoi|tue|loro)\s+){0,2}(?:[\w’']+['’]s?\s+)??"
        r"(?:brains?|brain cells|iq|cervell[oi]|neuron[ei]|zucca|zucche)\b"
        r"|\b(?:like|as|come|tipo|quanto)\s+(?:(?:the|il|la|le)\s+)?"
        r"(?:your|their|vostra|vostre|tua|tue)\s+(?:[\w’']+['’]s?\s+)??"
        r"(?:heads?|faces?|testa|teste|faccia|facce)\b"
    ),
    ("brain", "iq", "cervell", "neuron", "zucc", "head", "face", "testa", "teste", "facc"),
)

#: "Era la fine del mondo": Italian for "it was wonderful". The model reads the end of the world
#: in it (negative, and "mondo" leans offensive); the idiom is praise. "Non è la fine del mondo"
#: ("it's no big deal") and "sembrava la fine del mondo" (chaos) are not.
_WONDERFUL = _Rare(
    re.compile(
        r"(?<!\bnon )\b(?:è|e'|era|erano|sono|è stata|è stato|sarà|fu)\s+"
        r"(?:davvero |proprio |semplicemente |veramente )?la fine del mondo\b"
    ),
    ("fine del mondo",),
)


def praise_idiom(text: str, present: set[str] | None = None) -> str | None:
    """An idiom of praise whose words read negative ("era la fine del mondo", "is sick af").
    ``present``, the set of the text's words, lets most texts skip the scan for slang.

    >>> praise_idiom("La crostata era la fine del mondo"), praise_idiom("Non è la fine del mondo")
    ('era la fine del mondo', None)
    >>> praise_idiom("the new level is sick af"), praise_idiom("this queue is insane")
    ('is sick af', None)
    """
    low = text.lower().replace("’", "'")
    match = _WONDERFUL.search(low)
    if match:
        return match.group(0)
    if present is not None and present.isdisjoint(_HYPE_WORDS):
        return None
    for hype in _HYPE.finditer(low):
        if hype.group("af") or any(e in text for e in _HYPE_EMOJI):
            return hype.group(0)
    return None


#: A customer's disappointment, or a customer lost ("never again", "last time I order from you"):
#: on a page, even in two words, an unhappy customer owed an answer.
_DISAPPOINTED = _Rare(
    re.compile(
        r"\b(delus[oaie]|delusione|deludente|deludenti|disappoint(?:ed|ing|ment)|"
        r"decepcionad[oa]s?|decepção|déçue?s?|enttäuscht|"
        r"mai pi[uù]|never again|"
        r"ultima volta che (?:compro|ordino|vengo|prenoto|viaggio|mangio|scelgo)|"
        r"last time (?:i|we) (?:order|buy|shop|come|book|fly|use|eat)\w*|"
        r"non (?:ci )?(?:torno|torner[oò]|metter[oò] pi[uù] piede)|non (?:compro|ordino) pi[uù]|"
        r"won'?t be (?:back|coming back|ordering again|buying again)|not coming back)\b"
    ),
    (
        "delu",
        "disappoint",
        "decep",
        "déçu",
        "enttäuscht",
        "mai pi",
        "never again",
        "ultima volta che",
        "last time",
        "non ",
        "t be ",
        "not coming back",
    ),
)
#: Before a disappointment word, these turn it into praise ("mai delusa", "never disappointed").
_NEGATIONS = frozenset("mai non never not no nessuna nessun don't didn't".split())
#: After "mai più" / "never again", these make it a promise of loyalty ("mai più senza").
_LOYAL = frozenset("senza without".split())


def disappointment(text: str) -> str | None:
    """The first phrase of disappointment or of a customer lost, unless negated or loyal.

    >>> disappointment("Che delusione"), disappointment("Mai delusa, bravissimi!")
    ('delusione', None)
    >>> disappointment("Mai più da voi"), disappointment("Mai più senza la vostra colomba")
    ('mai più', None)
    """
    low = text.lower()
    for match in _DISAPPOINTED.finditer(low):
        before = low[: match.start()].split()[-3:]
        after = low[match.end() :].split()[:1]
        if any(w.strip(",.!?") in _NEGATIONS for w in before):
            continue
        if after and after[0].strip(",.!?") in _LOYAL:
            continue
        return match.group(0)
    return None


def _but_after_praise(words: list[str], first_praise: str) -> bool:
    """Is there a "but" after the first praise word ("Grazie, ma il pacco...")?"""
    start = words.index(first_praise)
    return any(w in _BUT for w in words[start + 1 :])


def experience_first_person(words: list[str]) -> bool:
    """Does the comment tell the writer's own story ("my", "I waited", "ho aspettato")?"""
    return any(w in _FIRST_PERSON for w in words)


_FIRST_PERSON = frozenset("my me i'm i've we our ho abbiamo mio mia miei mie".split())


def denied_problems(text: str) -> list[str]:
    """The phrases of ``text`` that deny a problem ("never had a problem", "nessun problema").

    >>> denied_problems("Cliente da 10 anni e mai un problema. Never had any issues!")
    ['mai un problema', 'never had any issues']
    >>> denied_problems("The problem was never fixed")
    []
    """
    # most comments name no problem at all: five substring tests, not a scan
    return [m.group(0) for m in _NO_PROBLEM.finditer(text.lower())]


def _listed(words: list[str], present: set[str], vocabulary: frozenset[str]) -> list[str]:
    """The words of ``vocabulary`` found, once each, in order of appearance.

    ``present`` is ``set(words)``: most comments share no word with a cue list, and one set
    operation tells so without walking the words.
    """
    if present.isdisjoint(vocabulary):
        return []
    # a list built by a comprehension: a generator's frame costs more than the look-ups
    return list(dict.fromkeys([w for w in words if w in vocabulary]))


def _laughs_at_someone(s: KindInput, present: set[str]) -> bool:
    """Is the laughter of a comment aimed: at the page or its people, after a pause that sets up
    a punchline ("Best telco in the world... if you like pigeons 😂"), at something that happens
    only once a year, or in a text the model reads as clearly ironic?"""
    return (
        not present.isdisjoint(_LAUGHED_AT)
        or "..." in s.text
        or "…" in s.text
        or s.irony >= IRONY_STRONG
        or bool(_RARELY.search(s.text.lower()))
        or bool(_AIMED_AT.search(s.text.lower()))
        or bool(_NAMED_AND_ANSWERED.match(s.text))
    )


#: A name asked about and answered at once: "Asilo? Parcheggio custodito per bambini 😂",
#: "Theatre? More like a nap room". The laughter after such an answer is at the thing named.
_NAMED_AND_ANSWERED = re.compile(
    r"\s*[^\s?!.,]+(?:[^\S\n]+[^\s?!.,]+){0,4}\?[^\S\n]*(?!a*h+a+h|ha|lol|xd)[^\W\d_]{2}"
)


#: A rare event praised with laughter: "in orario due volte l'anno 😂", "on time for once lol".
#: What happens once a year is no achievement: the laughter is at the page.
_RARELY = _Rare(
    re.compile(
        r"\b(?:(?:una|due|tre) volt[ae] (?:l'anno|all'anno|al mese|ogni \w+)|per una volta|"
        r"once (?:a|every|in a) (?:year|month|decade|blue moon|lifetime)|twice a (?:year|decade)|"
        r"for once)\b"
    ),
    ("volt", "once", "twice"),
)

#: An insult by comparison with whoever made the thing: "una skin brutta quanto chi l'ha
#: disegnata", "as ugly as whoever designed it". It calls the page's people names.
_COMPARED_TO_MAKER = _Rare(
    re.compile(
        r"\b(?:brutt[oaie]|ugly|stupid[oaie]?|scem[oaie]|dumb|useless|inutil[ei]|lent[oaie]|slow)"
        r"\s+(?:quanto|come|as)\s+(?:chi|whoever|the (?:guy|person|people|one|ones|devs?|"
        r"designers?) who)\b"
    ),
    ("brutt", "ugly", "stupid", "scem", "dumb", "useless", "inutil", "lent", "slow"),
)
#: Every comparison of :data:`_COMPARED_TO_MAKER` opens with one of these words: one set
#: operation on the comment's words rules most comments out.
_MAKER_INSULT_WORDS = frozenset(
    """
    brutto brutta brutti brutte ugly stupid stupido stupida stupidi stupide scemo scema scemi
    sceme dumb useless inutile inutili lento lenta lenti lente slow
    """.split()
)

#: A question that answers itself with a mockery: "Who runs this page, a potato?", "Chi gestisce
#: la pagina, una scimmia?". An honest question offers no such guess after a comma.
_WHO_RUNS = re.compile(
    r"\b(?:who(?:'s|’s)?|chi)\s+(?:(?:ve|vi|ve l'|vi l'|l')\s*)?(?:runs|is running|running|"
    r"manages|writes|made|designed|coded|programmed|gestisce|scrive|cura|ha fatto|ha scritto|"
    r"ha scelto|ha progettato|ha disegnato|ha programmato)\b[^?.!\n]{0,40}?,"
    # "the" only before a guess no honest question makes: "the shop or head office?" asks
    r"\s*(?:(?:a|an|un|una|uno|un'|some|qualche|il|lo|la|your|vostro|vostra)\s*[\w']+|"
    r"the\s+(?:office\s+)?(?:cat|dog|intern|monkey|toddler|potato|hamster|goldfish))"
    r"(?:\s+[\w']+){0,3}\s*\?"
)

#: Every question of :data:`_WHO_RUNS` opens with one of these words.
_WHO_WORDS = frozenset({"who", "who's", "who’s", "chi"})

#: "@giulia guarda qui, sabato andiamo?": a friend tagged and shown the post. The question is
#: the friend's to answer, not the page's.
_FRIEND_TAGGED = re.compile(
    r"^\s*(?:@[\w.]+[\s,]+)+(?:guarda(?: qui| qua)?|guardate|vedi|hai visto|look(?: at this)?|"
    r"check (?:this|it) out|see this)\b"
)
#: A comment that opens by telling the reader it tags someone: "Tagging my mum", "Taggo Luca".
_TAGGING = re.compile(r"\s*(?:tagging|taggo|taggando|tagged|ti taggo|vi taggo)\b")

#: Enthusiasm in slang whose words read negative or offensive: "the new maps are insane 🔥",
#: "this update is sick af". Said of a thing, with "af" or a fire, star-eyes or raised hands; "this
#: delay is insane" has neither.
_HYPE = _Rare(
    re.compile(
        r"\b(?:is|are|was|were|looks?|looking|sounds?|è|sono|era)\s+"
        r"(?:(?:so|soo+|literally|actually|just|fucking|damn|lowkey)\s+)?"
        r"(?:sick|insane|fire|lit|dope|unreal|nuts|mental|goated|bonkers)(?P<af>\s+af)?\b"
        r"(?!\s+(?:of|with|to|and tired))"
    ),
    ("sick", "insane", "fire", "lit", "dope", "unreal", "nuts", "mental", "goated", "bonkers"),
)
_HYPE_EMOJI = ("🔥", "🤩", "😍", "🙌", "💯")
#: The slang words of :data:`_HYPE`: a comment without one skips the scan.
_HYPE_WORDS = frozenset("sick insane fire lit dope unreal nuts mental goated bonkers".split())

#: Encouragement to carry on, closing a comment: "bravi continuate così", "keep it up!". Beside a
#: praise word it praises, whatever the words before it read ("ci ho perso le notti").
_CARRY_ON = _Rare(
    re.compile(
        r"\b(?:continuate così|continua così|avanti così|keep it up|keep up the (?:good|great) work|"
        r"keep going|keep doing what you'?re doing)\b(?=[\s!.,\W]*$)"
    ),
    ("così", "keep"),
)


def _redeemed(toks: list[str], anger: list[str], praise: list[str]) -> list[str]:
    """The anger words of ``anger`` that a "but" and praise come after: "Horrible drive in the
    fog, but the slopes were perfect" ends on what the writer means."""
    last_praise = max((i for i, w in enumerate(toks) if w in praise), default=0)
    buts = [i for i, w in enumerate(toks[:last_praise]) if w in _BUT]
    if not buts:
        return []
    # a cue may be a phrase ("porca paletta") or an emoji: it stands where its first word does,
    # and one with no word among the tokens cannot be placed, so it is not redeemed
    first = {w: i for i, w in reversed(list(enumerate(toks)))}
    placed = {cue: first.get(next(iter(words(cue)), "")) for cue in anger}
    return [cue for cue, i in placed.items() if i is not None and i < buts[-1]]


#: "Something always goes wrong", "qualcosa va sempre storto": a problem named without telling it.
_VAGUE_PROBLEM = _Rare(
    re.compile(
        r"\b(?:something|qualcosa)\s+(?:always\s+|sempre\s+)?(?:goes|went|is|va|andava|è andat[oa])"
        r"\s+(?:always\s+|sempre\s+)?(?:wrong|storto)\b"
    ),
    ("something", "qualcosa"),
)

#: The other readers asked whether they watched something last night: "Qualcuno ha visto la
#: partita ieri sera?", "Did anyone watch the game last night?".
_READERS_ASKED = _Rare(
    re.compile(
        r"\b(?:qualcuno ha visto|avete visto|anyone (?:else )?(?:see|seen|watch|watched|catch|caught)|"
        r"did (?:anyone|anybody|you guys) (?:see|watch|catch))\b[^?\n]{0,40}?"
        r"\b(?:ieri sera|ieri|stasera|stanotte|last night|yesterday|tonight)\b"
        # who else is going: company sought among the readers ("Anyone going on the Saturday?",
        # "Chi viene sabato?")
        r"|\b(?:any(?:one|body) (?:else )?(?:going|coming|fancy|want(?:s|ing)? to (?:go|come|share))|"
        r"chi (?:viene|va|ci va|ci viene)|qualcuno (?:va|viene|ci va|ci viene))\b"
        # a memory or a moment shared with them ("Who else is watching?", "Anyone else remember
        # when this road had two lanes?", "Chi si ricorda il vecchio cinema?")
        r"|\b(?:who else (?:is|was|has|remembers|thinks|loves)|"
        r"any(?:one|body) (?:else )?remembers? when|chi (?:altro|si ricorda|se lo ricorda)|"
        r"qualcuno si ricorda|(?:vi|ve lo|ve la) ricordate)\b"
    ),
    (
        "visto",
        "anyone",
        "anybody",
        "you guys",
        "chi v",
        "chi ci",
        "qualcuno v",
        "qualcuno ci",
        "who else",
        "chi altro",
        "chi s",
        "qualcuno si",
        "ricordate",
    ),
)


#: A question that supposes ("If my order arrives late, can I...?", "Se il pacco arriva rotto,
#: lo cambiate?"): the problem it names has not happened.
_SUPPOSING = re.compile(
    # no newline among the blanks after the mark: see _SENTENCE_START
    r"(?:^|(?<=[.!?\n]))[^\S\n]*"
    # a polite opening before the supposing ("Scusate ma se...", "Sorry, but if...")
    r"(?:(?:scusate|scusi|scusa|sorry|excuse me|hi|hello|ciao|salve|buongiorno|una domanda|"
    r"quick question)[\s,:]+)?"
    r"(?:(?:and|but|e|ma|so|quindi)\s+)?"
    r"(?:if|what if|what happens if|in case|se|e se|nel caso|in caso|qualora)\b[^.!?\n]*\?"
)


#: Every supposing question holds one of these words.
_SUPPOSING_WORDS = frozenset("if case se caso qualora".split())


def _unsupposed(low: str, problems: list[str]) -> list[str]:
    """The ``problems`` of a question that are told, not supposed in an "if" sentence."""
    told = _SUPPOSING.sub(" ", low)
    if told == low:
        return problems
    told_words = set(words(told))
    return [p for p in problems if (p in told if " " in p else p in told_words)]


#: A comment that only greets or wishes a good day, week or holiday, to everyone or nobody.
_GREETING_FIRST = frozenset(
    """
    buon buona buone buongiorno buonasera buonanotte happy merry good have felice serena sereno
    auguri auguroni
    """.split()
)
_WISH = (
    r"(?:buon[ao]?|buone|happy|merry|good|have an? (?:nice|good|great|lovely|happy|wonderful)|"
    r"felice|serena|sereno|auguri(?: di)?(?: buon[ao]?| buone)?)"
)
_TIME = (
    r"(?:lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|weekend|week end|week|settimana|giornata|serata|notte|"
    r"morning|afternoon|evening|night|day|natale|christmas|xmas|pasqua|easter|anno|anno nuovo|"
    r"new year|feste|holidays|holiday|ferragosto|vacanze|capodanno|halloween|thanksgiving)"
)
_GREETED = (
    r"(?:a tutti|a tutte|a voi|a tutti voi|everyone|everybody|all|to all|to everyone|y'all|guys|"
    r"folks|people|ragazzi|amici|friends|team|gente)"
)
#: Used with ``match``, never ``fullmatch``: "auguri" alone and "auguri buon natale" are two ways
#: to read the same words, and a full match that fails tries every split of every repetition
#: (a few hundred characters of "auguri buon natale" took minutes); a match from the start
#: stops at its first success.
_GREETING_ONLY = re.compile(
    rf"(?:(?:{_WISH} {_TIME}|buongiorno|buonasera|buonanotte|auguri|auguroni)"
    rf"(?: {_GREETED})?(?: (?:e|and))? ?)+"
)


def _greeting_only(toks: list[str], praise: list[str]) -> bool:
    """Does a comment that opens with a greeting praise nothing after it? "Buon Natale a tutto lo
    staff!" and "Good morning from Brighton!" greet; "Buongiorno, torta buonissima" praises."""
    opening = _GREETING_ONLY.match(" ".join(toks))
    if opening is None:
        return False
    rest = set(words(opening.string[opening.end() :]))
    # the greeting's own "buona", "happy" are praise cues; only a cue after it, or a phrase of
    # praise anywhere, praises the page
    return all(" " not in p and p not in rest for p in praise)


#: Thanks that open a comment.
_THANKS_FIRST = frozenset("thank thanks grazie".split())
#: The writer says how angry they are: "I am so angry", "absolutely disgusted", "sono furiosa",
#: "che rabbia". Every match holds an anger word (ANGER_WORDS), so only texts with one look.
_DECLARED_ANGER = re.compile(
    r"\b(?:(?:i am|i'm|im) (?:so |absolutely |really |beyond |just )?(?:angry|furious|livid|fuming|"
    r"disgusted)|absolutely (?:disgusted|furious|livid|fuming)|furious doesn'?t|"
    r"sono (?:ancora |così |davvero |proprio |troppo |veramente )?(?:furios[oa]|incazzat[oa]|"
    r"arrabbiat[oa]|arrabbiatissim[oa])|"
    r"che rabbia)\b"
)

#: "Trash" as the waste a town collects, not a name called.
_TRASH_AS_WASTE = re.compile(
    r"\btrash (?:pickup|pick-up|collection|collector|bags?|cans?|bins?|day|truck|service)s?\b|"
    r"\b(?:take|taking|took) (?:out )?the trash\b"
)

#: The witness's own words, left out when the rest is read for a story of the writer's.
_WITNESS = re.compile(_WITNESSED)

#: Claim patterns that are claims only when the writer tells no story of their own.
_WEAK_CLAIMS = frozenset(
    {
        "cause claim",
        "accusation",
        "warning",
        "credentials",
        "settled fact",
        "scandal claim",
        "closure",
        "money trouble",
        "witness",
    }
)
#: The first person of a story: "I", "my", "ho"...
_TELLER = frozenset(
    "i i'm i've i'd i'll my me we we're we've our us io ho mio mia miei mie abbiamo".split()
)


def _told_by_writer(words: list[str]) -> bool:
    """Does the comment speak in the first person (:data:`_TELLER`)? "i" is also the Italian
    plural article ("i pannelli", "i fondi"): before a word ending in "i" it is read as that."""
    if _TELLER.isdisjoint(words):
        return False
    return any(
        w in _TELLER and (w != "i" or k + 1 == len(words) or not words[k + 1].endswith("i"))
        for k, w in enumerate(words)
    )


#: Words that point at the page or what it sells: a scandal named beside none of them is news.
_WHAT_IS_SOLD = frozenset(
    """
    you your you're yours they they're their them this these those vostro vostra vostri vostre voi
    vi loro questo questa questi queste sto sta sti ste vendete usate mettete fate producete
    vendono usano mettono fanno producono
    """.split()
)
#: Told by the page's own people, after the writer contacted them.
_STAFF_SAID = _Rare(
    re.compile(
        r"\b(?:ho chiamato|ho telefonato|ho scritto|ho contattato|al telefono|numero verde|l'assistenza|"
        r"in negozio|allo sportello|l'operatore|l'operatrice|i called|i phoned|on the phone|"
        r"the agent|customer service|the helpline)\b[^.!?]{0,80}?\b(?:mi hanno detto|"
        r"mi ha detto|mi è stato detto|they told me|i was told|she told me|he told me)\b"
    ),
    (
        "chiamato",
        "telefon",
        "scritto",
        "contattato",
        "verde",
        "negozio",
        "sportello",
        "assistenza",
        "operat",
        "called",
        "phone",
        "agent",
        "service",
        "helpline",
    ),
)

#: Thanks, or a verdict of praise, that close a comment (hashtags and emoji may follow). Not a
#: bare "thanks" or "grazie": customers close complaints with them ("Lied to my face at the
#: gate. Thanks.").
_CLOSING_PRAISE = _Rare(
    re.compile(
        r"\b(?:grazie (?:davvero|di cuore|infinite)|thank you so much|thanks so much|"
        # thanks given against the writer's own expectation: "...about an insurer, but thank you"
        r"(?:but|ma) (?:thank you|thanks|grazie)|"
        r"can'?t thank you enough|worth every (?:penny|cent)|(?<!not )(?<!n't )worth it|"
        r"(?<!non )ne vale la pena|(?<!non )ne è valsa la pena)\b"
        r"[^\w#]*(?:#\w+[^\w#]*)*$"
    ),
    ("grazie", "thank", "worth", "vale", "valsa"),
)
#: A superlative of what the writer had: "the best pizza I've ever had", "il pistacchio più
#: buono che abbia mai mangiato".
_BEST_EVER = _Rare(
    re.compile(
        r"\b(?:(?:best|nicest|tastiest|finest|friendliest)(?: [\w']+){1,2} (?:i|we)(?:'ve| have)? "
        r"ever (?:had|eaten|tasted|seen|tried|bought|met)|(?:più (?:buon|bell|gentil)[oaie]|"
        r"migliore|migliori) (?:che|di quell[oaie] che) (?:abbia|abbiamo|ho) mai)\b"
    ),
    ("best", "nicest", "tastiest", "finest", "friendliest", "più", "miglior"),
)
#: What has not come yet, told as an ongoing wait: "still waiting for my refund", "sono ancora in
#: attesa del rimborso". Like what never came, thanks after it are no praise.
_STILL_WAITING = re.compile(
    r"\b(?:still waiting (?:for|on)|(?:sto|stiamo) ancora aspettando|ancora aspett(?:o|iamo)|"
    r"aspett(?:o|iamo) ancora|ancora in attesa (?:di|del|della|dei|delle|dello))\b"
)
#: Every wait of :data:`_STILL_WAITING` holds one of these words.
_WAITING_WORDS = frozenset("waiting aspettando aspetto aspettiamo attesa".split())
#: Something that did not come or work, told with a plain negation: "my order never arrived",
#: "non è arrivato niente". Thanks after it are sarcasm or a polite close to a complaint.
_UNDONE = re.compile(
    r"\b(?:never (?:arrived|came|showed up|turned up|answered|replied|called back|got back|"
    r"refunded)|(?:hasn't|has not|haven't|have not|didn't|did not) (?:arrived?|come|came|"
    r"shown up|showed up|received|got back|called back|refunded)|(?:doesn't|does not|didn't|"
    r"did not) work|not working|"
    r"non (?:è|e'|sono|mi è|ci è) (?:ancora |mai )?arrivat[oaie]|mai arrivat[oaie]|"
    r"non (?:ho|abbiamo) (?:ancora |mai )?ricevuto|non funzion(?:a|ano|ava|avano)|"
    r"non (?:mi|ci) (?:hanno|ha) (?:ancora |mai )?(?:risposto|richiamat[oaie]|rimborsat[oaie]))\b"
)

#: Every match of :data:`_UNDONE` opens with one of these words.
_UNDONE_NEGATIONS = frozenset("never hasn't haven't didn't doesn't not non mai".split())


def praise_outright(low: str) -> str | None:
    """Thanks or a verdict of praise closing the lower-cased ``low``, or a superlative of what the
    writer had, unless something is told as never come or never working.

    >>> praise_outright("non è scontato. grazie davvero!"), praise_outright("never arrived, thanks")
    ('grazie davvero', None)
    """
    found = _CLOSING_PRAISE.search(low) or _BEST_EVER.search(low)
    if found is None or _UNDONE.search(low):
        return None
    return found.group(0).rstrip(" !.?,;:")


#: Gratitude beyond words: "can't thank you enough" ("enough" is otherwise an anger word).
_THANKED_ENOUGH = re.compile(r"\bthank (?:you|u|them|him|her|everyone|y'all) enough\b")

#: ``offensive`` and ``irony`` are probabilities for page comments, where about 8% of comments
#: are offensive and 12% ironic (the shipped models' base rates; see the model card). "Some" is
#: the odds a model trained on half-and-half tweets reads as a coin toss; "strong" is well above.
IRONY_SOME = 0.12
IRONY_STRONG = 0.25
OFFENCE_SOME = 0.04
OFFENCE_STRONG = 0.25


def decide_kind(s: KindInput) -> tuple[str, list[str]]:
    """Sort a comment into one of the playbook's kinds, with the rules that decided it.

    Precedence follows the cost of a mistake on the desk: spam first (never answer it), then wrong
    claims (they spread if uncorrected), then provocation and rants, then real complaints, questions
    and praise. The model scores alone are tuned on tweets; on short page comments they are noisy, so
    each kind also needs a cue a person can see (a claim pattern, an insult, mockery, shouting, a
    concrete problem) unless the model is very sure.
    """
    toks = s.words
    if s.spam >= 0.5:
        return "spam", [f"spam signal {s.spam:.2f}"]

    low = s.text.lower()
    # the failure wished in a taunt is no claim that the page is failing
    taunts = [m.group(0) for m in _FAILURE_WISHED.finditer(low)]
    claims = misguided_cues(_FAILURE_WISHED.sub(" ", low) if taunts else s.text)
    if claims == ["everyone knows"] and mockery_marks(low):
        # "Your game's dead and everyone knows it 💀": what everyone knows is a verdict backing a
        # taunt, not a fact to correct
        claims = []
    if claims and not set(claims).isdisjoint(_WEAK_CLAIMS):
        # the witness's own eyes tell no story of the witness's
        teller = words(_WITNESS.sub(" ", low)) if "witness" in claims else s.words
        if s.sentiment == "positive" or _told_by_writer(teller):
            # "that's why I fly with you", "è illegale quello che mi avete fatto": the writer's
            # own story, not a claim about the page
            claims = [c for c in claims if c not in _WEAK_CLAIMS]
    if "scandal claim" in claims and set(s.words).isdisjoint(_WHAT_IS_SOLD):
        # "L'esposizione ai pesticidi...", "a radiation safety conference": news about the
        # substance. A claim names what the page sells or does ("your coffee", "che vendete",
        # "sti giocattoli")
        claims.remove("scandal claim")
    if claims == ["rumour"] and _STAFF_SAID.search(low):
        # "ho chiamato il numero verde e mi hanno detto che è normale": what the page's own
        # people told the writer is their experience, not a rumour
        claims = []
    if claims and s.positive < 0.7:
        return "misguided", [f"claim pattern: {', '.join(claims)}"]
    taunts += [m.group(0) for m in _MOCK_PRAISE.finditer(low)]

    disguised = profanity.disguised(s.text, toks) if s.disguised is None else s.disguised
    if disguised:
        # "str0nzi", "f**k off", "vaffa": the rules below read the plain spelling, so a disguised
        # insult calls names and disguised swearing vents as the plain words do
        low = profanity.plainly(low, disguised)
        toks = words(low)
    if ("@" in low or "." in low) and not PROFANITY.isdisjoint(toks):
        # a vulgar word inside an e-mail address, a mention or a bare domain ("@fuck_jerry",
        # "shit.com") names someone or something: nobody swears or calls names there. The
        # comment as written tells a domain's ending from a sentence run into the next
        # ("merda.Io"); once a disguise is read, only the plain spelling holds the word.
        sworn = profanity.listed(toks, low if disguised else s.text)
        toks = [w for w in toks if w not in PROFANITY or w in sworn]
    caps, bangs = shouting(s.text)
    present = set(toks)
    anger = _listed(toks, present, _ANGER_CUES)
    insults = _listed(toks, present, INSULT_WORDS)
    if "trash" in insults and _TRASH_AS_WASTE.search(low):
        insults.remove("trash")  # "trash pickup", "take out the trash": the waste itself
    if anger:  # "fuck you": the swearing is aimed at someone
        insults += [m.group(0) for m in _SWORN_AT.finditer(low)]
    insults += [m.group(0) for m in _COMPARED_TO_BRAINS.finditer(low)]
    if not present.isdisjoint(_MAKER_INSULT_WORDS):
        insults += [m.group(0) for m in _COMPARED_TO_MAKER.finditer(low)]
    if insults and "porca" in present:
        exclaimed = {m.group(1) for m in _EXCLAIMED.finditer(low)}
        anger += [w for w in insults if w in exclaimed and w not in anger]
        insults = [w for w in insults if w not in exclaimed]
    if insults and "fanculo" in low and present.isdisjoint(_ADDRESSED):
        cursed = {m.group("w") for m in _EXCLAIMED_CURSE.finditer(low)}
        anger += [w for w in insults if w in cursed and w not in anger]
        insults = [w for w in insults if w not in cursed]
    vented = _vented(s.text, low, present)
    if vented:
        anger = list(dict.fromkeys([*anger, *vented]))
    if "enough" in anger and _THANKED_ENOUGH.search(low):
        anger.remove("enough")  # "can't thank you enough" has had enough of nothing
    marks = mockery_marks(low)
    mockery = list(marks)
    if s.question and not present.isdisjoint(_WHO_WORDS):
        mockery += [m.group(0) for m in _WHO_RUNS.finditer(low)]
    jeers = [] if present.isdisjoint(_TAUNT_WORDS) else [m.group(0) for m in _TAUNT.finditer(low)]
    mockery += jeers
    if (
        mockery
        and all(_LAUGHTER.fullmatch(m) for m in mockery)
        and not _laughs_at_someone(s, present)
    ):
        mockery = []  # "😂", "lol the dog in the photo": laughing along, at nobody
    experience = _listed(toks, present, EXPERIENCE_WORDS)
    problems = _listed(toks, present, PROBLEM_WORDS)
    problems += bad_outcomes(low, present)
    undone = None if present.isdisjoint(_UNDONE_NEGATIONS) else _UNDONE.search(low)
    if undone is None and not present.isdisjoint(_WAITING_WORDS):
        undone = _STILL_WAITING.search(low)  # not come yet: "still waiting for my refund"
    if undone:  # "my order never arrived": no problem word, but a concrete problem
        problems.append(undone.group(0))
    if "late" in problems and _LATE_AS_TIME.search(low):
        problems.remove("late")  # "the late opening on Friday" is a time of day, no delay
    if ("still" in problems or "ancora" in problems) and _LONG_AGO.search(low):
        # "back in the 80s, when it was still a tiny airline": remembered, not a problem again
        problems = [w for w in problems if w not in ("still", "ancora")]
        experience = [w for w in experience if w not in ("still", "ancora")]
    if _STILL_OFFERED.search(low) or _STILL_SO.search(low):
        # "Avete ancora la colomba", "Do you still have the lemon cake": asking whether it is
        # still on offer, not telling that something happened again
        problems = [w for w in problems if w not in ("still", "ancora")]
        experience = [w for w in experience if w not in ("still", "ancora")]
    if s.question and problems and not present.isdisjoint(_SUPPOSING_WORDS):
        problems = _unsupposed(low, problems)
    praise = _listed(toks, present, POSITIVE_CUES)
    if "top" in praise and _TOP_AS_PLACE.search(low):
        praise.remove("top")
    if praise and _THANKS_FOR_NOTHING.search(low):
        praise = []  # "grazie per niente", "..., no grazie" thank nobody
    denials = denied_problems(s.text)
    if denials:
        # the negation belongs to the denied problem: it is no complaint cue
        denied = {m.split()[0] for m in denials}
        problems = [w for w in problems if w not in denied]
    # a bare "no problem" is an idiom ("No problem, I'll wait"), not a verdict on the page
    no_problem = [d for d in denials if d != "no problem"]
    # "Thanks, but my refund has not arrived": thanks as a polite opening to a problem
    polite_opening = bool(praise) and _but_after_praise(toks, praise[0])
    praise += praise_phrases(low, present)
    if jeers and praise:
        # "Bello il logo nuovo, l'avete fatto fare a un bambino?": the praise is the set-up of
        # the taunt, which mocks however it applauds
        taunts += jeers
    idiom = praise_idiom(s.text, present)
    if praise and not idiom and not taunts and s.irony < IRONY_STRONG:
        cheer = _CARRY_ON.search(low)
        if cheer and not any(w in _SARCASM_TARGETS for w in problems):
            # "bravi, continuate così" closing a comment: praise, however the rest reads
            idiom = cheer.group(0)
    if idiom:
        praise.append(idiom)
    if praise and not polite_opening:
        # "Io invece ringrazio il negozio...": beside thanks, "instead" contrasts with the other
        # commenters, it is not a problem of the writer's
        problems = [w for w in problems if w not in _CONTRAST]
    # "era la fine del mondo" is what reads negative (and offensive) in a text that praises
    negativeish = (s.negative >= 0.4 or s.sentiment == "negative") and not idiom
    # the model reads the text as glad: positive above the other classes, negative below 0.4
    glad = s.sentiment == "positive" and not negativeish
    if glad:
        # "Un posto pazzesco!", "Unbelievable, best cake ever": anger or wonder, as the text reads
        anger = [w for w in anger if w not in _WONDER and w not in _SWEARING]
        if anger and praise:
            redeemed = _redeemed(toks, anger, praise)
            anger = [w for w in anger if w not in redeemed]
    if anger and praise and toks[0] in _THANKS_FIRST and not polite_opening:
        # "Thank you for looking after Max in his last days. You made an awful week bearable":
        # gratitude first, with no "but" after it; the hard words tell what the page helped with
        anger = []
    shouted = caps >= 0.6 or bangs >= 3
    if (praise or glad) and not problems and not negativeish:
        mockery = [m for m in mockery if m != "👏"]  # "Great job team 👏👏" is applause
    if not glad and not present.isdisjoint(_MOCK_NAMES):
        mockery += [m.group(0) for m in _MOCK_CHEER.finditer(low)]

    # Rager: names called in a shout or beside exasperation ("MAI PIÙ CON VOI!!! siete dei
    # ladri", "this app is garbage, so sick of it 🤬") vent; said calmly or with a laugh they bait.
    if insults and (shouted or vented) and not mockery:
        reasons = [f"insult: {', '.join(insults[:2])}"]
        if vented:
            reasons.insert(0, f"anger words: {', '.join(vented[:3])}")
        if shouted:
            reasons.append("shouting" if caps >= 0.6 else f"{bangs} exclamation marks")
        return "rager", reasons
    # Troll: insults or mockery aimed at the page, or a model very sure of offence without anger.
    if insults:
        reasons = [f"insult: {', '.join(insults[:2])}"]
        if s.offensive >= OFFENCE_STRONG:  # a low score beside an insult would only confuse
            reasons.append(f"offensive {s.offensive:.2f}")
        return "troll", reasons
    if taunts:  # wishing the page to fail, or the talent to fail, mocks however it applauds
        return "troll", [f"mockery: {', '.join([*taunts, *mockery][:2])}"]
    if mockery and (
        negativeish or s.irony >= IRONY_SOME or s.offensive >= OFFENCE_SOME or not praise
    ):
        return "troll", [f"mockery: {', '.join(mockery[:2])}"]

    # Sarcasm: praise words around a concrete problem ("oh great, another delay, love it"), with
    # an ironic tone or a mocking mark ("Ottimo servizio, come sempre in ritardo 👏"). "Great
    # cake, but the delivery was late" praises, then complains: no sarcasm.
    sarcasm_cues = [w for w in problems if w in _SARCASM_TARGETS]
    ironic = s.irony >= IRONY_STRONG
    if (ironic or mockery) and praise and sarcasm_cues and not polite_opening:
        tone = f"irony {s.irony:.2f}" if ironic else ", ".join(mockery[:2])
        reasons = [f"sarcasm: {tone}", f"praise around: {', '.join(sarcasm_cues[:2])}"]
        # told from the writer's own experience it is a complaint in sarcastic form
        return ("complaint" if experience_first_person(toks) else "troll"), reasons

    # Rager: angry venting, shouting; a rant that tells a real story is a complaint. Capitals
    # are loudness, not anger: shouting counts only in a text the model reads as negative, as a
    # lean (all-caps text leans negative) turned "NO STO MALE. SONO TROPPO BELLI." into a rant.
    # A question asked without its question mark, by its opening ("Fate anche torte senza
    # glutine", "Do you deliver to Monza"), is a customer asking: the offence model alone, below
    # even odds, does not make it a provocation ("senza", "glutine" read 0.29). With a question
    # or an exclamation mark the offence reading stands: provocations are often put as questions.
    plain_ask = (
        s.question
        and s.offensive < 0.5
        and not ("?" in s.text or "!" in s.text)
        and (asks_yes_or_no(s.text) or bool(_CLITIC_ASK.search(low)) or bool(_asks_which(low)))
    )
    offended = s.offensive >= OFFENCE_STRONG and not plain_ask
    if anger or (shouted and s.sentiment == "negative") or (offended and negativeish):
        reasons = []
        if anger:
            reasons.append(f"anger words: {', '.join(anger[:3])}")
        if shouted:
            reasons.append("shouting" if caps >= 0.6 else f"{bangs} exclamation marks")
        if offended:
            reasons.append(f"offensive {s.offensive:.2f}")
        # a story of one's own with a concrete problem is a complaint, however it is told; with
        # no anger word, only the offence model's reading, one first-person cue is enough: "La mia
        # colomba aveva un odore strano" reads 0.30 offensive (feminine nouns lean offensive, see
        # the model card), and it is the customer's own problem
        if problems and vented:
            # "can't", "non" inside "I can't take it anymore", "non ce la faccio più" vent; they
            # tell no problem
            said = {w for phrase in vented for w in phrase.split()}
            problems = [w for w in problems if w not in said]
        if problems and not present.isdisjoint(("wrong", "storto")) and _VAGUE_PROBLEM.search(low):
            # "every time something goes wrong": a problem named, none told
            problems = [w for w in problems if w not in ("wrong", "storto")]
        declared = _DECLARED_ANGER.search(low) if anger else None
        if declared:
            # "I am so angry right now. Third time the app charged me twice": the story is
            # told, but as venting, by the writer's own account
            reasons.append(f"declared: {declared.group(0)}")
        elif problems and not shouted and (len(experience) >= 2 or (experience and not anger)):
            return "complaint", [*reasons, f"experience: {', '.join(experience[:3])}"]
        if anger or shouted:
            return "rager", reasons
        if "i" in present and any(p in _STRONG_PROBLEMS for p in problems):
            # "The car I picked up smelled like smoke": only the offence model's reading, and the
            # writer's own concrete problem, told with "I" rather than "my"
            return "complaint", [*reasons, f"problem: {', '.join(problems[:3])}"]
        return "troll", reasons

    # Complaint: an unhappy customer's own experience of a concrete problem.
    # "thanks for fixing my broken phone"; two praise words are thanks whatever the model leans
    # to ("Thanks for replacing my broken phone so quickly, really appreciated")
    thanked = (
        bool(praise)
        and (s.positive > s.negative or len(praise) >= 2)
        and not polite_opening
        and not undone  # "My order never arrived. Thank you so much"
    )
    concrete = bool(problems) and any(p not in _WEAK_PROBLEMS for p in problems)
    # Thanks or praise that closes the comment ("...non è scontato. Grazie davvero", "Not cheap
    # but worth every penny"), or a superlative of what was had ("il pistacchio più buono che
    # abbia mai mangiato"): the writer leaves the page with praise, and a negation or "still"
    # on the way is no problem, however the model reads the words
    outright = None if concrete else praise_outright(low)
    if outright is not None:
        praise.append(outright)
        thanked = True
    # without a problem word, only a clearly negative reading makes a story a complaint: "Tagging
    # my sister, she'll want to see this" is not one because the model leans negative at 0.43
    unhappy = s.negative >= 0.5 and not praise and not denials
    # "Big win tonight, let's do it again tomorrow!": in a short story the model reads as glad,
    # a negation, "again" or "still" is no problem. A longer story ("ordered on 3 May, not
    # arrived yet, called twice") or thanks before a "but" is a complaint however it reads.
    glad_story = (
        glad
        and bool(experience)
        and not polite_opening
        and all(p in _WEAK_PROBLEMS for p in problems)
        and len([w for w in experience if w not in _WEAK_PROBLEMS]) < 2
        and not _DIGIT.search(s.text)
    )
    # "Thanks for the quick reply, but the jacket is a different colour from the photos": thanks
    # and a "but" before a concrete problem tell the writer's own story, in whatever words
    polite_story = polite_opening and concrete
    # something told as never come or never working is an experience, whoever's it is
    told = experience or polite_story or undone
    # "Io sono ancora al livello 32, mia moglie non ci crede 😂": a story of one's own life told
    # laughing, with no concrete problem, is chat
    light = not concrete and (
        any(_LAUGHTER.fullmatch(m) for m in marks) or "😅" in low or "😋" in low
    )
    if told and (problems or unhappy) and not thanked and not glad_story and not light:
        # one experience word is enough when it is the writer's own concrete problem ("my cake
        # smelled"); a negation or "still" alone is no such problem ("mio figlio non...")
        own_problem = (experience_first_person(toks) or polite_opening) and concrete
        if (
            len(experience) >= 2
            or any(map(str.isdigit, s.text))
            or negativeish
            or own_problem
            or undone
        ):
            reasons = [f"experience: {', '.join(experience[:3])}"] if experience else []
            if problems:
                reasons.append(f"problem: {', '.join(problems[:3])}")
            if negativeish:
                reasons.append(f"negative {s.negative:.2f}")
            # A question is a complaint only with a concrete problem in it or a clearly
            # negative tone: "how much is delivery?" mentions delivery but asks a price.
            if not s.question or problems or s.negative >= 0.7:
                return "complaint", reasons

    # Disappointment, or a customer lost: "Delusa", "Very disappointed", "Mai più da voi". No
    # story, no problem word, but an unhappy customer the page should answer.
    let_down = disappointment(s.text)
    if let_down and not thanked:
        reasons = [f"disappointment: {let_down}"]
        if negativeish:
            reasons.append(f"negative {s.negative:.2f}")
        return "complaint", reasons

    if _TAGGING.match(low):
        # "Tagging my mum because she'll love this", "taggo mia sorella": the comment is for the
        # friend, whatever it says of the page
        return "other", ["a friend tagged"]
    if s.question:
        if "@" in s.text and _FRIEND_TAGGED.match(low):
            return "other", ["a friend tagged"]
        if present.isdisjoint(_FIRST_PERSON) and _READERS_ASKED.search(low):
            # "Qualcuno ha visto la partita ieri sera?": the other readers are asked what they
            # watched; nothing for the page to answer. "Has anyone seen my scarf" stays a question.
            return "other", ["asks the other readers"]
        return "question", ["asks something"]

    if toks and toks[0] in _GREETING_FIRST and _greeting_only(toks, praise):
        # "Buona domenica a tutti", "Happy Friday everyone", "Good morning from Brighton!": glad,
        # but about the day, not the page
        return "other", ["a greeting"]

    content = [w for w in toks if w.isalpha()]
    if no_problem:
        # a problem denied is satisfaction, whatever the model reads in "never" and "problem"
        reasons = [f"no problem: {no_problem[0]}"]
        if praise:
            reasons.append(f"praise words: {', '.join(praise[:3])}")
        return "praise", reasons
    if idiom:  # its words are what the model reads as negative
        return "praise", [f"praise words: {', '.join(praise[:3])}"]
    if praise and (s.negative < 0.6 or outright is not None):
        return "praise", [f"praise words: {', '.join(praise[:3])}", f"positive {s.positive:.2f}"]
    # beside praise words, a denied problem explains a negative reading ("No problem at all,
    # thanks for the quick fix")
    if praise and denials:
        return "praise", [f"praise words: {', '.join(praise[:3])}", f"no problem: {denials[0]}"]
    wonder = [w for w in toks if w in _AMAZED] if glad else []
    if wonder:  # "Un posto pazzesco, torneremo!": wonder in a glad text is praise
        return "praise", [f"wonder: {', '.join(wonder[:2])}", f"positive {s.positive:.2f}"]
    if s.positive >= 0.75 and len(content) >= 3 and not set(content) <= _NON_CONTENT:
        return "praise", [f"positive {s.positive:.2f}"]
    if negativeish and problems and len(content) >= 4 and not light:
        return "complaint", [f"negative {s.negative:.2f}", f"problem: {', '.join(problems[:3])}"]
    return "other", []
