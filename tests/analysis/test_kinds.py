"""The playbook kinds on the project's own labelled comments (Italian and English).

``fixtures/kinds.csv`` was written for the project: realistic comments under the pages of a bakery, a
rail company and a telco, one kind each. No public set labels these kinds, so this is the check. The
floor asserted below is the figure measured with the shipped models, rounded down: a change that
makes the kinds worse fails here.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from crisisdesk.analysis import KINDS, Analyzer, load_analyzer

FIXTURE = Path(__file__).parent / "fixtures" / "kinds.csv"

HOLDOUT = Path(__file__).parent / "fixtures" / "kinds_holdout.csv"

#: Measured on kinds.csv with the shipped models and rules (0.944 macro-F1, 0.943 accuracy when
#: written); the rules were adjusted while looking at this set, so it is a regression floor.
MACRO_F1_FLOOR = 0.90
ACCURACY_FLOOR = 0.90
#: kinds_holdout.csv was written before the last round of rule changes and not used to tune them:
#: 0.95 macro-F1 on its 40 comments when first measured, 1.0 now that its two misses were seen
#: and fixed (see MODEL_CARD.md).
HOLDOUT_FLOOR = 0.85

HOLDOUT2 = Path(__file__).parent / "fixtures" / "kinds_holdout2.csv"
#: kinds_holdout2.csv (96 comments, Italian and English, 12 per kind, under the pages of a hotel,
#: a town council, a fashion shop, a gym, a pizza chain, a bank, a football club and a utility)
#: was written blind to the rules: 0.645 macro-F1 (0.656 accuracy) when first measured, before
#: any rule change. The rules were then changed while looking at its misses, and it reads 1.0
#: now, so it is no longer blind: like the others, a regression floor.
HOLDOUT2_FLOOR = 0.90

HOLDOUT3 = Path(__file__).parent / "fixtures" / "kinds_holdout3.csv"
#: kinds_holdout3.csv (96 comments, Italian and English, 12 per kind, under the pages of a
#: supermarket chain, a dental clinic, a bus company, a cinema, a game studio, a ski resort, a
#: furniture store and a hospital) was written blind to the rules, and to the second holdout, and
#: measured once with the rules and models it was added with: 0.731 macro-F1 (0.729 accuracy;
#: it 0.753, en 0.700). That is the estimate for comments the rules were not written for. The
#: rules were then changed while looking at its misses (spam without a link, questions without a
#: mark, plainly stated claims, glad slang, sarcasm; see MODEL_CARD.md), and it reads 1.0 now:
#: no longer blind, a regression floor like the others.
HOLDOUT3_FLOOR = 0.90

HOLDOUT4 = Path(__file__).parent / "fixtures" / "kinds_holdout4.csv"
#: kinds_holdout4.csv (96 comments, Italian and English, 12 per kind, under the pages of a craft
#: brewery, a veterinary clinic, an airline, a city museum, a car dealer, a university, a streaming
#: service and a water utility) was written blind to the rules and to the other holdouts, and is
#: was kept unseen for a while: 0.726 macro-F1 (0.729 accuracy; it 0.676, en 0.769) when first
#: measured.
HOLDOUT4_FLOOR = 0.90

HOLDOUT5 = Path(__file__).parent / "fixtures" / "kinds_holdout5.csv"
#: kinds_holdout5.csv (96 comments, Italian and English, 12 per kind, under the pages of a
#: cosmetics brand, a food-delivery app, a music festival, a public library, a car-sharing
#: service, a theme park, a language school and an electronics shop) was written blind to the
#: rules and to the other holdouts: 0.604 macro-F1 (0.594 accuracy; it 0.558, en 0.654) when
#: first measured. One label was then corrected ("Che bella foto del lago al tramonto" praises
#: the page's photo: praise, not other), which read 0.612.
HOLDOUT5_FLOOR = 0.90
#: The rules were then changed while looking at the misses of the fourth and fifth sets, and both
#: train the kinds model (training/kinds.py), as the sets before them do: they read 0.99 and 0.96
#: now, regression floors like the others.

HOLDOUT6 = Path(__file__).parent / "fixtures" / "kinds_holdout6.csv"
#: kinds_holdout6.csv (96 comments, Italian and English, 12 per kind, under the pages of a ferry
#: line, a hair salon, a theatre, an insurer, a coffee roaster, a DIY store, a zoo and a solar
#: installer) was written after those rule changes, blind to them, and is never trained on: 0.595
#: macro-F1 with the rules alone when first measured (0.588 with the rules before the fourth and
#: fifth sets: the rules written for those barely carried over). With the kinds model asked where
#: the rules find no cue it reads 0.619. That was the estimate for pages the rules and the model
#: were not written for; it trains the model now, and some of its misses guided rules since.
HOLDOUT6_FLOOR = 0.60
#: It has trained the kinds model since, with the next four sets: 0.681 with the rules alone
#: unchanged.

HOLDOUT7 = Path(__file__).parent / "fixtures" / "kinds_holdout7.csv"
#: kinds_holdout7.csv (96 comments, Italian and English, 12 per kind, under the pages of a
#: pet-food brand, a ski-equipment rental, a city transport app, a wedding photographer, a prepaid
#: mobile offer, a vegan restaurant, a town swimming pool and a furniture-assembly service) was
#: written blind to the rules, to the kinds model and to the other sets, and is never trained on:
#: 0.680 macro-F1 when first measured (0.661 with the rules alone), 0.690 with the kinds model
#: trained on the four sets below as well. Its misses have not been looked at: it is the estimate
#: for pages nobody wrote rules for.
HOLDOUT7_FLOOR = 0.65

#: kinds_holdout8.csv to kinds_holdout11.csv (96 comments each, as above, under the pages of
#: thirty-two more kinds of business and public body; see training/kinds.py) were written blind
#: to the rules and to each other, and read 0.607, 0.660, 0.654 and 0.624 when first measured
#: (rules alone 0.608, 0.653, 0.661, 0.595). They train the kinds model: 0.672, 0.701, 0.758 and
#: 0.655 with it. Rules were then written for a few families of their misses and of the sixth's
#: (spam, second-hand sources of rumours, insults shouted, seats still free): 0.719, 0.728, 0.802
#: and 0.741. Regression floors.
LATER_SETS = [Path(__file__).parent / "fixtures" / f"kinds_holdout{n}.csv" for n in (8, 9, 10, 11)]
LATER_FLOOR = 0.62

HOLDOUT12 = Path(__file__).parent / "fixtures" / "kinds_holdout12.csv"
#: kinds_holdout12.csv (96 comments, as above, under the pages of a bike-sharing scheme, a bank
#: branch, a pastry school, a climbing gym, a maternity ward, a used-car app, a summer music camp
#: and a mountain hut) was written blind to the rules, to the kinds model and to the other sets,
#: and is never trained on: 0.614 macro-F1 when first measured (0.575 with the rules alone). Its
#: misses have not been looked at: with the seventh, the estimate for pages nobody wrote rules for.
HOLDOUT12_FLOOR = 0.58

HOLDOUT13 = Path(__file__).parent / "fixtures" / "kinds_holdout13.csv"
#: kinds_holdout13.csv (96 comments, as above, under the pages of a florist, a taxi company, a
#: school-canteen service, a half-marathon, an escape room, a heating engineer and a regional
#: tourist board) was written after the rules for plain accusations and mocking questions, blind
#: to how the analysis reads it, and is never trained on: 0.679 macro-F1 when first measured
#: (0.648 with the rules alone; 0.677 and 0.646 with the rules from before that round).
HOLDOUT13_FLOOR = 0.63

HOLDOUT14 = Path(__file__).parent / "fixtures" / "kinds_holdout14.csv"
#: kinds_holdout14.csv (96 comments, as above, under the pages of a bookshop, a parcel-locker
#: service, a farm stay, a co-working space, a launderette, a local newspaper, a garden centre and
#: a dance school) was written after the rules for closures, money trouble, laughter aimed at
#: customers and makers, readers asked for a memory and friends tagged, blind to how the analysis
#: reads it, and is never trained on: 0.728 macro-F1 when first measured (0.669 with the rules
#: alone), and the same, comment for comment, with the rules from before that round.
HOLDOUT14_FLOOR = 0.68


def macro_f1(gold: list[str], pred: list[str], labels: tuple[str, ...]) -> float:
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if p == label != g)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label != p)
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return _read(FIXTURE)


@pytest.fixture(scope="module")
def fast() -> Analyzer:
    return load_analyzer("fast")


def test_fixture_is_balanced_and_bilingual(rows: list[dict[str, str]]) -> None:
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == set(KINDS)
    assert min(kinds.values()) >= 15
    assert Counter(r["lang"] for r in rows).keys() == {"it", "en"}
    assert len(rows) >= 150


def test_kinds_accuracy_floor(rows: list[dict[str, str]], fast: Analyzer) -> None:
    results = fast.analyze_many([r["text"] for r in rows], [None] * len(rows))
    gold = [r["kind"] for r in rows]
    pred = [a.kind for a in results]
    f1 = macro_f1(gold, pred, KINDS)
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    assert f1 >= MACRO_F1_FLOOR, f"kinds macro-F1 {f1:.3f}"
    assert accuracy >= ACCURACY_FLOOR, f"kinds accuracy {accuracy:.3f}"
    for lang in ("it", "en"):
        sub = [(g, p) for g, p, r in zip(gold, pred, rows, strict=True) if r["lang"] == lang]
        lang_f1 = macro_f1([g for g, _ in sub], [p for _, p in sub], KINDS)
        assert lang_f1 >= MACRO_F1_FLOOR - 0.1, f"{lang} kinds macro-F1 {lang_f1:.3f}"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("path", "floor"),
    [
        (HOLDOUT, HOLDOUT_FLOOR),
        (HOLDOUT2, HOLDOUT2_FLOOR),
        (HOLDOUT3, HOLDOUT3_FLOOR),
        (HOLDOUT4, HOLDOUT4_FLOOR),
        (HOLDOUT5, HOLDOUT5_FLOOR),
        (HOLDOUT6, HOLDOUT6_FLOOR),
        (HOLDOUT7, HOLDOUT7_FLOOR),
        *[(path, LATER_FLOOR) for path in LATER_SETS],
        (HOLDOUT12, HOLDOUT12_FLOOR),
        (HOLDOUT13, HOLDOUT13_FLOOR),
        (HOLDOUT14, HOLDOUT14_FLOOR),
    ],
    ids=lambda value: value.stem.removeprefix("kinds_") if isinstance(value, Path) else f"{value}",
)
def test_kinds_holdout_floor(fast: Analyzer, path: Path, floor: float) -> None:
    rows = _read(path)
    if path != HOLDOUT:  # the sets written blind: 12 comments of each kind (one relabelled in the
        # fifth), half in each language
        assert len(rows) == 96 and set(Counter(r["kind"] for r in rows).values()) <= {11, 12, 13}
        assert Counter(r["lang"] for r in rows) == {"it": 48, "en": 48}
    results = fast.analyze_many([r["text"] for r in rows])
    f1 = macro_f1([r["kind"] for r in rows], [a.kind for a in results], KINDS)
    assert f1 >= floor, f"{path.name} kinds macro-F1 {f1:.3f}"


def test_languages_of_fixture(rows: list[dict[str, str]], fast: Analyzer) -> None:
    """The fixture's comments are short page comments: the detector should still get most right."""
    results = fast.analyze_many([r["text"] for r in rows])
    right = sum(a.language == r["lang"] for a, r in zip(results, rows, strict=True))
    assert right / len(rows) >= 0.85


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Ho sentito che usate farina scaduta, lo sanno tutti", "misguided"),
        ("Earn 500$ a day from home!!! Click here http://bit.ly/xx9", "spam"),
        ("What time do you open on Sundays?", "question"),
        ("Grazie mille, torta buonissima!", "praise"),
    ],
)
def test_clear_cases(fast: Analyzer, text: str, kind: str) -> None:
    result = fast.analyze(text)
    assert result.kind == kind, result
    assert any(r.startswith(f"{kind}:") for r in result.reasons) or kind == "question"


@pytest.mark.parametrize(
    ("text", "kind", "sentiment"),
    [
        ("Consegnate anche a Monza", "question", None),
        ("Fate anche torte senza glutine", "question", None),
        ("Siete aperti a Natale", "question", None),
        (
            "Booked seats 14A and 14B three months ago, at the gate they were given to someone else",
            "complaint",
            "negative",
        ),
        ("Your cakes taste like cardboard, just like your staff's brains", "troll", None),
        ("continuate così che fallite presto 👏👏", "troll", None),
        ("keep it up and you'll be bankrupt in a month", "troll", None),
        ("La crostata alle fragole era la fine del mondo.", "praise", "positive"),
        # spam with no link to click: a profile pushed, a bare scam domain, a loan with a phone
        ("Want more followers? Check out my profile 🔥", "spam", None),
        ("Clicca qui e ritira il tuo buono: buoni-regalo-oggi.xyz/premio", "spam", None),
        ("Quick loans, no credit check, message us on WhatsApp +44 20 7946 0018", "spam", None),
        # rants without an anger word, and a curse at the situation
        ("Sick and tired of this weather, can't take it anymore", "rager", "negative"),
        ("Porca miseria che settimana, non se ne può più", "rager", "negative"),
        ("ma vaffanculo, pioggia anche oggi", "rager", "negative"),
        # cover-ups and second-hand sources
        ("They are secretly raising prices for old customers", "misguided", "negative"),
        ("Mia cugina che ci lavora dice che chiudete a marzo", "misguided", "negative"),
        # greetings and laughter at nobody; pride
        ("Buon weekend a tutti! ☀️", "other", None),
        ("haha my cat does the same", "other", None),
        ("So proud of our team today 👏👏", "praise", "positive"),
        # a supposed problem, a question about what is still so, a request for information
        ("Se il treno è in ritardo posso usare il biglietto su quello dopo?", "question", None),
        ("Are the pools still open in August", "question", None),
        ("Info orari apertura piscina", "question", None),
        # thanks before a fault, a hang-up, a taunt
        ("Thanks for answering, but the charger doesn't work at all", "complaint", "negative"),
        ("I called three times and they hung up on me", "complaint", "negative"),
        ("coraggio zero, qui cancellate le critiche e lasciate solo le lodi 🐔", "troll", None),
        # put-downs with no insult word or laughter, and a who-did-it answered with a guess
        ("Who even buys phones from you anymore", "troll", None),
        ("Ma davvero qualcuno si iscrive alla vostra palestra? Cambiate mestiere", "troll", None),
        ("Bet your marketing guy designed this logo on a napkin", "troll", None),
        ("Chi ve l'ha scritto il post, il nipote?", "troll", None),
        # a choice asked without its mark, a question after a greeting, company sought
        ("La torta si può ordinare anche senza glutine o solo classica", "question", None),
        ("Hello, is the pool heated in winter", "question", None),
        ("Anyone going to the Friday show? I have a spare ticket", "other", None),
        ("Chi viene al concerto domenica?", "other", None),
        # applause in a glad comment; a problem of one's own told with "I"
        ("Great show tonight, the light show was unreal 👏", "praise", "positive"),
        ("Loved the late opening at the aquarium, well done 👏", "praise", "positive"),
        ("The van I got smelled like wet dog and had mud all over the seats", "complaint", None),
        # organisational claims, and what is told as their cause
        ("Il teatro è stato venduto a una catena di supermercati, vergogna", "misguided", None),
        (
            "That's why the tickets cost double now, the festival was sold to Americans",
            "misguided",
            None,
        ),
        # praise in a phrase, and its words' negative reading overruled
        ("Worth every penny, the kids loved the water slides", "praise", "positive"),
        ("Non la lascio più questa crema, la pelle è rinata", "praise", "positive"),
        ("Il tecnico è un tesoro, ha sistemato tutto in mezz'ora", "praise", None),
        ("Parrucchiere consigliatissimo, mani d'oro", "praise", None),
        # waits, fob-offs, things run out or not as shown, failing again and again
        ("Ordinato il divano a marzo, da tre mesi aspetto la consegna", "complaint", "negative"),
        ("Due ore di fila alla cassa e poi avevano finito i panettoni", "complaint", "negative"),
        ("The app keeps freezing every time I open my basket", "complaint", "negative"),
        (
            "Il maglione è diverso da quello in foto e per il reso mi chiedete di pagare",
            "complaint",
            "negative",
        ),
        # anger declared over a story; thanks for help through something terrible
        (
            "I'm absolutely livid, my order came without the main course and nobody answers",
            "rager",
            "negative",
        ),
        ("Sono ancora furiosa, mai più messo piede in quel negozio 🤬", "rager", "negative"),
        ("ugh this place makes my blood boil. done.", "rager", "negative"),
        (
            "Thank you for the care you gave my dad, a terrible month made easier by your nurses",
            "praise",
            None,
        ),
        # remembered, not a problem again
        ("We went there back in the 90s, when it still had the old carousel", "other", None),
        # a cause or the law in the writer's own story; what the page's own people said
        ("Thats why I always fly with you", "other", None),
        (
            "Ho chiamato l'assistenza e mi hanno detto che il rimborso arriva in 30 giorni, ma niente",
            "complaint",
            None,
        ),
    ],
)
def test_once_missed(fast: Analyzer, text: str, kind: str, sentiment: str | None) -> None:
    """Comments the shipped models and rules once sorted wrong, through the full analysis."""
    result = fast.analyze(text)
    assert result.kind == kind, result
    if sentiment:
        assert result.sentiment == sentiment, result
