"""Spam: how much a comment looks like promotion, a scam or link farming.

Page comments are baited by giveaways, loans, replicas and profile pushing; the desk should never
answer them. The score is a logistic sum of readable signals (links, contact channels, money,
promo and scam phrases, emoji runs), and every signal that counts leaves a reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# shared with the other rules: rare patterns behind cheap tests, and links
from crisisdesk.analysis.rules import _URL, _Rare, _without_urls

#: A phone number: with its country code ("+1 555 0147") two groups are enough, without it three.
_PHONE = re.compile(
    r"\+\d{1,3}[\s.\-]?(?:\(?\d{2,4}\)?[\s.\-]?){1,4}\d{3,4}"
    r"|(?:\(?\d{2,4}\)?[\s.\-]?){2,4}\d{3,4}"
)
#: The part of an e-mail address from its "@": a scan for the "@" skips ahead to each one, where
#: a scan for the whole address tries the local part at every character first (ten times slower
#: on tweets, where every "@" starts a mention).
_EMAIL_DOMAIN = re.compile(r"@[\w\-]+\.[\w.\-]")
_EMAIL_LOCAL = re.compile(r"[\w.+\-]")
_DIGIT = re.compile(r"\d")
#: Five or more of a character, asked only whether there are any. Written "(.)\1{4,}" it matches
#: the same texts at twice the cost: the repeat is set up again at every character.
_REPEAT = re.compile(r"(.)\1\1\1\1")
_EMOJI = re.compile("[\U0001f300-\U0010ffff]")
#: A discount written as a minus ("-70%!!!"): what a shop's advert says, not a customer.
_DISCOUNT = re.compile(r"(?<![\w.])-\s?\d{1,2}\s?%")
#: A number to call given in words rather than in full international form ("Call 555-0100").
_CALL_NUMBER = re.compile(
    r"\b(?:call|text|chiama(?:ci|mi|teci)?|telefona(?:ci|mi)?)(?: (?:us|me|now|ora|al))*"
    r"(?: (?:on|at))? \+?\d[\d\s.\-]{5,}\d"
)
#: An amount with its currency after it is tried only where its number starts, and its digits
#: are not given back: tried from each digit, a long run of digits was scanned again from each
#: one: nearly a second on a comment of 4,000 digits.
_MONEY = re.compile(
    r"(?:[$€£]\s?\d[\d.,]*|(?<![\d.,])[.,]*\d[\d.,]*+\s?(?:[$€£]|(?:euro|eur|usd|dollars?)\b))",
    re.I,
)
#: Every amount of :data:`_MONEY` holds a currency sign or a currency's name, which the
#: lower-cased comment shows as such: but "ſ" (a long s) is an "s" to re.I, and lower-cased it
#: stays "ſ". Most comments with a digit hold none of these, and these tests cost far less than
#: the pattern, which is tried at every character.
_MONEY_SIGNS = ("$", "€", "£", "eur", "usd", "uſd", "dollar")

SPAM_PHRASES: dict[str, float] = {
    # Sending readers to the writer's own profile: the commonest funnel of spam on a page, and
    # nothing a customer says to the brand. Enough on its own.
    "link in bio": 3.4,
    "link nel profilo": 3.4,
    "link nel mio profilo": 3.4,
    "link in my bio": 3.4,
    "link nella bio": 3.4,
    "check my profile": 3.4,
    "check out my profile": 3.4,
    "check my page": 3.4,
    "check my bio": 3.4,
    "visit my profile": 3.4,
    "visit my page": 3.4,
    "guarda il mio profilo": 3.4,
    "visita il mio profilo": 3.4,
    "passa dal mio profilo": 3.4,
    "passa sul mio profilo": 3.4,
    "vieni sul mio profilo": 3.4,
    # the same invitation to many readers at once ("passate dal mio profilo, ragazze")
    "passate dal mio profilo": 3.4,
    "passate sul mio profilo": 3.4,
    "venite sul mio profilo": 3.4,
    "guardate il mio profilo": 3.4,
    "visitate il mio profilo": 3.4,
    "link in my profile": 3.4,
    "link in profile": 3.4,
    "link sul mio profilo": 3.4,
    "link sul profilo": 3.4,
    # the writer's own page to follow, asked of every reader
    "follow my page": 2.0,
    "segui la mia pagina": 2.0,
    "seguite la mia pagina": 2.0,
    # growth sold to the page itself: "far crescere il tuo profilo", "grow your page"
    "grow your page": 1.4,
    "grow your profile": 1.4,
    "crescere il tuo profilo": 1.4,
    "crescere la tua pagina": 1.4,
    # Another account to follow: also a way to reach the promoter (a channel, below); fans pass
    # on the brand's own, so it weighs less.
    "follow @": 1.6,
    "segui @": 1.6,
    "seguite @": 1.6,
    "page @": 1.6,
    "pagina @": 1.6,
    # a link spelled out so that the platform does not block it ("growfast dot com")
    "dot com": 2.0,
    "punto com": 2.0,
    # a stranger who recruits: "ho visto il tuo profilo, saresti perfetta come ambassador"
    "ambassador": 1.2,
    "ho visto il tuo profilo": 1.4,
    "i saw your profile": 1.4,
    "saresti perfetta": 0.8,
    "saresti perfetto": 0.8,
    "you'd be perfect": 0.8,
    # the reader's own profile praised by a stranger's account: a page has no "profile" to them
    "bel profilo": 0.8,
    "nice profile": 0.8,
    "love your feed": 0.8,
    "hello dear": 1.2,
    "hi dear": 1.2,
    "contattaci": 0.9,
    "contact us": 0.8,
    "message me": 1.0,
    # the same ask in its short forms ("msg me on telegram", "pm me for prices")
    "msg me": 1.0,
    "pm me": 1.0,
    "inbox me": 1.0,
    "scrivimi": 0.6,
    # promotion and link farming
    "click here": 1.6,
    "clicca qui": 1.6,
    "follow me": 1.0,
    "seguimi": 1.0,
    "follow back": 1.4,
    "ricambio": 0.8,
    "follow for follow": 2.0,
    "f4f": 2.0,
    # the same swap of follows, likes or subscriptions in its other spellings
    "followforfollow": 2.0,
    "follow4follow": 2.0,
    "follow x follow": 2.0,
    "sub for sub": 2.0,
    "sub4sub": 2.0,
    "like for like": 2.0,
    "like4like": 2.0,
    "l4l": 2.0,
    "dm me": 0.9,
    # a stranger's account to write to: "DM our main account", "scrivici in DM"
    "dm our": 0.9,
    "dm us": 0.9,
    "in dm": 0.6,
    # a pitch that sends the reader to comment a keyword, to be written to in private
    "comment info": 1.2,
    "commenta info": 1.2,
    "commentate info": 1.2,
    "scrivimi info": 1.2,
    "scrivimi in privato": 0.9,
    "free followers": 2.2,
    "followers gratis": 2.2,
    "cheap followers": 2.2,
    "more followers": 1.2,
    # a round number of followers sold ("10,000 followers in 24h", "5.000 follower")
    "000 follower": 1.4,
    "più follower": 1.2,
    "% off": 1.0,
    "% di sconto": 1.0,
    "% sconto": 1.0,
    "only today": 0.6,
    "today only": 0.6,
    "solo oggi": 0.6,
    "solo per oggi": 0.6,
    "metà prezzo": 0.8,
    "replica": 1.2,
    "repliche": 1.2,
    "worldwide shipping": 0.9,
    "spedizione in tutto il mondo": 0.9,
    "cheap": 0.4,
    "buy": 0.5,
    "info in privato": 1.0,
    "make money online": 1.5,
    "guadagni": 0.8,
    "promo code": 0.9,
    "with code": 0.9,
    "con il codice": 0.9,
    # an advert's price claim: "best prices in town", "prezzi imbattibili"
    "best price": 0.9,
    "prezzi imbattibili": 0.9,
    "miglior prezzo": 0.9,
    # a private sale posted on the page: "vendo ... trattabili"
    "vendo": 0.8,
    "selling": 0.8,
    "trattabile": 0.8,
    "trattabili": 0.8,
    "for sale": 0.6,
    "or best offer": 0.8,
    # a brand deal offered to the page or its readers
    "collab": 0.8,
    "collabora con noi": 1.0,
    "collaborazione": 0.5,
    "brand ambassador": 0.6,
    # medicines sold without a prescription, shipped unseen
    "without prescription": 1.6,
    "senza ricetta": 1.6,
    "discreet shipping": 1.0,
    "shipped discreet": 1.0,
    "spedizione discreta": 1.0,
    "codice sconto": 0.9,
    "discount code": 0.9,
    "limited offer": 1.0,
    "offerta limitata": 1.0,
    "buy now": 1.1,
    "acquista ora": 1.1,
    "order now": 0.8,
    "100% free": 1.2,
    # game cheats: a "generator" of free currency that "really works"; a customer has no reason
    # to vouch that something is 100% working
    "generator": 1.4,
    "generatore": 1.4,
    "100% working": 1.4,
    "100% funzionante": 1.4,
    "100% legit": 1.4,
    # something valuable offered "for free" by a stranger
    "for free": 0.6,
    "gratis": 0.6,
    "free": 0.4,
    "win": 0.3,
    "vinci": 0.4,
    "giveaway": 0.9,
    # a prize to claim or a page to "verify": the bait of phishing
    "claim your prize": 1.5,
    "per riscattare": 1.0,
    "riscatta il tuo premio": 1.5,
    "hai vinto": 1.0,
    "have won": 0.8,
    "confirm here": 1.0,
    "conferma qui": 1.0,
    "selected for verification": 1.8,
    "selezionata per la verifica": 1.8,
    "verify your page": 2.0,
    "verifica la tua pagina": 2.0,
    # "your account was selected for a gift card, claim within 24h": a prize nobody entered for,
    # with a deadline. "Selected" alone is left out: passengers get "selected for screening".
    "was selected for a": 1.0,
    "been selected for a": 1.0,
    "sei stato selezionato": 1.0,
    "sei stata selezionata": 1.0,
    "gift card": 0.8,
    "claim within": 1.2,
    "claim now": 1.2,
    "claim before": 1.2,
    "claim it now": 1.2,
    "riscatta entro": 1.2,
    "riscattalo entro": 1.2,
    "omaggio": 0.4,
    "subscribe": 0.6,
    "iscriviti": 0.6,
    # money and scams
    "bitcoin": 1.5,
    "$$$": 1.2,
    "£££": 1.2,
    "€€€": 1.2,
    "💰": 0.6,
    "btc": 1.0,
    "crypto": 1.1,
    "cripto": 1.1,
    "criptovalute": 1.1,
    "forex": 1.3,
    "trading": 0.7,
    "investment": 0.6,
    "investimento": 0.6,
    "invest": 0.5,
    "passive income": 1.5,
    "rendita passiva": 1.5,
    "vivo di rendita": 1.2,
    "financial freedom": 1.2,
    "libertà finanziaria": 1.2,
    # the funnel of a get-rich story: the reader is to write and ask
    "ask me how": 1.8,
    # the story of the funnel: the writer quit a job or doubled their money
    "quit my job": 1.4,
    "ho lasciato il mio lavoro": 1.4,
    "doubled my": 1.2,
    "ho raddoppiato": 1.2,
    "investi": 0.6,
    "earning": 0.7,
    "chiedimi come": 1.8,
    "chiedetemi come": 1.8,
    # loans offered to strangers. "No credit check" is matched as "credit check": a cue opening
    # with a letter no other cue opens with ("n") slows the scan of every comment.
    "credit check": 1.6,
    "senza controlli": 0.8,
    "loan": 0.6,
    "prestito veloce": 1.5,
    "prestiti veloci": 1.5,
    "guadagna": 1.0,
    "guadagnare": 0.8,
    "earn": 0.7,
    "make money": 1.2,
    "work from home": 1.2,
    # the job offer of a recruiting scam: anyone, any time, from home
    "flexible hours": 0.8,
    "orari flessibili": 0.8,
    "experience needed": 0.8,
    "esperienza richiesta": 0.8,
    # the testimonial of a miracle product or method
    "changed my life": 0.8,
    "cambiato la vita": 0.8,
    "get rich": 1.2,
    "diventare ricco": 1.2,
    "diventare ricca": 1.2,
    "bad credit": 1.2,
    "lavoro da casa": 1.2,
    "lavora da casa": 1.2,
    "per day": 0.7,
    # another business advertising its service under the page's post
    "free quote": 1.2,
    "preventivo gratuito": 1.2,
    "preventivi gratuiti": 1.2,
    "24/7": 0.5,
    "al giorno": 0.4,
    "whatsapp": 0.9,
    "telegram": 0.9,
    "wire transfer": 0.9,
    "account manager": 0.8,
    "recover your account": 2.0,
    "recupera il tuo account": 2.0,
    "verify your account": 2.0,
    "verifica il tuo account": 2.0,
    "account has been flagged": 1.5,
    "will be blocked": 1.0,
    "verrà bloccato": 1.0,
    "hacked account": 0.9,
    "casino": 0.8,
    "onlyfans": 1.4,
    "hot singles": 1.6,
    "dating": 0.6,
}

#: Phrases that in a page comment almost always mean "write to my contact", i.e. a scam funnel.
_CONTACT_CUES = ("contact", "contatta", "contattami", "scrivi a", "write to", "message")


@dataclass
class SpamSignal:
    score: float
    reasons: list[str] = field(default_factory=list)


_ALNUM = re.compile(r"\w+")
# Single-word cues match whole tokens; phrases and symbols ("$$$", "% off") match as substrings.
_SPAM_WORDS = {p: w for p, w in SPAM_PHRASES.items() if _ALNUM.fullmatch(p)}
_SPAM_SUBSTRINGS = {p: w for p, w in SPAM_PHRASES.items() if p not in _SPAM_WORDS}


def _any_of(phrases: Sequence[str]) -> str:
    """An expression for any of ``phrases``, shaped as a tree of their characters: at each step
    the scan tries one branch per next character instead of every phrase that is still possible.

    >>> _any_of(["win", "winner", "free"])
    '(?:free|win(?:ner)?)'
    """
    trie: dict[str, dict] = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {"": {}}  # a phrase ends here, with nothing to check behind it
    return _branches(trie)


_WORD_CHARS = re.compile(r"\w*")


def _any_of_from_symbol(phrases: Sequence[str]) -> str:
    r"""An expression for any of ``phrases``, each holding a character that is not a word
    character, matched from the first such character and checked whole behind the match.

    A scan tries a pattern at every character that may open it. The first letters of the
    phrases are three quarters of a tweet's characters; their first spaces and symbols ("% off",
    "dm us", "follow @") a sixth, so the scan tries the pattern a quarter as often.

    >>> print(_any_of_from_symbol(["% off", "dm us", "dm me"]))
    (?:\ (?:me(?<=dm\ me)|us(?<=dm\ us))|%\ off)
    """
    trie: dict[str, dict] = {}
    for phrase in phrases:
        match = _WORD_CHARS.match(phrase)
        symbol = match.end() if match else 0
        if symbol == len(phrase):
            raise ValueError(f"{phrase!r} holds only word characters")
        node = trie
        for ch in phrase[symbol:]:
            node = node.setdefault(ch, {})
        # the phrase ends here if the characters behind the match, symbol included, are its own
        node.setdefault("", {})[f"(?<={re.escape(phrase)})" if symbol else ""] = {}
    return _branches(trie)


def _branches(node: dict[str, dict]) -> str:
    """The expression for the characters after ``node`` of a tree built by :func:`_any_of` or
    :func:`_any_of_from_symbol`. ``node[""]`` holds the checks behind the phrases that end
    there ("" for none)."""
    alts = [re.escape(ch) + _branches(child) for ch, child in sorted(node.items()) if ch]
    checks = node.get("", {})
    if "" in checks:  # a phrase ends here whatever is behind it: the rest is optional
        return f"(?:{'|'.join(alts)})?" if alts else ""
    alts += sorted(checks)
    return alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"


# Most comments hold no cue: one scan each proves it. A word cue (all word characters) is one of
# the ``\w+`` tokens exactly where it matches after a character that is not a word character and
# before a word boundary; the scan is tried only at such characters (a fifth of a tweet's, where
# "\b" is tried at all), on the comment after a space so that its first token has one too.
_SPAM_WORD_CUE = re.compile(rf"\W(?:{_any_of(list(_SPAM_WORDS))})\b")
_SPAM_SUBSTRING_CUE = re.compile(_any_of_from_symbol(list(_SPAM_SUBSTRINGS)))


def _phrase_hits(low: str) -> list[tuple[str, float]]:
    hits = []
    if _SPAM_WORD_CUE.search(" " + low):
        tokens = set(_ALNUM.findall(low))
        hits = [(p, w) for p, w in _SPAM_WORDS.items() if p in tokens]
    if _SPAM_SUBSTRING_CUE.search(low):
        hits += [(p, w) for p, w in _SPAM_SUBSTRINGS.items() if p in low]
    return hits


#: The top-level domains that scam sites favour, and the common ones.
_SCAM_TLDS = (
    "shop store help xyz top click link online site live club vip icu buzz loan money cash deals "
    "sale promo bet casino"
).split()
_COMMON_TLDS = "com net org info biz".split()
#: Common domains that are also short words or typos ("bello.it", "grazie.io"): only with a path.
_SHORT_TLDS = "it io me co ly eu uk app win".split()
_TLD_ALTERNATIVES = "|".join(_SCAM_TLDS + _COMMON_TLDS)
#: A web address written without "http" or "www." ("premi-vinci24.xyz/ritira"): a name and a
#: top-level domain, not part of an e-mail address.
_BARE_DOMAIN = re.compile(
    r"(?<![@\w.\-])[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)*"
    rf"\.(?:(?P<tld>{_TLD_ALTERNATIVES})\b|(?:{'|'.join(_SHORT_TLDS)})/)(?:/?\S*)"
)
#: Every bare domain holds a dot and its top-level domain. A literal dot starts the pattern, which
#: the scan finds quickly: only texts with such a dot try the whole pattern.
_DOMAIN_ENDING = re.compile(rf"\.(?:{_TLD_ALTERNATIVES}|{'|'.join(t + '/' for t in _SHORT_TLDS)})")
_SCAM_TLD_SET = frozenset(_SCAM_TLDS)
#: A domain of any other ending, written with a path and a hyphenated name
#: ("claim-premium-free.example/win"): too many dots in ordinary text for a bare name alone.
_OTHER_DOMAIN = re.compile(r"(?<![@\w.\-])[a-z0-9]+(?:-[a-z0-9]+)+\.[a-z]{2,10}/\S*")


#: Words that a phishing domain strings together with hyphens to look like the brand's own
#: service ("consegne-verifica.example.com", "secure-login-help.net").
_OFFICIAL_WORDS = re.compile(
    r"verif|secur|sicurezza|login|accedi|account|support|assistenza|consegn|deliver|track|"
    r"pacco|parcel|prize|premi|bonus|gift|rimbors|refund"
)


def _looks_official(domain: str) -> bool:
    """A hyphenated domain name made of service words: a brand's own site is named by the brand
    ("trenitalia.com", "help.united.com"), a phishing page by what it pretends to be."""
    name = domain.split("/", 1)[0]
    return "-" in name and _OFFICIAL_WORDS.search(name) is not None


def _links(text: str, low: str) -> tuple[int, float]:
    """How many web addresses ``text`` holds, and how much they weigh as a sign of spam.

    A link to click ("http://", "www.") weighs fully, and so does a bare domain of the kinds scam
    sites favour ("page-verify.help/confirm"). Customers name the brand's own site bare
    ("booked on united.com", "trenitalia.it/offerte"): such a domain weighs half.
    """
    urls = _URL.findall(text) if "://" in text or "www." in low else []  # see _without_urls
    weight = 1.6 * bool(urls)
    bare = 0
    if _DOMAIN_ENDING.search(low):
        for match in _BARE_DOMAIN.finditer(_without_urls(low)):
            bare += 1
            scam = match.group("tld") in _SCAM_TLD_SET or _looks_official(match.group(0))
            weight = max(weight, 1.6 if scam else 0.8)
    if not urls and not bare and "-" in low and "/" in low:
        bare = len(_OTHER_DOMAIN.findall(_without_urls(low)))
        weight = 0.8 * bool(bare)
    n = len(urls) + bare
    return n, (weight + 0.6 * min(n - 1, 3) if n else 0.0)


#: A prize for sharing and liking ("SKIPASS GRATIS a chi condivide e mette like", "share this post
#: and like our page to win"): the bait of fake giveaway pages, which grow on the shares. Only
#: the forms that ask the readers count: "I shared the post and liked the page, where's my prize"
#: is a customer's complaint.
_SHARE_BAIT = _Rare(
    re.compile(
        r"\b(?:condividi|condividete|(?:a )?chi (?:condivide|ricondivide)|share (?:this|our|the)|"
        r"just share|taggate|tagga|tag (?:\d+|two|three|a|your) friends?)\b"
        r"[^.!?\n]{0,60}?\b(?:like|mi piace|segu\w*|follow\w*)"
    ),
    ("condivid", "share", "tagga", "tag "),
)


#: A stock or places said to be running out ("only 10 left", "ultimi 5 posti"): the hurry an
#: advert puts on its readers.
_SCARCITY = _Rare(
    re.compile(
        r"\b(?:only|just) \d+ (?:left|remaining)\b|"
        r"\b(?:solo|ultimi|ultime) \d+ (?:pezzi|posti|disponibili|rimast[ie])\b|"
        r"\b(?:posti|pezzi) limitati\b|\blimited (?:spots|places|stock)\b"
    ),
    ("left", "remaining", "pezzi", "posti", "disponibili", "rimast", "limit"),
)


#: An advert opens by asking the reader about a need it then sells to ("Need a loan fast?",
#: "Vuoi guadagnare da casa?", "Struggling with your weight?"). Customers ask the page too, so
#: the opening counts only beside promotion words, and only at the very start of the comment
#: (matched from there: the scan is anchored and bounded).
_PITCH_OPENER = re.compile(
    r"\W*(?:(?:ciao|hi|hey|hello)\b\W*)?"
    r"(?:need|want|looking for|struggling with|tired of|fed up with|vuoi|volete|cerchi|cercate|"
    r"stanc[oa] di|hai bisogno di|ti interessa)\b[^?\n]{0,80}\?"
)


def has_email(text: str) -> bool:
    """Whether ``text`` holds an e-mail address ("name@domain.tld").

    >>> has_email("scrivimi a mario.rossi@example.it"), has_email("@trenitalia ancora ritardo.")
    (True, False)
    """
    for match in _EMAIL_DOMAIN.finditer(text):
        at = match.start()
        if at and _EMAIL_LOCAL.match(text, at - 1):
            return True
    return False


def spam_signal(text: str) -> SpamSignal:
    """How much a comment looks like promotion, a scam or link farming, in [0, 1].

    >>> spam_signal("Earn 500$ per day with bitcoin, contact me on whatsapp +44 7700 900123").score > 0.9
    True
    >>> spam_signal("Il treno delle 8 era in ritardo").score < 0.1
    True
    """
    low = text.lower()
    reasons: list[str] = []
    logit = -3.2
    n_links, link_weight = _links(text, low)
    if n_links:
        logit += link_weight
        reasons.append(f"{n_links} link{'s' if n_links > 1 else ''}")
    if "@" in text and has_email(text):
        logit += 1.0
        reasons.append("e-mail address")
    digits = len(_DIGIT.findall(text))
    phone = _PHONE.search(_without_urls(text)) if digits >= 8 else None
    if (phone and len(_DIGIT.findall(phone.group(0))) >= 8) or (
        digits >= 7 and _CALL_NUMBER.search(low)
    ):
        logit += 1.4
        reasons.append("phone number")
    # every amount has a digit and a sign
    if digits and any(sign in low for sign in _MONEY_SIGNS) and _MONEY.search(text):
        logit += 0.7
        reasons.append("money amount")
    if digits and "%" in text and _DISCOUNT.search(text):
        logit += 0.9
        reasons.append("discount")
    hits = _phrase_hits(low)
    bait = _SHARE_BAIT.search(low)
    if bait:
        hits.append(("share and like", 1.8))
    hurry = _SCARCITY.search(low)
    if hurry:
        hits.append((hurry.group(0), 0.8))
    # most comments hold no cue: the sums and tests over the hits are skipped with them
    if hits:
        hits.sort(key=lambda h: -h[1])
        logit += sum(weight for _, weight in hits[:4])
        reasons.append("promo/scam words: " + ", ".join(f"'{p}'" for p, _ in hits[:3]))
        if _PITCH_OPENER.match(low):
            logit += 0.8
            reasons.append("opens with a sales pitch")
        if any(cue in low for cue in _CONTACT_CUES):
            logit += 0.6
    # an account to follow is a way to reach the promoter, like a link
    # the shares a giveaway bait asks for reach the promoter's page the same way
    followed = bool(bait) or (bool(hits) and any("@" in p for p, _ in hits))
    channels = (
        bool(n_links) + ("e-mail address" in reasons) + ("phone number" in reasons) + followed
    )
    if hits and (channels or "money amount" in reasons or "discount" in reasons):
        # promotion plus a way to reach the promoter (link, phone, e-mail) or a sum of money
        logit += 1.0
    if _REPEAT.search(text):
        logit += 0.4
        reasons.append("repeated characters")
    emoji = [] if text.isascii() else _EMOJI.findall(text)
    if len(emoji) >= 6 or (hits and len(emoji) >= 3):
        logit += 0.8
        reasons.append("many emoji")
    score = 1.0 / (1.0 + _exp(-logit))
    return SpamSignal(round(score, 4), reasons if score >= 0.3 else [])


def _exp(x: float) -> float:
    return math.exp(max(-50.0, min(50.0, x)))
