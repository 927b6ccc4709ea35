"""Planted campaigns: can the desk find coordinated groups hidden in a real comment stream?

The real stream is ``twitter_us_airline_sentiment/Tweets.csv`` (14.6k tweets to six US airlines,
February 2015; CC BY-NC-SA 4.0, non-commercial: used here for a benchmark only). Each airline is a
page, each tweet a comment by its account, at its real time. Into it we plant campaigns written
for this benchmark in the style of real ones (a boycott call, a competitor push, fake praise, an
astroturfed complaint wave, a link-spam push, a reply pile-on): each campaign uses brand-new
accounts with throwaway-looking names, paraphrases of a few templates (synonyms, dropped or added
words, hashtags, emoji, case and punctuation changes), and tight timing (minutes apart).

Everything goes through the real path: a Desk on a temporary SQLite file, ``desk.ingest`` in
batches, and the :class:`CoordinationMonitor` listening, with its default settings. The clusters
it reports per page are then scored against the planted truth:

- account precision: the share of accounts in reported clusters that were planted;
- account recall: the share of planted accounts that are in some reported cluster;
- campaigns found: a campaign counts when one cluster holds at least half of its accounts and is
  at least half made of them.

Real accounts that genuinely act together (for instance the same retweeted text) count as false
positives here, so precision is a lower bound.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crisisdesk.analysis.base import Analysis
from crisisdesk.ingest.record import CommentRecord

SEED = 20150224

# Templates in the voice of real campaigns; {brand} is the airline's handle.
CAMPAIGNS: list[dict[str, object]] = [
    {
        "style": "boycott call",
        "templates": [
            "{brand} treats passengers like cattle. Boycott them until they apologise! #boycott{tag}",
            "Everyone stop flying {brand} now, they treat passengers like cattle #boycott{tag}",
            "Boycott {brand}! Passengers treated like cattle and no apology at all #boycott{tag}",
        ],
        "link": None,
    },
    {
        "style": "competitor push",
        "templates": [
            "Done with {brand}. Switched to SkyBlue Air, cheaper and on time every single flight",
            "Why anyone still flies {brand}? SkyBlue Air is cheaper and always on time",
            "{brand} late again. SkyBlue Air is cheaper and on time, just switch",
        ],
        "link": "skyblue-air.example/deals",
    },
    {
        "style": "fake praise",
        "templates": [
            "Best airline ever!!! {brand} crew was amazing, will fly again for sure",
            "{brand} the crew was amazing, best airline ever, will fly again",
            "Amazing crew at {brand}, honestly the best airline ever. Flying again for sure!",
        ],
        "link": None,
    },
    {
        "style": "astroturfed complaint wave",
        "templates": [
            "{brand} lost my bag AGAIN and customer service hung up on me. Disgusting company",
            "customer service at {brand} hung up on me after they lost my bag again, disgusting",
            "{brand} lost my bag again and then hung up on me. Disgusting customer service",
        ],
        "link": None,
    },
    {
        "style": "link spam",
        "templates": [
            "{brand} refund denied? Claim your compensation here",
            "Get the refund {brand} owes you, claim compensation here",
            "{brand} flight delayed? Claim your compensation now",
        ],
        "link": "flight-claims.example/start",
    },
    {
        "style": "reply pile-on",
        "templates": [
            "{brand} this is exactly why nobody trusts you anymore",
            "{brand} exactly why nobody trusts this airline anymore",
            "and this is why nobody trusts {brand} anymore",
        ],
        "link": None,
        "reply": True,
    },
]
SYNONYMS = {
    "amazing": ["awesome", "fantastic"],
    "cheaper": ["less expensive", "way cheaper"],
    "disgusting": ["shameful", "disgraceful"],
    "again": ["once more", "again!!"],
    "now": ["today", "right now"],
    "always": ["every time"],
}
EXTRAS = ["😡", "🙄", "!!", "#fail", "#travel", "smh", "👍", "😍", "unbelievable", "seriously"]
FIRST = ["mike", "jess", "anna", "tom", "sara", "luke", "kate", "john", "emma", "ryan"]


def run(data: Path, quick: bool) -> str:
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings
    from crisisdesk.signals.coordination import CoordinationMonitor

    tweets = _read_tweets(
        data / "twitter_us_airline_sentiment" / "Tweets.csv", limit=4000 if quick else None
    )
    rng = random.Random(SEED)
    planted, truth = _plant(tweets, rng, repeats=1 if quick else 3)
    stream = sorted(tweets + planted, key=lambda r: r.created_at)

    with tempfile.TemporaryDirectory(prefix="planted-") as tmp:
        desk = Desk(Settings({"data_dir": tmp}, environ={}), analyzer=_NeutralAnalyzer())
        desk.upgrade()
        monitor = CoordinationMonitor(desk)
        desk.listeners = [monitor.on_ingested]  # only the signal under test
        started = time.perf_counter()
        desk.ingest(stream, batch_size=500)
        elapsed = time.perf_counter() - started
        found: list[tuple[str, list[str], list[str], str]] = []
        for page in desk.pages():
            for cluster in monitor.clusters(page.id):
                example = next(
                    (str(e.get("shared", "")) for e in cluster.evidence if e.get("shared")), ""
                )
                found.append((page.name, cluster.accounts, sorted(cluster.networks), example))
        desk.close()

    planted_accounts = set(truth)
    reported = {a for _, accounts, _, _ in found for a in accounts}
    true_pos = reported & planted_accounts
    precision = len(true_pos) / len(reported) if reported else 0.0
    recall = len(true_pos) / len(planted_accounts) if planted_accounts else 0.0
    campaigns: dict[str, set[str]] = {}
    for account, campaign in truth.items():
        campaigns.setdefault(campaign, set()).add(account)
    found_campaigns = 0
    per_style: dict[str, list[int]] = {}
    for campaign, accounts in campaigns.items():
        style = campaign.split("#")[0]
        hit = any(
            len(accounts & set(members)) * 2 >= len(accounts)
            and len(accounts & set(members)) * 2 >= len(members)
            for _, members, _, _ in found
        )
        found_campaigns += hit
        per_style.setdefault(style, [0, 0])
        per_style[style][0] += hit
        per_style[style][1] += 1
    false_clusters = [c for c in found if not set(c[1]) & planted_accounts]
    lines = [
        "## Planted campaigns in a real comment stream",
        "",
        f"Real stream: {len(tweets):,} tweets to six US airlines (Tweets.csv, CC BY-NC-SA 4.0, "
        "non-commercial: benchmark use only), each airline a page. Planted: "
        f"{len(campaigns)} campaigns, {len(planted_accounts)} new accounts, {len(planted):,} comments. "
        "Detector: the desk's `CoordinationMonitor` with its default settings (co-tweet, co-similar, "
        "co-link, co-reply over 15 minutes; co-timing of first-time authors), fed through "
        f"`desk.ingest` on SQLite ({elapsed:.1f} s for the whole stream, writes included).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| account precision | {precision:.3f} ({len(true_pos)} of {len(reported)} clustered accounts are planted) |",
        f"| account recall | {recall:.3f} ({len(true_pos)} of {len(planted_accounts)} planted accounts clustered) |",
        f"| campaigns found | {found_campaigns} of {len(campaigns)} |",
        f"| clusters reported | {len(found)} ({len(false_clusters)} with no planted account) |",
        "",
        "| campaign style | found |",
        "|---|---|",
    ]
    lines += [
        f"| {style} | {hit} of {total} |" for style, (hit, total) in sorted(per_style.items())
    ]
    if false_clusters:
        lines += ["", "Clusters of real accounts (false positives, or real coordination):", ""]
        for page_name, members, networks, example in false_clusters[:6]:
            shown = example[:90].replace("|", "/").replace("\n", " ")
            lines.append(
                f"- {page_name}: {len(members)} accounts via {', '.join(networks)}; e.g. `{shown}`"
            )
    lines += _flood_section(quick)
    lines += [
        "",
        "How: `benchmarks/planted_campaigns.py`; the campaign templates and their variations are "
        f"written for this benchmark (seed {SEED}); campaigns are planted at random times on random "
        "airline pages, accounts post 1-2 comments each within about ten minutes.",
        "",
    ]
    return "\n".join(lines)


def _flood_section(quick: bool) -> list[str]:
    """A flood: brand-new accounts paste variants of one text on one page, a comment every
    half second, delivered in batches of 20 as webhooks arrive, with the desk's monitor (each
    comment matched with at most ``MAX_MATCHES`` before it) and with the toolkit's definition
    (every pair of the window), on the same comments."""
    from crisisdesk.signals.coordination import MAX_MATCHES

    sizes = (200,) if quick else (500, 2000)
    rows = []
    for n in sizes:
        for capped in (True, False):
            if not capped and n > 500:
                continue  # the uncapped definition held gigabytes and ran for minutes at 2,000
            seconds, edges, whole = _flood(n, capped)
            rows.append(
                f"| {n:,} | {'desk (cap ' + str(MAX_MATCHES) + ')' if capped else 'every pair'} "
                f"| {seconds:.1f} s | {edges:,} | {'yes' if whole else 'no'} |"
            )
    return [
        "",
        "### A flood of copies",
        "",
        "New accounts paste variants of one complaint on one page, one comment every half second, "
        "ingested in batches of 20 with the coordination monitor listening (the flame level reads "
        "its score after every batch). The toolkit links every pair of a window, so n copies make "
        "about n² edges; the desk matches each comment with the newest "
        f"{MAX_MATCHES} similar ones before it. Before the cap, 2,000 such comments sent through "
        "the webhook processor (flame level listening too) held 1.5 GB and were stopped after 10 "
        "minutes of CPU, so that size is measured with the cap only. The time still grows faster "
        "than the comments: the score walks the page's edges after every batch.",
        "",
        "| comments | matching | CPU time | co-similar edges | one cluster of all accounts |",
        "|---:|---|---:|---:|---|",
        *rows,
    ]


def _flood(n: int, capped: bool) -> tuple[float, int, bool]:
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings
    from crisisdesk.signals.coordination import CoordinationMonitor, PageState

    class Uncapped(CoordinationMonitor):
        def _capped(self, state: PageState) -> PageState:
            return state

    rng = random.Random(SEED + n)
    start = datetime(2015, 3, 1, 12, 0, tzinfo=UTC)
    template = "this airline lost my bag and nobody answers, never fly with them again"
    records = [
        CommentRecord(
            platform="twitter", platform_id=f"flood{i}", created_at=start + timedelta(seconds=i / 2),
            text=_vary(template, rng), page="flooded", post_id="p1", author_id=_throwaway(rng) + str(i),
        )
        for i in range(n)
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="flood-") as tmp:
        desk = Desk(Settings({"data_dir": tmp}, environ={}), analyzer=_NeutralAnalyzer())
        desk.upgrade()
        monitor = (CoordinationMonitor if capped else Uncapped)(desk)
        desk.listeners = [monitor.on_ingested]
        page_id = None
        started = time.process_time()
        for k in range(0, n, 20):
            desk.ingest(records[k : k + 20])
            page_id = page_id or desk.pages()[0].id
            monitor.score(page_id)  # what the flame level reads after each batch
        seconds = time.process_time() - started
        assert page_id is not None
        edges = len(monitor.pages[page_id].co_similar.edges())
        found = monitor.clusters(page_id)
        whole = any(len(c.accounts) >= n * 0.95 for c in found)
        desk.close()
    return seconds, edges, whole


class _NeutralAnalyzer:
    """The benchmark measures coordination only; analysis is a constant."""

    version = "neutral-bench"

    def analyze(self, text: str, lang_hint: str | None = None) -> Analysis:
        return self.analyze_many([text])[0]

    def analyze_many(
        self, texts: Sequence[str], lang_hints: Iterable[str | None] | None = None
    ) -> list[Analysis]:
        return [
            Analysis(
                language="en",
                sentiment="neutral",
                sentiment_scores={"negative": 0.0, "neutral": 1.0, "positive": 0.0},
                offensive=0.0,
                irony=0.0,
                question=False,
                spam=0.0,
                kind="other",
                model_version=self.version,
            )
            for _ in texts
        ]


def _read_tweets(path: Path, limit: int | None) -> list[CommentRecord]:
    out = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                created = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
            except ValueError:
                continue
            out.append(
                CommentRecord(
                    platform="twitter",
                    platform_id=row["tweet_id"],
                    created_at=created,
                    text=row["text"],
                    page=row["airline"],
                    page_name=row["airline"],
                    author_id=row["name"],
                    author_name=row["name"],
                )
            )
            if limit and len(out) >= limit:
                break
    return out


def _vary(text: str, rng: random.Random) -> str:
    words = text.split()
    for i, w in enumerate(words):
        key = w.lower().strip("!.,")
        if key in SYNONYMS and rng.random() < 0.4:
            words[i] = rng.choice(SYNONYMS[key])
    if len(words) > 6 and rng.random() < 0.3:
        del words[rng.randrange(1, len(words))]
    if rng.random() < 0.5:
        words.append(rng.choice(EXTRAS))
    if rng.random() < 0.3:
        words.insert(0, rng.choice(["Honestly", "Wow.", "Ugh", "PSA:"]))
    text = " ".join(words)
    if rng.random() < 0.2:
        text = text.upper()
    elif rng.random() < 0.3:
        text = text.lower()
    return text


def _throwaway(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(FIRST) + str(rng.randrange(10**5, 10**8))
    if roll < 0.8:
        return "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randrange(7, 11)))
    return (
        rng.choice(FIRST).capitalize() + rng.choice(FIRST).capitalize() + str(rng.randrange(10, 99))
    )


def _plant(
    tweets: list[CommentRecord], rng: random.Random, repeats: int
) -> tuple[list[CommentRecord], dict[str, str]]:
    pages = sorted({t.page for t in tweets if t.page})
    handles = {
        "Virgin America": "@VirginAmerica", "United": "@united", "Southwest": "@SouthwestAir",
        "Delta": "@JetBlue", "US Airways": "@USAirways", "American": "@AmericanAir",
    }  # fmt: skip
    start = min(t.created_at for t in tweets)
    end = max(t.created_at for t in tweets)
    span = (end - start).total_seconds()
    planted = []
    truth: dict[str, str] = {}
    n = 0
    for r in range(repeats):
        for c, campaign in enumerate(CAMPAIGNS):
            name = f"{campaign['style']}#{r}"
            page = rng.choice(pages)
            brand = handles.get(page, "@airline")
            at = start + timedelta(seconds=rng.uniform(0.05, 0.95) * span)
            templates = campaign["templates"]
            assert isinstance(templates, list)
            tag = rng.choice(["", "Now", str(rng.randrange(10, 99))])
            target = f"planted-root-{r}-{c}"
            size = rng.randrange(4, 10)
            for _ in range(size):
                account = _throwaway(rng)
                while account in truth:
                    account = _throwaway(rng)
                truth[account] = name
                for k in range(1 if rng.random() < 0.6 else 2):
                    n += 1
                    text = _vary(rng.choice(templates).format(brand=brand, tag=tag), rng)
                    if campaign.get("link") and rng.random() < 0.8:
                        text += " https://" + str(campaign["link"]) + f"?ref={rng.randrange(3)}"
                    when = at + timedelta(seconds=rng.uniform(0, 600) + k * rng.uniform(60, 1200))
                    planted.append(
                        CommentRecord(
                            platform="twitter",
                            platform_id=f"planted-{n}",
                            created_at=when.astimezone(UTC),
                            text=text,
                            page=page,
                            page_name=page,
                            parent_id=target if campaign.get("reply") else None,
                            author_id=account,
                            author_name=account,
                        )
                    )
    return planted, truth
