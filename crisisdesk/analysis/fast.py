"""The default analyser: model scores for a whole batch at once, then per-comment rules.

The split is deliberate. Everything numeric (language, sentiment, offence, irony) is computed for the
whole batch in a few numpy operations by a *scorer*; what stays per comment is cheap Python (the
question and spam rules, the kind, the reasons). That is what keeps the full analysis in the
thousands of comments per second on one core.

Two scorers exist: :class:`~crisisdesk.analysis.linear.ModelScorer` (the shipped, trained models) and
:class:`LexiconScorer` (word lists, used only when the model files are missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from crisisdesk.analysis import lexicon, profanity, rules, spam
from crisisdesk.analysis.base import SENTIMENTS, Analysis
from crisisdesk.analysis.kind_model import KindModel, signal_row

#: Longer comments are cut before analysis: the signal is in the first few thousand characters, and
#: a pasted novel must not stall a batch.
MAX_CHARS = 4000

#: Texts scored together at most; larger calls are split.
CHUNK = 2000

#: Kinds that are negative by definition, whatever the sentiment model reads.
UNHAPPY_KINDS = frozenset({"complaint", "rager", "misguided"})
_KIND_NOUN = {"complaint": "complaint", "rager": "rant", "misguided": "false claim"}

#: Languages a hint may force (ISO 639-1); anything else is treated as "detect".
KNOWN_LANGUAGES = frozenset(
    "it en es fr de pt ar hi ru el he ja ko zh th nl pl ro sv da no nb fi tr cs sk hu uk bg hr "
    "sl sr ca eu gl ga cy is et lv lt mt sq mk fa ur bn ta te id ms vi tl sw".split()
)


@dataclass
class Scores:
    """Model outputs for one text."""

    language: str
    sentiment_scores: dict[str, float]
    offensive: float
    irony: float
    reasons: list[str] = field(default_factory=list)
    # the word part of the kinds model's logits, when there is a kinds model (see kind_model.py)
    kind_logits: list[float] | None = None


class Scorer(Protocol):
    version: str
    kind_model: KindModel | None

    def score(self, texts: Sequence[str], hints: Sequence[str | None]) -> list[Scores]: ...


class LexiconScorer:
    """Word-list scores (see :mod:`crisisdesk.analysis.lexicon`)."""

    version = "lexicon-1"
    kind_model: KindModel | None = None

    def score(self, texts: Sequence[str], hints: Sequence[str | None]) -> list[Scores]:
        out = []
        for text, hint in zip(texts, hints, strict=True):
            toks = rules.words(text)
            lang = hint or (lexicon.guess_language(toks) if toks else "und")
            sent = lexicon.sentiment_scores(toks)
            hits = [w for w in toks if w in lexicon.NEGATIVE or w in lexicon.POSITIVE]
            # vulgar words as the analysis reads them: a disguised one ("str0nzi", "f**k") as the
            # listed word it stands for, none from an e-mail address or a mention
            sworn = profanity.listed(toks, text)
            offence = [w for w in toks if w not in lexicon.PROFANITY or w in sworn]
            offence += [v.word for v in profanity.disguised(text, toks)]
            out.append(
                Scores(
                    language=lang,
                    sentiment_scores=sent,
                    offensive=lexicon.offensive_score(offence),
                    irony=0.0,
                    reasons=[f"'{w}'" for w in hits[:3]],
                )
            )
        return out


def _clean_hint(hint: str | None) -> str | None:
    if hint is None:
        return None
    hint = hint.strip().lower()
    if not hint or hint == "auto":
        return None
    hint = hint.split("-")[0].split("_")[0]
    return hint if hint in KNOWN_LANGUAGES else None


class FastAnalyzer:
    """Shipped models plus explainable rules; implements :class:`~crisisdesk.analysis.base.Analyzer`."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.version = f"fast-{scorer.version}"

    def analyze(self, text: str, lang_hint: str | None = None) -> Analysis:
        return self.analyze_many([text], [lang_hint])[0]

    def analyze_many(
        self, texts: Sequence[str], lang_hints: Iterable[str | None] | None = None
    ) -> list[Analysis]:
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"comment {i}: expected str, got {type(text).__name__}")
        hints = [None] * len(texts) if lang_hints is None else list(lang_hints)
        if len(hints) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(hints)} language hints")
        cut = [t[:MAX_CHARS] for t in texts]
        clean = [_clean_hint(h) for h in hints]
        out: list[Analysis] = []
        # Chunks bound the memory of one call (a batch's n-gram arrays grow with its text).
        for start in range(0, len(cut), CHUNK):
            part = cut[start : start + CHUNK]
            scored = self.scorer.score(part, clean[start : start + CHUNK])
            out.extend(self._finish(text, s) for text, s in zip(part, scored, strict=True))
        return out

    def _finish(self, text: str, s: Scores) -> Analysis:
        sentiment = max(SENTIMENTS, key=s.sentiment_scores.__getitem__)
        if not text.strip():
            return Analysis(
                language="und",
                sentiment="neutral",
                sentiment_scores={"negative": 0.0, "neutral": 1.0, "positive": 0.0},
                offensive=0.0,
                irony=0.0,
                question=False,
                spam=0.0,
                kind="other",
                reasons=["empty comment"],
                model_version=self.version,
            )
        question, q_reasons = rules.question_signal(text)
        spam_cues = spam.spam_signal(text)
        words = rules.words(text)
        offensive, o_reasons = s.offensive, []
        vulgar, disguised = profanity.listed(words, text), profanity.disguised(text, words)
        if disguised:
            vulgar += list(dict.fromkeys(v.written for v in disguised))
        if vulgar and offensive < lexicon.PROFANITY_FLOOR:
            offensive = lexicon.PROFANITY_FLOOR
            # as written: "sh1t", "f u c k" show the reader the disguise that was seen through
            o_reasons = [f"offensive: profanity: {', '.join(vulgar[:3])}"]
        elif offensive < lexicon.PROFANITY_FLOOR and not lexicon.NAME_CALLING.isdisjoint(words):
            # a name called is an insult, as a vulgar word is
            called = [w for w in dict.fromkeys(words) if w in lexicon.NAME_CALLING]
            offensive = lexicon.PROFANITY_FLOOR
            o_reasons = [f"offensive: name-calling: {', '.join(called[:3])}"]
        kind, k_reasons = rules.decide_kind(
            rules.KindInput(
                text=text,
                words=words,
                sentiment=sentiment,
                negative=s.sentiment_scores["negative"],
                positive=s.sentiment_scores["positive"],
                offensive=offensive,
                irony=s.irony,
                question=question,
                spam=spam_cues.score,
                disguised=disguised,
            )
        )
        model = self.scorer.kind_model
        # A kind the model learned leaves the sentiment as read: the rules' complaints have a
        # problem a person can see to make them negative, the model's have only its odds.
        learned_kind = False
        if kind == "other" and not k_reasons and model is not None and s.kind_logits is not None:
            # no rule had a cue: the kinds model, learned from labelled comments, may have one
            learned = model.decide(
                s.kind_logits,
                signal_row(s.sentiment_scores, offensive, s.irony, spam_cues.score, question),
            )
            if learned is not None:
                kind, k_reasons = learned.kind, [f"learned {learned.probability:.2f}"]
                learned_kind = True
        reasons = [f"{kind}: {r}" for r in k_reasons]
        if sentiment != "negative" and kind in UNHAPPY_KINDS and not learned_kind:
            # The models learned from tweets, where a plain report of a problem ("flight
            # cancelled, on hold for two hours") is mostly labelled neutral, and where "servizio"
            # leans positive. Written to a page, a complaint or a rant is an unhappy customer:
            # the label says so, the scores stay the model's own. So is a false accusation or
            # rumour about the brand ("made with expired ingredients, don't buy it!"), whatever
            # the tweets taught the model about its words.
            sentiment = "negative"
            reasons.append(f"negative: read from the {_KIND_NOUN[kind]}")
        elif kind == "praise" and sentiment == "negative" and rules.denied_problems(text):
            # "Never had a problem in 10 years": the model reads "never" and "problem", the
            # customer says they are satisfied
            sentiment = "positive"
            reasons.append("positive: a problem denied")
        elif kind == "praise" and sentiment == "negative" and rules.praise_idiom(text):
            # "La crostata era la fine del mondo": the model reads the end of the world, the
            # customer says it was wonderful
            sentiment = "positive"
            reasons.append("positive: an idiom of praise")
        elif kind == "praise" and sentiment == "negative" and rules.praise_phrases(text.lower()):
            # "Non la lascio più questa crema": the model reads the negation, the customer says
            # they will never go without it
            sentiment = "positive"
            reasons.append("positive: a phrase of praise")
        elif kind == "praise" and sentiment == "negative" and rules.praise_outright(text.lower()):
            # "...con mia madre anziana non è scontato. Grazie davvero": the negation is on the
            # way, the thanks are what the customer leaves the page with
            sentiment = "positive"
            reasons.append("positive: thanks or praise said outright")
        reasons += o_reasons + s.reasons
        # what made it spam, or the marks of promotion in a comment that is not
        reasons += (
            [f"spam: {r}" for r in spam_cues.reasons] if kind == "spam" else spam_cues.reasons
        )
        if question and kind != "question":
            reasons += q_reasons
        return Analysis(
            language=s.language,
            sentiment=sentiment,
            sentiment_scores=s.sentiment_scores,
            offensive=offensive,
            irony=s.irony,
            question=question,
            spam=spam_cues.score,
            kind=kind,
            reasons=list(dict.fromkeys(reasons))[:8],  # each once, in order
            model_version=self.version,
        )
