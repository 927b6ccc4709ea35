"""The built-in demo scenario: two fictional brand pages and a flame on one of them.

All names, brands and texts are invented for the demo. ``forno-aurora`` is an Italian bakery chain
that delivers; ``bluebell-rail`` an English regional train operator. Two quiet days of praise and
questions come first (history, loaded at once), then a post on the Italian page draws a flame over
about forty minutes, replayed in accelerated time: real complaints, a wrong accusation, ragers,
trolls mocking the brand, five brand-new accounts posting near-identical accusations within minutes,
a competitor's employee, and spam. A smaller wave of complaints hits the English page too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scripted:
    minute: float  # minutes from the start of the flame; negative = history before it
    page: str
    post: str
    author_id: str
    author_name: str
    text: str
    parent: str | None = None


PAGES: dict[str, dict[str, Any]] = {
    "forno-aurora": {
        "name": "Forno Aurora",
        "language": "it",
        "currency": "EUR",
        "competitors": [
            {
                "name": "Panificio Rivale",
                "handles": ["panificiorivale"],
                "domains": ["panificiorivale.it"],
                "products": ["Colomba Rivale"],
            }
        ],
        # Who inside the (fictional) company answers for each topic: roles, not people.
        "contacts": {
            "delivery": "Responsabile consegne",
            "product": "Responsabile qualità",
            "default": "Social media manager",
        },
    },
    "bluebell-rail": {
        "name": "Bluebell Rail",
        "language": "en",
        "currency": "GBP",
        "competitors": [
            {"name": "Kestrel Coaches", "handles": [], "domains": ["kestrelcoaches.co.uk"]}
        ],
        "contacts": {
            "delivery": "Operations control duty manager",
            "billing": "Ticketing and refunds team",
            "default": "Customer relations lead",
        },
    },
}

_IT_POST = "forno-aurora_post-colomba"
_IT_QUIET = "forno-aurora_post-orari"
_EN_POST = "bluebell-rail_post-timetable"

HISTORY: list[Scripted] = [
    Scripted(
        -2900,
        "forno-aurora",
        _IT_QUIET,
        "it-u1",
        "Giulia Ferraris",
        "Il pane ai cereali di ieri era buonissimo, complimenti a tutto il forno!",
    ),
    Scripted(
        -2850,
        "forno-aurora",
        _IT_QUIET,
        "it-u2",
        "Marco Bellini",
        "Siete aperti anche la domenica pomeriggio in via Roma?",
    ),
    Scripted(
        -2700,
        "forno-aurora",
        _IT_QUIET,
        "it-u3",
        "Sara Conti",
        "Ordinato ieri sera, consegna puntualissima. Grazie!",
    ),
    Scripted(
        -2500,
        "forno-aurora",
        _IT_QUIET,
        "it-u4",
        "Paolo Riva",
        "Fate anche torte senza glutine su ordinazione?",
    ),
    Scripted(
        -2300,
        "forno-aurora",
        _IT_QUIET,
        "it-u5",
        "Elena Sartori",
        "La focaccia del sabato è diventata un rito in famiglia 😊",
    ),
    Scripted(
        -1500,
        "forno-aurora",
        _IT_QUIET,
        "it-u6",
        "Luca Moretti",
        "Quanto costa la consegna fuori città?",
    ),
    Scripted(
        -1400,
        "forno-aurora",
        _IT_QUIET,
        "it-u1",
        "Giulia Ferraris",
        "Provata anche la crostata alle albicocche: promossa!",
    ),
    Scripted(
        -1300,
        "forno-aurora",
        _IT_QUIET,
        "it-u7",
        "Chiara Galli",
        "Il personale di corso Garibaldi è sempre gentilissimo.",
    ),
    Scripted(
        -400,
        "forno-aurora",
        _IT_POST,
        "it-u8",
        "Davide Fontana",
        "Che bella la nuova colomba! Si può prenotare online?",
    ),
    Scripted(
        -350,
        "forno-aurora",
        _IT_POST,
        "it-u3",
        "Sara Conti",
        "Presa una l'anno scorso, spettacolare.",
    ),
    Scripted(
        -2800,
        "bluebell-rail",
        _EN_POST,
        "en-u1",
        "Hannah Cole",
        "Thanks to the conductor on the 8:12, really helpful with my bike.",
    ),
    Scripted(
        -2600,
        "bluebell-rail",
        _EN_POST,
        "en-u2",
        "Tom Reid",
        "Will the new timetable keep the late train on Fridays?",
    ),
    Scripted(
        -2000,
        "bluebell-rail",
        _EN_POST,
        "en-u3",
        "Priya Shah",
        "Lovely clean carriages this morning, well done.",
    ),
    Scripted(
        -1200,
        "bluebell-rail",
        _EN_POST,
        "en-u4",
        "Owen Price",
        "Is there step-free access at Millbrook station yet?",
    ),
    Scripted(
        -600,
        "bluebell-rail",
        _EN_POST,
        "en-u5",
        "Lucy Ward",
        "Great service as always, the app is much better now.",
    ),
]

_COPIES = "La colomba di Forno Aurora è fatta con ingredienti scaduti, l'ho visto con i miei occhi. Non compratela!"

FLAME: list[Scripted] = [
    Scripted(
        0,
        "forno-aurora",
        _IT_POST,
        "it-u9",
        "Francesca Marino",
        "Ordinata la colomba per Pasqua, arrivata schiacciata e con due giorni di ritardo. Ho pagato 28 euro e nessuno risponde al telefono.",
    ),
    Scripted(
        1.5,
        "forno-aurora",
        _IT_POST,
        "it-u10",
        "Andrea Greco",
        "Anche a me consegna in ritardo di tre giorni, e il corriere ha detto che il pacco non era mai partito. Vorrei un rimborso.",
    ),
    Scripted(
        3,
        "forno-aurora",
        _IT_POST,
        "it-u11",
        "Roberto Esposito",
        "Ho letto che usate olio di palma e conservanti chimici nella colomba, vergognatevi!",
    ),
    Scripted(4, "forno-aurora", _IT_POST, "it-new1", "Mario Rossi 8841", _COPIES),
    Scripted(
        4.6,
        "forno-aurora",
        _IT_POST,
        "it-new2",
        "Anna Bianchi 2290",
        "La colomba di Forno Aurora è fatta con ingredienti scaduti, l'ho visto coi miei occhi. Non compratela!!",
    ),
    Scripted(
        5.1,
        "forno-aurora",
        _IT_POST,
        "it-new3",
        "Luigi Verdi 7713",
        "La colomba di Forno Aurora è fatta con ingredienti scaduti, l'ho vista con i miei occhi. NON COMPRATELA",
    ),
    Scripted(5.9, "forno-aurora", _IT_POST, "it-new4", "giuseppe.n.4410", _COPIES),
    Scripted(
        6.4,
        "forno-aurora",
        _IT_POST,
        "it-new5",
        "Sofia Neri 5502",
        "La colomba di Forno Aurora è fatta con ingredienti scaduti, l'ho visto con i miei occhi! Non compratela",
    ),
    Scripted(
        7,
        "forno-aurora",
        _IT_POST,
        "it-u12",
        "Valentina Russo",
        "MA VI SEMBRA NORMALE??? Soldi buttati, mai più, siete dei ladri!!!",
    ),
    Scripted(
        8.5,
        "forno-aurora",
        _IT_POST,
        "it-u13",
        "Simone Gallo",
        "Ahahah la colomba schiacciata, nuova specialità della casa? Complimenti al genio del marketing 👏👏",
    ),
    Scripted(
        9,
        "forno-aurora",
        _IT_POST,
        "it-u14",
        "Martina Costa",
        "Vi ho scritto tre mail per il reclamo dell'ordine 4471 e ancora niente. Come devo fare?",
    ),
    Scripted(
        10,
        "forno-aurora",
        _IT_POST,
        "it-u15",
        "Stefano Leone",
        "Io da Panificio Rivale non ho mai avuto problemi, consegnano in giornata. Provate lì: panificiorivale.it",
    ),
    Scripted(
        11,
        "forno-aurora",
        _IT_POST,
        "it-u16",
        "Federica Lombardi",
        "Ma davvero? Io l'ho presa ieri ed era perfetta, forse è stato il corriere.",
    ),
    Scripted(
        12,
        "forno-aurora",
        _IT_POST,
        "it-u17",
        "Alessio Bruno",
        "Che schifo di azienda, incompetenti dal primo all'ultimo, fate pena.",
    ),
    Scripted(
        13,
        "forno-aurora",
        _IT_POST,
        "it-spam1",
        "Offerte Top 24",
        "Guadagna 500€ al giorno da casa!!! Clicca qui 👉 http://soldi-facili.example/promo",
    ),
    Scripted(
        14,
        "forno-aurora",
        _IT_POST,
        "it-u18",
        "Giorgia Marchetti",
        "La mia colomba aveva un odore strano, l'ho buttata. Qualcuno mi dice se è sicura?",
    ),
    Scripted(
        15.5,
        "forno-aurora",
        _IT_POST,
        "it-u13",
        "Simone Gallo",
        "Forno Aurora: dove la consegna è una sorpresa, come l'uovo di Pasqua 🤡",
    ),
    Scripted(
        17,
        "forno-aurora",
        _IT_POST,
        "it-u19",
        "Nicola Ferri",
        "Ritardo di una settimana e pacco rotto. Pessimo servizio clienti, nessuno si scusa.",
    ),
    Scripted(
        18,
        "forno-aurora",
        _IT_POST,
        "it-u20",
        "Irene Villa",
        "Ho visto su un gruppo che vi chiudono per frode alimentare, è vero?",
    ),
    Scripted(
        19,
        "forno-aurora",
        _IT_POST,
        "it-u12",
        "Valentina Russo",
        "ANCORA NESSUNA RISPOSTA. VERGOGNA",
    ),
    Scripted(
        20,
        "forno-aurora",
        _IT_POST,
        "it-u21",
        "Emanuele Testa",
        "Buffoni. Sapete solo fare pubblicità.",
    ),
    Scripted(
        22,
        "forno-aurora",
        _IT_POST,
        "it-u22",
        "Laura De Luca",
        "Ordine 4503 mai arrivato, addebito fatto. Aspetto una soluzione.",
    ),
    Scripted(
        24,
        "forno-aurora",
        _IT_POST,
        "it-u15",
        "Stefano Leone",
        "Ve l'ho detto, Panificio Rivale è un'altra cosa. Qualità vera.",
    ),
    Scripted(
        26,
        "forno-aurora",
        _IT_POST,
        "it-u23",
        "Matteo Rinaldi",
        "Come posso annullare l'ordine che ho fatto stamattina?",
    ),
    Scripted(
        28,
        "forno-aurora",
        _IT_POST,
        "it-u24",
        "Camilla Pellegrini",
        "Colomba arrivata in ritardo ma buona. Però avvisate quando ci sono problemi!",
    ),
    Scripted(
        30,
        "forno-aurora",
        _IT_POST,
        "it-u13",
        "Simone Gallo",
        "Prossima puntata: la colomba consegnata a Ferragosto 😂",
    ),
    Scripted(
        33,
        "forno-aurora",
        _IT_POST,
        "it-u25",
        "Diego Caruso",
        "Avete rovinato la Pasqua a mia madre. Complimenti davvero.",
    ),
    Scripted(
        36,
        "forno-aurora",
        _IT_POST,
        "it-u26",
        "Beatrice Gatti",
        "Io invece ringrazio il negozio di via Roma, mi hanno sostituito la colomba subito.",
    ),
    Scripted(
        40,
        "forno-aurora",
        _IT_POST,
        "it-u27",
        "Tommaso Serra",
        "Quindi gli ingredienti scaduti sono veri o no? Rispondete.",
    ),
    Scripted(
        6,
        "bluebell-rail",
        _EN_POST,
        "en-u6",
        "Jack Turner",
        "Third cancellation this week on the 7:40. I've been late for work every day. Sort it out.",
    ),
    Scripted(
        12,
        "bluebell-rail",
        _EN_POST,
        "en-u7",
        "Emily Hughes",
        "Paid for a season ticket and the trains don't even run. Absolute joke of a company.",
    ),
    Scripted(
        18,
        "bluebell-rail",
        _EN_POST,
        "en-u8",
        "Sam Mitchell",
        "Can I get a refund for yesterday's cancelled 17:15? Where do I apply?",
    ),
    Scripted(
        23,
        "bluebell-rail",
        _EN_POST,
        "en-u9",
        "Chloe Evans",
        "Oh wonderful, another 'signal failure'. Bluebell Rail: getting you nowhere since 1998 🙃",
    ),
    Scripted(
        27,
        "bluebell-rail",
        _EN_POST,
        "en-u10",
        "Ben Carter",
        "I heard you're cutting the Millbrook line completely to save money, is that true?",
    ),
    Scripted(
        31,
        "bluebell-rail",
        _EN_POST,
        "en-u11",
        "Kestrel Fan",
        "Just take Kestrel Coaches, cheaper and actually on time. kestrelcoaches.co.uk",
    ),
    Scripted(
        35,
        "bluebell-rail",
        _EN_POST,
        "en-u3",
        "Priya Shah",
        "The staff at Millbrook were lovely today despite the chaos, thank you.",
    ),
]


@dataclass(frozen=True)
class PastCase:
    """A complaint of the weeks before, answered and closed, so the lessons have a history:
    how it was answered, what its author did next, and the lesson recorded."""

    days_ago: float
    page: str
    post: str
    author_id: str
    author_name: str
    text: str
    reply: str
    reply_after_minutes: float  # under the cool-down (15) means it was overridden
    cause: str
    change: str
    voucher: float | None = None
    follow_up: str | None = None  # the author's next comment, a day after the reply


_IT_OLD = "forno-aurora_post-pasqua"
_EN_OLD = "bluebell-rail_post-winter"

#: What each post of the scenario says: the desk names posts by their text (alerts, the crisis
#: view, the comment page), as it does with a platform's posts.
POSTS: dict[str, str] = {
    _IT_POST: "È arrivata la colomba di Pasqua del Forno Aurora! Ordinala online, te la portiamo "
    "a casa in 48 ore.",
    _IT_QUIET: "Da lunedì nuovi orari: siamo aperti dalle 7 alle 20, anche la domenica mattina.",
    _EN_POST: "Our new timetable starts on Monday: more morning trains between Millbrook and the "
    "city.",
    _IT_OLD: "Le torte della festa del papà si ordinano entro giovedì.",
    _EN_OLD: "Winter works: weekend replacement buses on the Millbrook line until March.",
}

PAST_CASES: list[PastCase] = [
    PastCase(
        40,
        "forno-aurora",
        _IT_OLD,
        "it-p1",
        "Franca Moretti",
        "Ho ordinato la torta per sabato ed è arrivata domenica, in ritardo di un giorno.",
        "Ciao Franca, hai ragione e ci dispiace: la torta doveva arrivare sabato. Marta, che "
        "segue le consegne, ti scrive in privato per rimediare.",
        25,
        "delivery",
        "Le consegne del sabato si confermano entro venerdì sera.",
        voucher=10,
        follow_up="Grazie per il buono, la torta nuova era buonissima!",
    ),
    PastCase(
        33,
        "forno-aurora",
        _IT_OLD,
        "it-p2",
        "Luca Ferri",
        "Consegna in ritardo di due ore e nessuno mi ha avvisato.",
        "Ciao Luca, due ore sono troppe e avremmo dovuto avvisarti. Ti scriviamo in privato "
        "per capire cosa è successo.",
        5,
        "delivery",
        "Un SMS al cliente quando il corriere è in ritardo.",
        follow_up="Ancora nessuno mi ha spiegato niente, che vergogna.",
    ),
    PastCase(
        20,
        "forno-aurora",
        _IT_OLD,
        "it-p3",
        "Giorgia Costa",
        "Il pane comprato ieri sera era duro, l'ho pagato quattro euro.",
        "Ciao Giorgia, grazie per avercelo detto: il pane della sera non deve essere così. "
        "Passa in negozio, Paolo del banco te lo sostituisce.",
        190,
        "product",
        "Il pane della sera si controlla alle 18.",
    ),
    PastCase(
        12,
        "forno-aurora",
        _IT_OLD,
        "it-p4",
        "Sara Galli",
        "La colomba è arrivata schiacciata nel pacco, la consegna è stata un disastro.",
        "Ciao Sara, ci dispiace molto: una colomba schiacciata non doveva partire. Marta ti "
        "scrive in privato per mandartene una nuova.",
        30,
        "delivery",
        "Imballi rinforzati per le colombe.",
        voucher=15,
        follow_up="Arrivata perfetta la seconda, gentilissimi, grazie.",
    ),
    PastCase(
        26,
        "bluebell-rail",
        _EN_OLD,
        "en-p1",
        "Tom Archer",
        "My 7:15 was cancelled again this morning and nobody announced it at the station.",
        "Hi Tom, we should have told you before you reached the platform, and we are sorry "
        "we did not. Our control team is looking at why the announcement failed.",
        20,
        "communication",
        "Cancellations go on the app and the station screens at once.",
        follow_up="Thanks for the explanation, appreciated.",
    ),
    PastCase(
        15,
        "bluebell-rail",
        _EN_OLD,
        "en-p2",
        "Nadia Brooks",
        "I was charged twice for my season ticket and the refund has not arrived.",
        "Hi Nadia, being charged twice is our mistake. The ticketing team will message you "
        "privately today with the refund details.",
        240,
        "billing",
        "Double charges are refunded within five working days.",
        follow_up="Still waiting for the refund, a week later.",
    ),
]
