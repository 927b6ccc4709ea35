"""Vulgar words seen through their disguises, and ordinary words left alone."""

from __future__ import annotations

import random
import re

import pytest

from crisisdesk.analysis import lexicon, profanity, rules
from crisisdesk.analysis.fast import FastAnalyzer, LexiconScorer
from tests.analysis.test_analyzer import NEUTRAL, FixedScorer
from tests.analysis.test_rules import LONG, _kind, _quickly


def _seen(text: str) -> list[tuple[str, str]]:
    """(as written, the listed word) of each disguised vulgar word of ``text``."""
    return [(v.written, v.word) for v in profanity.disguised(text, rules.words(text))]


@pytest.mark.parametrize(
    ("text", "written", "word"),
    [
        # masked letters: the same length, the letters shown agree, the first letter kept
        ("Che f*ck di servizio", "f*ck", "fuck"),
        ("F**K OFF", "f**k", "fuck"),
        ("what the f***", "f***", "fuck"),
        ("this is f*cking ridiculous", "f*cking", "fucking"),
        ("ma che c***o dite", "c***o", "cazzo"),
        ("che c@zzo fate", "c@zzo", "cazzo"),
        ("servizio di merd@", "merd@", "merda"),
        ("Che c.zzo dici", "c.zzo", "cazzo"),
        ("full of sh!t", "sh!t", "shit"),
        ("same s**t every day", "s**t", "shit"),
        ("you b*stards", "b*stards", "bastards"),
        ("motherf***er", "motherf***er", "motherfucker"),
        ("sei una p*ttana", "p*ttana", "puttana"),
        # one run of masks between a kept start and end stands for any number of letters
        ("Vaff***lo a tutti", "vaff***lo", "vaffanculo"),
        # look-alike digits and symbols
        ("what a load of sh1t", "sh1t", "shit"),
        ("servizio di m3rda", "m3rda", "merda"),
        ("sei uno str0nzo", "str0nzo", "stronzo"),
        ("siete degli str0nzi", "str0nzi", "stronzi"),
        ("holy $hit", "$hit", "shit"),
        ("che cazz0", "cazz0", "cazzo"),
        # elongations
        ("fuuuuck this", "fuuuuck", "fuck"),
        ("FUUUCK YOU", "fuuuck", "fuck"),
        ("cazzooo che ritardo", "cazzooo", "cazzo"),
        ("cazzzzo", "cazzzzo", "cazzo"),
        ("stupid bitchhh", "bitchhh", "bitch"),
        ("che merdaaaa", "merdaaaa", "merda"),
        # spelled out
        ("f.u.c.k this", "f.u.c.k", "fuck"),
        ("f u c k you", "f u c k", "fuck"),
        ("che m e r d a", "m e r d a", "merda"),
        ("F. U. C. K.", "f. u. c. k", "fuck"),
        # clipped forms
        ("stfu", "stfu", "fuck"),
        ("fck this airline", "fck", "fuck"),
        ("ma vaffa!", "vaffa", "vaffanculo"),
        ("fuckin' delays", "fuckin", "fucking"),
        ("ffs, again", "ffs", "fuck"),
        ("gtfo with your fake discount", "gtfo", "fuck"),
        ("WTF is going on with my refund?", "wtf", "fuck"),
        ("Di nuovo in ritardo, wtf", "wtf", "fuck"),
        # an apostrophe the tokeniser keeps inside the word
        ("Oh for fuck's sake, again", "fuck's", "fuck"),
        ("For fuck’s sake", "fuck’s", "fuck"),
        ("Shit's broken again", "shit's", "shit"),
        ("this shit'll never ship", "shit'll", "shit"),
        ("that bastard's luggage", "bastard's", "bastard"),
        ("Quel connard, l'enculé", "l'enculé", "enculé"),
    ],
)
def test_each_disguise_reads_as_its_listed_word(text: str, written: str, word: str) -> None:
    assert _seen(text) == [(written, word)]
    assert written in profanity.profanity(text, rules.words(text))


@pytest.mark.parametrize(
    "text",
    [
        # words that hold a listed word, or look like one
        "Top of the class, I would assess it again",
        "A cocktail in Scunthorpe, then shiitake for dinner",
        "The class's assessment: it's fine, we're done, I'd go, l'amico d'accordo dell'albergo",
        "Una cazzola nuova per il cantiere di Cazzago",
        "Passeggiata in p.zza Duomo e c.so Italia con la dott.ssa Bianchi",
        # ratings, prices and stars
        "Rated 5***** by everyone, I give it 5* too",
        "$$$ but worth it, from $39 a night",
        "great***** and the price* is right",
        "M*A*S*H reruns",
        # mentions, hashtags, e-mails and links
        "ciao @cazzola, guarda qui",
        "scrivete a c@zzo.it o a info@m3rda.com",
        "https://t.co/f4ck and www.sh1t.example.com",
        # abbreviations and letters
        "F.lli Rossi s.p.a., s.r.l. dal 1950",
        "e.g. the 3pm flight, a.m. or p.m., U.S.A.",
        "a b c, w/ my b/c and r u ok",
        # codes and numbers
        "A320 on flight UA1234, gate B6, an F150 truck, covid19, mp3, h1n1",
        "C# and C++ at AT&T",
        # elongations and shouts of ordinary words
        "soooo good, noooo, zzz, hmmm, shhh, Grazie!!!",
        # mild or ambiguous abbreviations left out on purpose
        "omg, omfg, lmao, lmfao, fml, bs, af, pos, kung fu, fu il migliore",
        # two words joined by a star, or a star for emphasis: no listed word's shape
        "Really helpful*ma la coda era lunga",
        "*proud*RT what a show, io NN ce la posso fare*_*",
        "grazie*mille, super*gentili",
    ],
)
def test_ordinary_words_are_no_disguise(text: str) -> None:
    assert _seen(text) == []
    assert profanity.profanity(text, rules.words(text)) == []


def test_a_mask_keeps_the_first_letter_and_the_length() -> None:
    assert _seen("*uck off") == []  # the first letter hidden: too little to go on
    assert _seen("f** this") == []  # three letters: not the shape of a listed word
    assert _seen("f*****g") == [("f*****g", "fucking")]
    assert _seen("f******g") == []  # eight letters: no listed f-word of that length
    # two masks or more may stand for any number of letters, with three letters kept; one mask
    # is one letter
    assert _seen("vaff*lo") == []
    assert _seen("f**o") == []


def test_offsets_point_into_the_lower_cased_comment() -> None:
    text = "Che C@ZZO dite, F U C K off"
    low = text.lower()
    found = profanity.disguised(text, rules.words(text))
    assert [low[v.start : v.end] for v in found] == ["c@zzo", "f u c k"]
    assert profanity.plainly(low, found) == "che cazzo dite, fuck off"


def test_every_listed_spelling_keeps_two_letters_and_reads_as_a_listed_word() -> None:
    for spelling, word in profanity._SPELLINGS.items():
        assert sum(c.isalpha() for c in spelling) >= 2, spelling
        assert word in lexicon.PROFANITY, (spelling, word)
    # a clipped form is its own word, not part of the plain list
    assert lexicon.PROFANITY.isdisjoint(lexicon.PROFANITY_SHORT)


def test_a_disguised_insult_is_called_as_the_plain_one() -> None:
    negative = {"sentiment": "negative", "negative": 0.7}
    for disguised, plain in [
        ("Siete degli str0nzi", "Siete degli stronzi"),
        ("you b*stards", "you bastards"),
        ("f u c k you", "fuck you"),
        ("vaffa voi e il vostro sconto", "vaffanculo voi e il vostro sconto"),
    ]:
        kind, reasons = _kind(disguised, **negative)
        assert (kind, reasons) == _kind(plain, **negative), disguised
        assert kind == "troll", disguised
    # swearing at the situation vents, disguised or not
    assert _kind("ma vaffa, pioggia anche oggi", **negative)[0] == "rager"
    assert _kind("che c@zzo di servizio", **negative)[0] == "rager"


def test_a_disguised_vulgar_comment_is_offensive_with_the_word_as_written() -> None:
    analyzer = FastAnalyzer(FixedScorer(NEUTRAL, offensive=0.05))
    insult, swearing, spelled, clean = analyzer.analyze_many(
        [
            "Siete degli str0nzi, voi e le vostre torte",
            "Che c***o di servizio, f.u.c.k",
            "m e r d a",
            "Il negozio apre alle 9, p.zza Duomo 5*****",
        ]
    )
    for vulgar in (insult, swearing, spelled):
        assert vulgar.offensive == lexicon.PROFANITY_FLOOR
    assert "offensive: profanity: str0nzi" in insult.reasons
    assert "offensive: profanity: c***o, f.u.c.k" in swearing.reasons
    assert "offensive: profanity: m e r d a" in spelled.reasons
    assert insult.kind == "troll"  # called names, as "stronzi" would be
    assert swearing.kind == "rager"  # swearing about the service vents
    assert clean.offensive == 0.05 and not any("profanity" in r for r in clean.reasons)


def test_italian_vulgar_forms_are_listed_one_by_one() -> None:
    def vulgar(text: str) -> list[str]:
        return profanity.profanity(text, rules.words(text))

    assert vulgar("Che stronzata questo sconto, sono solo minchiate") == ["stronzata", "minchiate"]
    assert vulgar("Una minchiata dopo l'altra, prodotti merdosi") == ["minchiata", "merdosi"]
    assert vulgar("E sticazzi? Siete dei succhiacazzi") == ["sticazzi", "succhiacazzi"]
    # the stem "cazz" is no rule: a trowel, a film's word, a town, and anger without swearing
    assert vulgar("Con la cazzuola a Cazzago, altro che supercazzola: sono incazzato") == []


def test_a_vulgar_name_called_is_an_insult_and_wtf_swears() -> None:
    negative: dict[str, float | bool | str] = {"sentiment": "negative", "negative": 0.7}
    assert _kind("Siete dei succhiacazzi", **negative)[0] == "troll"
    # "wtf" swears at the situation, as "what the fuck" does
    assert _kind("The app crashed again, wtf", **negative) == _kind(
        "The app crashed again, fuck", **negative
    )


@pytest.mark.parametrize(
    "text",
    [
        "Mr F*** at the desk was lovely",
        "Mrs C*** helped me rebook",
        "I complained to Ms. S*** and Dr. B****** about it",
        "Il Sig. S****** mi ha risposto subito",
        "La Sig.ra M***a e la Dott.ssa P****** sono state gentili",
        "Ringrazio il dott. C***o per la pazienza",
    ],
)
def test_a_masked_name_after_a_title_is_no_swearing(text: str) -> None:
    assert _seen(text) == []
    assert profanity.profanity(text, rules.words(text)) == []


def test_a_title_spares_only_the_word_right_after_it() -> None:
    assert _seen("F*** off, Mr S***") == [("f***", "fuck")]
    assert _seen("Che c***o, sig. Rossi") == [("c***o", "cazzo")]
    assert _seen("Mr. Rossi is a b*stard") == [("b*stard", "bastard")]
    # the kinds do not read a masked name as masked swearing either
    kind, reasons = _kind("Mrs B***n at the gate was rude and my flight was cancelled")
    assert kind == "complaint" and not any("anger" in r for r in reasons)


@pytest.mark.parametrize(
    "text",
    [
        "Per il rimborso scrivete a merda.secca@example.it",
        "Write to shit.happens@example.com for a refund",
        "Grazie @la_merda_band per la serata",
        "Loved the set by @fuck_jerry and @str0nzo_official",
        "Menu at www.shit.example/cazzo and https://example.com/fuck-this",
    ],
)
def test_words_in_emails_mentions_and_links_are_no_swearing(text: str) -> None:
    assert profanity.profanity(text, rules.words(text)) == []


def test_hashtags_and_words_beside_a_handle_still_count() -> None:
    def vulgar(text: str) -> list[str]:
        return profanity.profanity(text, rules.words(text))

    assert vulgar("@united what the fuck #fuck_united #bullshit") == ["fuck", "bullshit"]
    assert vulgar("Che merda, scrivo a info@merda.it") == ["merda"]
    assert vulgar("@user ma vaffa, str0nzo") == ["vaffa", "str0nzo"]
    # a handle calls nobody names in the kinds either
    assert _kind("Loved the set by @bitch_please last night!", sentiment="positive")[0] != "troll"
    assert _kind("@bitch_please you bitch", sentiment="negative")[0] == "troll"


def test_apostrophes_are_read_here_and_the_tokens_stay_as_they_were() -> None:
    text = "Oh for fuck's sake, questo shit'll non funziona mai"
    assert rules.words(text)[:4] == ["oh", "for", "fuck's", "sake"]  # other code reads these
    assert profanity.profanity(text, rules.words(text)) == ["fuck's", "shit'll"]
    analysis = FastAnalyzer(FixedScorer(NEUTRAL, offensive=0.05)).analyze(text)
    assert analysis.offensive == lexicon.PROFANITY_FLOOR
    assert "offensive: profanity: fuck's, shit'll" in analysis.reasons


def test_the_word_list_scorer_counts_a_disguised_vulgar_word_as_the_plain_one() -> None:
    def offence(*texts: str) -> list[float]:
        return [s.offensive for s in LexiconScorer().score(texts, [None] * len(texts))]

    assert offence("Siete degli str0nzi, idioti") == offence("Siete degli stronzi, idioti")
    assert offence("f**k you and your b*stards") == offence("fuck you and your bastards")
    assert offence("What a sh1t airline") == offence("What a shit airline")
    assert offence("For fuck's sake") == offence("For fuck sake")
    # two vulgar words are more than the floor, disguised or not
    assert offence("che c@zzo, str0nzi")[0] > lexicon.PROFANITY_FLOOR
    # a handle and a masked name are no swearing here either
    assert offence("Loved the set by @fuck_jerry", "Mr F*** was kind") == offence("Loved it") * 2


def test_a_long_word_before_an_at_sign_is_read_once() -> None:
    text = "a" * LONG + "@ f*ck"
    found = _quickly(lambda: profanity.disguised(text, rules.words(text)))
    assert [v.word for v in found] == ["fuck"]
    # an address is blanked as before, its local part up to the 64 characters it may have
    local = "x" * 64
    for address in ("merda.secca@example.it", f"{local}@cazzo.example", "a+b-c.d@x-y.it"):
        assert (
            profanity._without_handles(f"scrivi a {address}, ok")
            == f"scrivi a {' ' * len(address)}, ok"
        )


def _vulgar(text: str) -> list[str]:
    return profanity.profanity(text, rules.words(text))


@pytest.mark.parametrize(
    ("text", "written", "word"),
    [
        # a listed word opens the tag, the rest in one case
        ("@united ore in coda #fuckoff", "fuckoff", "fuck"),
        ("Volo cancellato, #FUCKUNITED", "fuckunited", "fuck"),
        ("Terza volta in un mese #merdadiservizio", "merdadiservizio", "merda"),
        ("Delays again #shittydeal", "shittydeal", "shitty"),
        ("#merdaday is trending", "merdaday", "merda"),
        # further in, a listed word the capitals mark as a word
        ("Ennesima sconfitta #JuveMerda", "juvemerda", "merda"),
        ("#GrilloHaRottoIlCazzo", "grilloharottoilcazzo", "cazzo"),
        ("Don't care #ThisIsBullshit2024", "thisisbullshit2024", "bullshit"),
        # a listed word opens the tag and its capitals show it too
        ("#FuckUnited and the horse they rode in on", "fuckunited", "fuck"),
        ("Che pena #CazzoLa finale", "cazzola", "cazzo"),
    ],
)
def test_a_listed_word_run_together_in_a_hashtag_counts(text: str, written: str, word: str) -> None:
    assert _seen(text) == [(written, word)]
    assert _vulgar(text) == [written]


@pytest.mark.parametrize(
    "text",
    [
        # Scunthorpe: a listed word inside an ordinary one, or across two
        "#scunthorpe #Scunthorpe #classic #cocktail #assistenza #mustwatch",
        "#emmerdale stasera, #asuainsaputa, #disputa in corso, #omofobo no",
        # an ordinary word that opens with a listed one
        "Una #cazzola nuova, un #Cazzotto, la #cazzimma, la #puttanesca",
        "#prickly pears, #pricked, #shitake risotto, #putative, i #troiani, la #salopette",
        # a clipped form opens the tag: too short to tell ("cazz", "fuk", "ffs")
        "#cazzullo sul Corriere, #fukushima, #ffstatus",
        # a listed word in a tag of one case, not at its start
        "#juvemerda #crazybitch",
        # a clipped form the capitals mark: let go, as plainly cannot write it apart
        "#WtfUnited",
        # a "#" after a word character is a mask or a code, not a tag: "C#", "&#39;"
        "C# and F#, it&#39;s fine",
    ],
)
def test_words_that_only_hold_a_listed_word_in_a_hashtag_are_no_swearing(text: str) -> None:
    assert _seen(text) == []
    assert _vulgar(text) == []


def test_a_hashtag_word_is_written_apart_for_the_kinds() -> None:
    text = "#fuckoff #JuveMerda #GrilloHaRottoIlCazzo"
    low = text.lower()
    found = profanity.disguised(text, rules.words(text))
    assert [low[v.start : v.end] for v in found] == [v.written for v in found]
    assert profanity.plainly(low, found) == "#fuck off #juve merda #grilloharottoil cazzo"
    negative: dict[str, float | bool | str] = {"sentiment": "negative", "negative": 0.7}
    # swearing in a tag vents as the plain word does; told to the page, it insults
    assert _kind("Terzo ritardo oggi #merdaday", **negative) == _kind(
        "Terzo ritardo oggi merda day", **negative
    )
    assert _kind("#merdaday", **negative) == ("rager", ["anger words: merda"])
    assert _kind("you lost my bag again #fuckoff", **negative) == _kind(
        "you lost my bag again fuck off", **negative
    )
    # a vulgar form listed whole ("puttanata", nonsense) is read whole: it swears, it calls no
    # one a whore
    assert _vulgar("Basta con le puttanate #PuttanataDellaSettimana") == [
        "puttanate",
        "puttanatadellasettimana",
    ]
    assert _kind("#PuttanataDellaSettimana", **negative)[0] == "rager"


@pytest.mark.parametrize(
    "text",
    [
        "Il negozio online è shit.com, che nome",
        "Andate su fuck.it per lo sconto",
        "Ordered from Merda.COM/shop and FUCK.Net",
        "See fuck.example.co.uk/deals, or shit.xyz",
        "www.xxx-fuck.com has it cheaper",
        "Il sito fuck.it? Sì, fuck.it.",
    ],
)
def test_words_in_bare_domains_are_no_swearing(text: str) -> None:
    assert _vulgar(text) == []
    analysis = FastAnalyzer(FixedScorer(NEUTRAL, offensive=0.05)).analyze(text)
    assert analysis.offensive == 0.05


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # a sentence run into the next: "Io" (I) and "It" are capitalised, "this" is no domain
        ("48 minuti alla fine di questa merda.Io e voi?", ["merda"]),
        ("What a shit.It never works", ["shit"]),
        ("SHIT.IT NEVER WORKS", ["shit"]),
        ("oh fuck.this again", ["fuck"]),
        # words of the desk's languages are no top-level domain here: "io", "me", "us", "es"
        ("che merda.io non ci torno, fuck.me, fuck.us", ["merda", "fuck"]),
        # the writer's own words beside a domain still count
        ("Che merda, il sito merda.com non va", ["merda"]),
        ("shit.com is shit", ["shit"]),
    ],
)
def test_a_word_beside_a_dot_that_is_no_domain_still_counts(text: str, said: list[str]) -> None:
    assert _vulgar(text) == said


def test_hashtags_and_domains_are_read_once() -> None:
    for text in (
        "#" * LONG,
        "#" + "a" * LONG,
        "#fuck" + "Ab" * LONG,
        "#Fuck" * LONG,
        "a." * LONG + " merda",
        ("a" * 63 + ".") * (LONG // 64) + " merda",
        "a" * LONG + ".com merda",
        "a-" * LONG + ".com merda",
        "merda.it " * (LONG // 9),
        "fuuuck f*ck " * (LONG // 12),
        "shit.com #fuckoff f*ck " * (LONG // 23),
    ):
        words = rules.words(text)
        found = _quickly(lambda t=text, w=words: profanity.disguised(t, w))  # type: ignore[misc]
        _quickly(lambda t=text, w=words: profanity.listed(w, t))  # type: ignore[misc]
        _quickly(lambda t=text, f=found: profanity.plainly(t.lower(), f))  # type: ignore[misc]


def _tagged_texts() -> list[str]:
    """Hashtags holding listed words or near misses, in every case and beside handles, links and
    domains that blanking turns into the space a tag needs before it."""
    rng = random.Random(5)
    words = sorted(lexicon.PROFANITY) + ["stfu", "wtf", "cazz", "fuk"]
    pieces = [w.upper() for w in words] + [w.capitalize() for w in words]
    pieces += [w[:-1] for w in words] + [w[1:] for w in words] + words
    pieces += ["Juve", "Grillo", "Ha", "United", "air", "ſhit", "FUC\u212a", "SHİT", "SCHEIẞE"]
    pieces += ["Σ", "ς", "e\u0301", "٣", "2", "_", "😀", "Shi", "t", "Fu", "ck", "fu", "CK"]
    glue = ["", "", "#", " #", "@x", "@", "x.com", "http://x.", "www.", "&", ".", " ", "-"]
    texts = []
    for _ in range(4000):
        parts = [rng.choice(pieces) for _ in range(rng.randrange(1, 4))]
        parts += [rng.choice(glue) for _ in range(rng.randrange(1, 4))]
        rng.shuffle(parts)
        texts.append("#" + "".join(parts) if rng.random() < 0.5 else "".join(parts))
    return texts + ["@user#FuckOff", "x.com#merda", "#JuveMerda", "#fuckoff", "#CazzolaMerda"]


def test_tags_with_no_listed_word_are_turned_down_as_reading_them_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = _tagged_texts()
    quick = [profanity.disguised(t, rules.words(t)) for t in texts]
    assert any(quick), "no text read as disguised: the test tests nothing"
    monkeypatch.setattr(profanity, "_LISTED_ANYWHERE", re.compile(""))  # every text read
    for text, found in zip(texts, quick, strict=True):
        assert profanity.disguised(text, rules.words(text)) == found, text


def test_the_listed_words_are_found_anywhere_as_by_substring() -> None:
    for text in _tagged_texts():
        plain = any(w in text for w in lexicon.PROFANITY)
        assert (profanity._LISTED_ANYWHERE.search(text) is not None) == plain, text


def test_lower_casing_twice_changes_nothing() -> None:
    # a tag's capitals are lower-cased apart from the comment when lower-casing changed its
    # length: a listed word there is one in the lower-cased comment as well
    for code in range(0x110000):
        low = chr(code).lower()
        assert low.lower() == low, hex(code)
