"""Every label the analysis explains itself with has its Italian words.

The reasons are "label: label: the commenter's words"; the labels come from the rules and the
models, and a label added there without its translation would show up in English in the Italian
interface. The comments analysed are the project's own page comments plus a few that reach the
rarer rules (spam, shouting, an empty comment).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from crisisdesk.analysis import load_analyzer
from crisisdesk.web import i18n

#: Labels followed by the commenter's own words (or marks), which stay as written.
COMMENT_WORDS = frozenset(
    {
        "experience",
        "problem",
        "no problem",
        "profanity",
        "name-calling",
        "anger words",
        "praise words",
        "insult",
        "mockery",
        "praise around",
        "sarcasm",
        "declared",
    }
)
FIXTURES = Path(__file__).resolve().parent.parent / "analysis" / "fixtures"
EXTRA = [
    "",
    "Andate a fanculo, voi e la vostra torta di merda",
    "Earn 500$ per day, contact me on whatsapp +44 7700 900123 http://x.example a@b.example",
    "Click here http://x.example http://y.example!!! 😀😀😀😀😀😀 aaaaaa",
    "VERGOGNA!!! SIETE DEI LADRI!!!",
    "Oh great, another delay, love it",
    "Ottimo servizio, come sempre in ritardo 👏",
    "Quando riaprite il negozio",
    "Ho sentito che usate olio di palma, è una truffa, lo sanno tutti",
    "Buona domenica a tutti",
    # the labels of rarer rules, and of the kinds model
    "I'm absolutely livid, my order never came",
    "Scarpe firmate -70% solo oggi www.scarpe-outlet.example",
    "That's why the prices doubled, the owners are foreigners",
    "Tenere aperto la domenica è illegale",
    "Non la lascio più questa crema, la pelle è rinata",
    "Il pacco doveva arrivare martedì, oggi è venerdì",
    "Ordered a cake for Saturday, it came on Monday",
    "Your coffee is sprayed with pesticides",
    "Il vostro latte viene dalla Romania, altro che italiano",
    "The bus lanes were paid for with money taken from the schools",
    "Vi avverto, questa autoscuola non è nemmeno autorizzata",
    "Solar panels give you headaches, that's a fact",
    "Best pizza we've ever had, never disappointed",
    "Hanno chiuso la piscina per sempre, andateci finché c'è",
    "The actors weren't even paid, the theatre is broke",
    "Il camion butta tutto nello stesso cassone, l'ho visto coi miei occhi",
]


def test_every_reason_label_is_translated_to_italian() -> None:
    texts = list(EXTRA)
    for name in ("kinds.csv", "kinds_holdout.csv"):
        with (FIXTURES / name).open(encoding="utf-8", newline="") as f:
            texts += [row["text"] for row in csv.DictReader(f)]
    labels = i18n.REASON_LABELS["it"]
    seen: set[str] = set()
    for analysis in load_analyzer("fast").analyze_many(texts):
        for reason in analysis.reasons:
            *heads, last = reason.split(": ")
            seen.update(heads)
            if heads and heads[-1] == "claim pattern":
                seen.update(last.split(", "))
            elif not last.startswith("'") and not (heads and heads[-1] in COMMENT_WORDS):
                # numbers and quoted words are the comment's: "3 links", "starts with 'chi'"
                seen.add(re.sub(r"\s*(?:\d+(?:\.\d+)?|'[^']*')\s*", " ", last).strip())
    untranslated = {label for label in seen if label not in labels}
    assert not untranslated
    # the sample did reach the rules whose labels were once missing
    assert {"asks something", "claim pattern", "rumour", "sarcasm", "spam signal"} <= seen
    assert {"declared", "discount", "cause claim", "accusation", "learned"} <= seen
    assert {"closure", "money trouble", "witness"} <= seen
