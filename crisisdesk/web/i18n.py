"""Interface text in Italian and English.

Catalogs are plain dictionaries keyed by a short English id, so adding a language is adding one
dictionary; a missing key falls back to English and then to the key itself, so a half-translated
language still renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from crisisdesk.i18n import DECIMAL_COMMA, load_catalogs

LANGUAGES = {"en": "English", "it": "Italiano"}
DEFAULT_LANGUAGE = "en"

CATALOGS: dict[str, dict[str, str]] = {
    "en": {
        "app.title": "crisisdesk",
        "nav.inbox": "Inbox",
        "nav.alerts": "Alerts",
        "nav.lessons": "Lessons",
        "nav.logout": "Sign out",
        "login.title": "Sign in",
        "login.username": "User name",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.failed": "Wrong user name or password.",
        "inbox.title": "Inbox",
        "inbox.sort": "Order",
        "inbox.sort.newest": "Newest first",
        "inbox.sort.urgent": "Most urgent first",
        "inbox.search": "Search text or author",
        "inbox.filter": "Filter",
        "inbox.reset": "Reset",
        "inbox.more": "Load more",
        "inbox.competitor": "competitor",
        "inbox.empty": "No comments match.",
        "inbox.any": "any",
        "field.page": "Page",
        "field.kind": "Kind",
        "field.sentiment": "Sentiment",
        "field.language": "Language",
        "field.status": "Status",
        "field.author": "Author",
        "field.when": "When",
        "field.text": "Comment",
        "field.offensive": "Offensive",
        "field.irony": "Irony / mockery",
        "field.question": "Asks something",
        "field.spam": "Spam",
        "field.reasons": "Why",
        "field.model": "Model",
        "field.post": "Post",
        "kind.praise": "praise",
        "kind.question": "question",
        "kind.complaint": "complaint",
        "kind.misguided": "misguided claim",
        "kind.rager": "rager",
        "kind.troll": "troll",
        "kind.spam": "spam",
        "kind.other": "other",
        "sentiment.negative": "negative",
        "sentiment.neutral": "neutral",
        "sentiment.positive": "positive",
        "status.visible": "visible",
        "status.hidden": "hidden",
        "status.removed": "removed",
        "comment.title": "Comment",
        "comment.thread": "Thread",
        "comment.history": "This author on our pages",
        "comment.history.none": "No other comments from this author.",
        "comment.revisions": "Earlier versions",
        "comment.analysis": "Analysis",
        "comment.analysis.none": "Not analysed yet.",
        "comment.back": "Back to the inbox",
        "comment.first_seen": "First seen",
        "comment.comments": "Comments",
        "yes": "yes",
        "no": "no",
        "lang.switch": "Language",
        "demo.banner": "Demo: you are signed in as the demo user. The scenario replays a crisis.",
        "nav.main": "Main",
        "nav.skip": "Skip to the content",
        "field.urgency": "Urgency",
        "field.from": "From",
        "urgency.high": "high",
        "urgency.medium": "medium",
        "urgency.low": "low",
        "inbox.levels": "Pages above calm",
        "inbox.all_calm": "All pages are calm.",
        "inbox.open_crisis": "open the crisis view",
        "comment.steps": "Playbook",
        "comment.step.understand": "Understand",
        "comment.step.author": "Check the author",
        "comment.step.reply": "Cool down, then reply",
        "comment.scores": "Scores",
        "comment.scores.note": "Offence and irony: the built-in models' chance that the comment offends (mocks), on a page where about 8% of comments offend and 12% are ironic. They learned from tweets: read them as hints. The kind needs a cue you can see.",
        "comment.loading": "Loading…",
    },
    "it": {
        "app.title": "crisisdesk",
        "nav.inbox": "Posta in arrivo",
        "nav.alerts": "Allerte",
        "nav.lessons": "Lezioni",
        "nav.logout": "Esci",
        "login.title": "Accedi",
        "login.username": "Nome utente",
        "login.password": "Password",
        "login.submit": "Accedi",
        "login.failed": "Nome utente o password errati.",
        "inbox.title": "Posta in arrivo",
        "inbox.sort": "Ordine",
        "inbox.sort.newest": "Più recenti",
        "inbox.sort.urgent": "Più urgenti",
        "inbox.search": "Cerca nel testo o per autore",
        "inbox.filter": "Filtra",
        "inbox.reset": "Azzera",
        "inbox.more": "Carica altri",
        "inbox.competitor": "concorrente",
        "inbox.empty": "Nessun commento corrisponde.",
        "inbox.any": "qualsiasi",
        "field.page": "Pagina",
        "field.kind": "Tipo",
        "field.sentiment": "Sentimento",
        "field.language": "Lingua",
        "field.status": "Stato",
        "field.author": "Autore",
        "field.when": "Quando",
        "field.text": "Commento",
        "field.offensive": "Offensivo",
        "field.irony": "Ironia / scherno",
        "field.question": "Fa una domanda",
        "field.spam": "Spam",
        "field.reasons": "Perché",
        "field.model": "Modello",
        "field.post": "Post",
        "kind.praise": "complimento",
        "kind.question": "domanda",
        "kind.complaint": "reclamo",
        "kind.misguided": "accusa infondata",
        "kind.rager": "sfogo rabbioso",
        "kind.troll": "troll",
        "kind.spam": "spam",
        "kind.other": "altro",
        "sentiment.negative": "negativo",
        "sentiment.neutral": "neutro",
        "sentiment.positive": "positivo",
        "status.visible": "visibile",
        "status.hidden": "nascosto",
        "status.removed": "rimosso",
        "comment.title": "Commento",
        "comment.thread": "Conversazione",
        "comment.history": "Questo autore sulle nostre pagine",
        "comment.history.none": "Nessun altro commento di questo autore.",
        "comment.revisions": "Versioni precedenti",
        "comment.analysis": "Analisi",
        "comment.analysis.none": "Non ancora analizzato.",
        "comment.back": "Torna alla posta in arrivo",
        "comment.first_seen": "Visto la prima volta",
        "comment.comments": "Commenti",
        "yes": "sì",
        "no": "no",
        "lang.switch": "Lingua",
        "demo.banner": "Demo: sei entrato come utente demo. Lo scenario riproduce una crisi.",
        "nav.main": "Principale",
        "nav.skip": "Vai al contenuto",
        "field.urgency": "Urgenza",
        "field.from": "Da",
        "urgency.high": "alta",
        "urgency.medium": "media",
        "urgency.low": "bassa",
        "inbox.levels": "Pagine non in calma",
        "inbox.all_calm": "Tutte le pagine sono calme.",
        "inbox.open_crisis": "apri la vista crisi",
        "comment.steps": "Procedura",
        "comment.step.understand": "Capire",
        "comment.step.author": "Verificare l'autore",
        "comment.step.reply": "Raffreddare, poi rispondere",
        "comment.scores": "Punteggi",
        "comment.scores.note": "Offesa e ironia: la probabilità, per i modelli integrati, che il commento offenda (prenda in giro), su una pagina dove circa l'8% dei commenti offende e il 12% è ironico. Hanno imparato dai tweet: prendetele come indizi. Il tipo richiede un segnale visibile.",
        "comment.loading": "Caricamento…",
    },
}


def negotiate(accept_language: str | None) -> str:
    """Pick the interface language from an ``Accept-Language`` header.

    >>> negotiate("it-IT,it;q=0.9,en;q=0.8")
    'it'
    >>> negotiate("fr-FR, de;q=0.5")
    'en'
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        choices.append((q, tag.split("-")[0].lower()))
    for _q, lang in sorted(choices, key=lambda c: -c[0]):
        if lang in CATALOGS:
            return lang
    return DEFAULT_LANGUAGE


# One file per capability in ``locales/``, so each part of the interface keeps its own text
# beside its templates; the loader is shared with the command line's catalogs.
load_catalogs(Path(__file__).parent / "locales", into=CATALOGS)


# The analysis explains itself with short English labels followed by the words that drove it
# ("complaint: experience: consegna, ritardo"). The labels are translated for display; the words
# are the commenter's own and stay as they are.
REASON_LABELS: dict[str, dict[str, str]] = {
    "it": {
        "complaint": "reclamo",
        "misguided": "accusa infondata",
        "rager": "sfogo rabbioso",
        "troll": "troll",
        "spam": "spam",
        "praise": "complimento",
        "question": "domanda",
        "other": "altro",
        "negative": "negativo",
        "neutral": "neutro",
        "positive": "positivo",
        "offensive": "offensivo",
        "irony": "ironia",
        "anger words": "parole di rabbia",
        "shouting": "scrive in maiuscolo",
        "exclamation marks": "punti esclamativi",
        "experience": "esperienza",
        "problem": "problema",
        "sarcasm": "sarcasmo",
        "praise around": "lodi di facciata",
        "praise words": "parole di lode",
        "no problem": "nessun problema",
        "a problem denied": "dice di non aver avuto problemi",
        "an idiom of praise": "un modo di dire che loda",
        "insult": "insulto",
        "profanity": "volgarità",
        "name-calling": "insulti",
        "mockery": "scherno",
        "claim pattern": "segnale",
        "spam signal": "segnale di spam",
        "promo/scam words": "parole da promozione o truffa",
        "link": "link",
        "links": "link",
        "e-mail address": "indirizzo e-mail",
        "phone number": "numero di telefono",
        "money amount": "cifra in denaro",
        "repeated characters": "caratteri ripetuti",
        "many emoji": "molte emoji",
        "question mark": "punto di domanda",
        "starts with": "inizia con",
        "asks something": "chiede qualcosa",
        "empty comment": "commento vuoto",
        "a greeting": "un saluto",
        "rumour": "voce che gira",
        "everyone knows": "«lo sanno tutti»",
        "scam claim": "accusa di truffa",
        "fake news": "notizia falsa",
        "cover-up": "insabbiamento",
        "conspiracy": "complotto",
        "secret practice": "pratica nascosta",
        "false claim": "affermazione falsa",
        "data claim": "accusa sui dati",
        "motive claim": "accusa sui motivi",
        "fake claim": "accusa di falso",
        "cartel claim": "accusa di cartello",
        "done deal": "affare già concluso",
        "a friend tagged": "tagga un amico",
        "asks the other readers": "chiede agli altri lettori",
        "read from the complaint": "dedotto dal reclamo",
        "read from the rant": "dedotto dallo sfogo",
        "read from the false claim": "dedotto dall'accusa infondata",
        "a phrase of praise": "un'espressione di lode",
        "declared": "rabbia dichiarata",
        "discount": "sconto",
        "cause claim": "causa data per certa",
        "accusation": "accusa di illegalità",
        "warning": "avvertimento ai lettori",
        "credentials": "titoli o permessi negati",
        "settled fact": "fatto dato per certo",
        "scandal claim": "scandalo nel prodotto",
        "false label": "etichetta smentita",
        "money claim": "accusa sui fondi",
        "closure": "chiusura data per certa",
        "money trouble": "difficoltà economiche date per certe",
        "witness": "testimone oculare",
        "thanks or praise said outright": "ringraziamento o lode esplicita",
        "learned": "appreso dai commenti etichettati",
    }
}
_NUMBER_AFTER = re.compile(r"^(?P<label>[a-z][a-z /-]*?) (?P<n>\d+(?:\.\d+)?)$")
_NUMBER_BEFORE = re.compile(r"^(?P<n>\d+) (?P<label>[a-z][a-z /-]*)$")
_QUOTED_AFTER = re.compile(r"^(?P<label>[a-z][a-z /-]*?) (?P<rest>'.*)$")


def translate_reason(reason: str, lang: str) -> str:
    """The reason's labels in ``lang``; anything not recognised is left as it is.

    >>> translate_reason("complaint: experience: consegna, ritardo", "it")
    'reclamo: esperienza: consegna, ritardo'
    >>> translate_reason("3 exclamation marks", "it")
    '3 punti esclamativi'
    >>> translate_reason("sarcasm: irony 0.81", "it")
    'sarcasmo: ironia 0,81'
    >>> translate_reason("misguided: claim pattern: rumour, cover-up", "it")
    'accusa infondata: segnale: voce che gira, insabbiamento'
    >>> translate_reason("negative: 'vergogna'", "en")
    "negative: 'vergogna'"
    """
    coded = _coded_reason(reason, lang)
    if coded is not None:
        return coded
    labels = REASON_LABELS.get(lang)
    if not labels:
        return reason
    parts = reason.split(": ")
    head, last = parts[:-1], parts[-1]

    def label(text: str) -> str | None:
        if text in labels:
            return labels[text]
        for pattern in (_NUMBER_AFTER, _NUMBER_BEFORE, _QUOTED_AFTER):
            match = pattern.match(text)
            if match and match["label"] in labels:
                said = text.replace(match["label"], labels[match["label"]], 1)
                n = match.groupdict().get("n")
                return said.replace(n, _decimals(n, lang)) if n else said
        return None

    translated = [label(p) or p for p in head]
    if head and head[-1] == "claim pattern":  # a list of the patterns' names, not of words
        translated.append(", ".join(label(p) or p for p in last.split(", ")))
    else:
        translated.append(label(last) or last)
    return ": ".join(translated)


#: Languages that write 4,5 where English writes 4.5.
def number(value: object, lang: str, places: int | None = None) -> str:
    """A number as readers of ``lang`` write it; ``places`` fixes the decimals. Anything that is
    not a number is shown as it is.

    >>> number(0.798, "it"), number(Decimal("10.00"), "it", 2), number(10, "en", 2)
    ('0,798', '10,00', '10.00')
    >>> number(None, "it"), number("n/a", "it")
    ('None', 'n/a')
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    return _decimals(f"{value:.{places}f}" if places is not None else str(value), lang)


def _decimals(text: str, lang: str) -> str:
    """``text``, a number written with a decimal point, in ``lang``'s decimals."""
    return text.replace(".", ",") if lang in DECIMAL_COMMA else text


def _coded_reason(reason: str, lang: str) -> str | None:
    """A reason that carries a code and parameters (``crisisdesk.reasons.Reason``:
    author risk, competitor flags) said from the catalog entry ``reason.<code>``; None for a plain
    string. Without an entry in ``lang`` it is its own English sentence. Parameters are the
    commenter's or the person's words and stay as they are, except nested reasons.

    >>> from crisisdesk.reasons import Reason
    >>> translate_reason(Reason("competitor.mention", "mentions {name}", name="Acme"), "it")
    'menziona Acme'
    >>> translate_reason(Reason("competitor.mention", "mentions {name}", name="Acme"), "en")
    'mentions Acme'
    >>> translate_reason(Reason("fake.bursts", "{comments} in {minutes} min", comments=3,
    ...                         minutes=4.5), "it")
    'raffiche di attività (3 commenti in 4,5 minuti)'
    """
    code, params = getattr(reason, "code", None), getattr(reason, "params", None)
    if not isinstance(code, str) or not isinstance(params, dict):
        return None
    template = CATALOGS.get(lang, {}).get("reason." + code)
    if not template:
        return str(reason)

    def value(v: object) -> object:
        if isinstance(v, list | tuple):
            return "; ".join(str(value(x)) for x in v)
        if isinstance(v, float):
            return number(v, lang)
        if isinstance(v, str) and hasattr(v, "code"):
            return translate_reason(v, lang)
        return checked_note(v, lang) if isinstance(v, str) else v

    try:
        return template.format_map({k: value(v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return str(reason)  # a broken translation must not hide the reason


# What the verdict form appends to a note: the profile checks the person ticked, by their codes.
_CHECKED = re.compile(r"\[checked: (?P<codes>[a-z_]+(?:, [a-z_]+)*)\]")


def checked_note(note: str, lang: str) -> str:
    """A verdict note with its "[checked: photo, friends]" said in ``lang``.

    >>> checked_note("Looks fine [checked: photo, friends]", "it")
    'Looks fine [controllato: foto, amici]'
    >>> checked_note("no checks", "it")
    'no checks'
    """
    text = _catalog_text(lang)

    def said(match: re.Match[str]) -> str:
        names = [text(f"check.done.{c}", c) for c in match["codes"].split(", ")]
        return f"[{text('check.done', 'checked')}: {', '.join(names)}]"

    return _CHECKED.sub(said, note)


# "offensive_min must be a number between 0 and 1": the field's name is the form's own, the rest
# a sentence of the catalog (``locales/messages.json``).
_FIELD_MESSAGE = re.compile(r"^(?P<field>[a-z][a-z_]*) (?P<rest>must be .*)$")


def translate_action(action: str, lang: str) -> str:
    """An audit entry's action code ("case.escalate") in words; an unknown code stays a code.

    >>> translate_action("case.escalate", "it"), translate_action("plugin.thing", "it")
    ('ha coinvolto un referente', 'plugin.thing')
    """
    return CATALOGS.get(lang, {}).get("audit." + action) or action


def translate_message(message: str, lang: str) -> str:
    """A refusal the workflow explains in English ("value must be a number"), in ``lang``: the
    catalog holds it as ``message.<the English sentence>``; one it does not know stays English.

    >>> translate_message("value must be a number", "it")
    'il valore deve essere un numero'
    >>> translate_message("offensive_min must be a number between 0 and 1", "it")
    'offensive_min deve essere un numero tra 0 e 1'
    >>> translate_message("value must be a number", "en")
    'value must be a number'
    """
    catalog = CATALOGS.get(lang, {})
    found = catalog.get("message." + message)
    if found:
        return found
    match = _FIELD_MESSAGE.match(message)
    if match:
        template = catalog.get("message.{field} " + match["rest"])
        if template:
            return template.replace("{field}", match["field"])
    return message


def _catalog_text(lang: str) -> Callable[[str, str], str]:
    """``text(key, default)``: the text of ``key`` in ``lang``, else in English, else ``default``.

    The catalogs are picked when it is made, not at each look-up: a page looks up many keys.

    >>> text = _catalog_text("it")
    >>> text("nav.inbox", "?"), text("check.done.nothing_like_this", "nothing_like_this")
    ('Posta in arrivo', 'nothing_like_this')
    """
    catalog = CATALOGS.get(lang, {})
    fallback = CATALOGS[DEFAULT_LANGUAGE]

    def text(key: str, default: str) -> str:
        return catalog.get(key) or fallback.get(key) or default

    return text


def translator(lang: str) -> Callable[[str], str]:
    """``_(key)`` of the templates: the key itself when no catalog has it, so a missing text
    shows where it belongs."""
    text = _catalog_text(lang)

    def gettext(key: str) -> str:
        return text(key, key)

    return gettext


def register(lang: str, catalog: dict[str, str], name: str) -> None:
    """Add a language at run time (plugins, tests)."""
    CATALOGS[lang] = catalog
    LANGUAGES[lang] = name
