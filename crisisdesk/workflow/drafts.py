"""Suggested starting points for a reply, per kind of comment and language.

These are starting points, never replies: the desk shows one in an editable box, a person rewrites
it for this comment, the checks run on what they wrote, and nothing is published without them.
The text follows the playbook: acknowledge the feeling, apologise where the brand may be at
fault, name the concrete next step and the person who will follow up, and offer to continue in
private (Herhausen et al. 2019: moving to a private channel with an apology limits virality).
Trolls get a short, calm note or nothing at all: feeding them is the mistake.

The instructions in square brackets are there on purpose, addressed to the person writing: the
``unfinished`` check fails while any bracketed text is left, and publishing refuses a draft that
still holds one of these instructions word for word (:func:`placeholders_left`).
"""

from __future__ import annotations

import re

from crisisdesk.workflow.checks import BRACKETED, first_name, fold

# Topic words, folded (no accents), in Italian and English. The topic picks the contact to
# escalate to (Page.config["contacts"]) and fills the suggestion.
TOPICS: dict[str, tuple[str, ...]] = {
    "delivery": (
        "deliver", "delivery", "shipping", "shipment", "courier", "parcel", "package", "arrived",
        "late", "consegna", "spedizione", "corriere", "pacco", "ordine", "order", "ritardo",
        "arrivato", "arrivata",
    ),
    "billing": (
        "bill", "billing", "invoice", "charge", "charged", "payment", "paid", "price", "refund",
        "fattura", "addebito", "addebitato", "pagamento", "pagato", "prezzo", "rimborso", "soldi",
        "money",
    ),
    "product": (
        "broken", "quality", "stale", "taste", "product", "faulty", "defect", "expired", "rotto",
        "qualita", "prodotto", "difettoso", "scaduto", "sapore", "duro", "bruciato", "crudo",
        "pane", "bread", "cake", "torta",
    ),
    "staff": (
        "staff", "rude", "employee", "waiter", "cashier", "manager", "service", "personale",
        "commesso", "commessa", "cameriere", "cassiera", "maleducato", "maleducata", "servizio",
        "scortese",
    ),
}  # fmt: skip

#: Words that name a delivery. "late", "ritardo" or "arrived" route a comment to the delivery
#: contact, but alone they may be about a train or an answer: the suggestion then does not say
#: "sorry about your delivery" to someone whose 7:40 was cancelled.
DELIVERY_NAMES = frozenset(
    "deliver delivery delivered shipping shipment courier parcel package order consegna "
    "consegnato consegnata spedizione corriere pacco ordine".split()
)

TOPIC_WORDS = {
    "delivery": ("your delivery", "la consegna"),
    "billing": ("the charge on your account", "il pagamento"),
    "product": ("what you received", "quello che hai ricevuto"),
    "staff": ("how you were treated", "il trattamento che hai ricevuto"),
    None: ("what you describe", "quello che racconti"),
}

_WORD = re.compile(r"[^\W\d_]+")


def detect_topic(text: str) -> str | None:
    """The topic a comment is about, by keywords, or None.

    >>> detect_topic("La consegna è arrivata con due giorni di ritardo")
    'delivery'
    >>> detect_topic("lovely weather") is None
    True
    """
    words = set(_WORD.findall(fold(text)))
    best, best_hits = None, 0
    for topic, keys in TOPICS.items():
        hits = sum(1 for k in keys if k in words)
        if hits > best_hits:
            best, best_hits = topic, hits
    return best


# {who} is the subject of a sentence and {to_who} the one something is passed to: "the person
# responsible (Marco)" and "our team" when nobody is named. The contact may be a name ("Marco
# (logistica)") or a job title ("Social media manager"), so it only ever appears in brackets
# after the role. Nothing here says an action was already taken: the reply goes out before
# anyone acts on it. The Italian addresses the person without assuming their gender.
EN: dict[str, str] = {
    "complaint": (
        "Hi {name}, I'm sorry about {topic}: that is not the experience we want you to have, "
        "and I understand why you are upset. [Write what went wrong, in the customer's words.] "
        "I'll pass this on {to_who}, who will look into it today. "
        "Could you send us a private message with your details so we can sort it out with you "
        "directly? — {signature}"
    ),
    "misguided": (
        "Hi {name}, thank you for raising this: I can see why it worries you. "
        "[Write the correct fact plainly, with a source or link.] "
        "If anything is still unclear, {who} is happy to go through it with you by private "
        "message. — {signature}"
    ),
    "rager": (
        "Hi {name}, I hear you, and I'm sorry this has been so frustrating. "
        "[Write the one concrete problem behind the anger.] "
        "I'd like to help properly: if you send us a private message, {who} will follow it up "
        "with you personally. — {signature}"
    ),
    "troll": (
        "Hi {name}, we're here for anyone who has a real question or problem with us. "
        "[If needed, add one calm, factual sentence; otherwise do not reply at all.] "
        "Our messages are always open. — {signature}"
    ),
    "question": (
        "Hi {name}, thanks for asking! [Write the answer, concrete and complete.] "
        "If you need anything else, just write to us here or by private message. — {signature}"
    ),
    "praise": (
        "Thank you so much, {name}! [Write the detail the customer liked.] "
        "We'll pass your words on to the team. — {signature}"
    ),
    "other": (
        "Hi {name}, thanks for writing to us about {topic}. "
        "[Reply to what the customer actually said.] "
        "If it helps, send us a private message and {who} will get back to you. — {signature}"
    ),
}

IT: dict[str, str] = {
    "complaint": (
        "Ciao {name}, mi dispiace davvero per {topic}: non è l'esperienza che vogliamo farti "
        "vivere e capisco il tuo disappunto. [Scrivi cosa è andato storto, con le parole del "
        "cliente.] Giro la segnalazione {to_who}, che se ne occuperà oggi stesso. "
        "Ci scrivi in privato con i tuoi dati, così lo risolviamo insieme a te? — {signature}"
    ),
    "misguided": (
        "Ciao {name}, grazie per averlo segnalato: capisco che la cosa ti preoccupi. "
        "[Scrivi il fatto corretto in modo semplice, con una fonte o un link.] "
        "Se qualcosa non è chiaro, {who} è a disposizione in privato per spiegartelo meglio. "
        "— {signature}"
    ),
    "rager": (
        "Ciao {name}, ti ascolto e mi dispiace per tutta questa frustrazione. "
        "[Scrivi il problema concreto che c'è dietro la rabbia del cliente.] Vorrei aiutarti "
        "davvero: se ci scrivi in privato, {who} lo seguirà personalmente con te. — {signature}"
    ),
    "troll": (
        "Ciao {name}, siamo qui per chiunque abbia una domanda o un problema reale. "
        "[Se serve, aggiungi una frase calma e concreta; altrimenti non rispondere affatto.] "
        "I nostri messaggi sono sempre aperti. — {signature}"
    ),
    "question": (
        "Ciao {name}, grazie della domanda! [Scrivi la risposta, concreta e completa.] "
        "Per qualsiasi altra cosa scrivici qui o in privato. — {signature}"
    ),
    "praise": (
        "Grazie di cuore, {name}! [Scrivi il dettaglio che il cliente ha apprezzato.] "
        "Riferiremo le tue parole a tutta la squadra. — {signature}"
    ),
    "other": (
        # "Per quanto riguarda" takes every topic phrase as it is ("su il pagamento" would not).
        "Ciao {name}, grazie di averci scritto. Per quanto riguarda {topic}: [Rispondi a quello "
        "che il cliente ha scritto davvero.] Se preferisci, scrivici in privato e {who} ti "
        "ricontatterà. — {signature}"
    ),
}

#: The suggestions' own bracketed instructions, exactly as written above. Publishing refuses a
#: draft that still holds one: it would go out to the customer as it stands.
PLACEHOLDERS: frozenset[str] = frozenset(
    m.group(0) for template in (*EN.values(), *IT.values()) for m in BRACKETED.finditer(template)
)


def placeholders_left(text: str) -> list[str]:
    """The suggestions' placeholders still in ``text``, in the order they appear.

    >>> placeholders_left("Hi Anna, [Write the answer, concrete and complete.] Bye")
    ['[Write the answer, concrete and complete.]']
    >>> placeholders_left("Hi Anna, the shop opens at [9:00].")
    []
    """
    # Whitespace is evened out, so a line break typed inside an instruction still counts.
    found = (" ".join(m.group(0).split()) for m in BRACKETED.finditer(text))
    return [p for p in dict.fromkeys(found) if p in PLACEHOLDERS]


def suggest_draft(
    kind: str,
    language: str,
    *,
    author_name: str | None = None,
    comment_text: str = "",
    responsible: str | None = None,
    page_name: str | None = None,
) -> str:
    """A starting point for a person to edit; nothing for spam, which gets no reply (hide it).

    >>> print(suggest_draft("complaint", "it", author_name="Anna Rossi",
    ...     comment_text="Consegna in ritardo di due giorni", responsible="Marco (logistica)",
    ...     page_name="Forno Aurora"))  # doctest: +ELLIPSIS
    Ciao Anna, mi dispiace davvero per la consegna: ... al referente (Marco, logistica), ...
    >>> suggest_draft("spam", "it", author_name="Offerte Lampo", comment_text="Guadagna 500€")
    ''
    >>> rail = "Third cancellation this week on the 7:40. I've been late for work every day."
    >>> suggest_draft("complaint", "en", comment_text=rail)[:38]
    "Hi there, I'm sorry about what you des"
    >>> suggest_draft("complaint", "en", comment_text="My parcel is late again")[:35]
    "Hi there, I'm sorry about your deli"
    """
    if kind == "spam":
        return ""
    italian = language == "it"
    templates = IT if italian else EN
    template = templates.get(kind) or templates["other"]
    topic = detect_topic(comment_text)
    if topic == "delivery" and not set(_WORD.findall(fold(comment_text))) & DELIVERY_NAMES:
        topic = None
    topic_en, topic_it = TOPIC_WORDS[topic]
    name = first_name(author_name) or ("" if not italian else "")
    if responsible and "(" in responsible:
        # "Marco (logistica)" inside our own brackets would nest them: "Marco, logistica"
        responsible = ", ".join(p.strip(" )") for p in responsible.split("(") if p.strip(" )"))
    if italian:
        who = f"il referente ({responsible})" if responsible else "il nostro team"
        to_who = f"al referente ({responsible})" if responsible else "al nostro team"
    else:
        who = f"the person responsible ({responsible})" if responsible else "our team"
        to_who = f"to the person responsible ({responsible})" if responsible else "to our team"
    text = template.format(
        name=name or ("a te" if italian else "there"),
        topic=topic_it if italian else topic_en,
        who=who,
        to_who=to_who,
        signature=page_name or ("Il team" if italian else "The team"),
    )
    if not name:
        # "Ciao a te," / "Hi there," read fine; "Grazie di cuore, a te!" does not.
        text = text.replace(", a te!", "!").replace(", there!", "!")
    return text
