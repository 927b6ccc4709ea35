"""Drafts: API latency with every check at 100,000 earlier replies, and the ``canned`` check on
brands' real replies.

1. **Latency.** A desk on a SQLite file with the shipped analyser; one page holds 100,000
   published replies (real brand replies from the Customer Support on Twitter sample, each used
   many times with its handle, numbers and one word changed, so the history is full of
   near-duplicates as a real brand's is). A real HTTP server (uvicorn, in a thread of this
   process, on 127.0.0.1) serves the app; an httpx client posts ``POST /api/v1/comments/{id}/drafts``
   with a bearer token, one request at a time, each on a different comment (so each also opens
   the case and starts the cool-down), half of them copies of earlier replies and half new text.
   The first request builds the page's reply index from the store and is reported apart.
2. **Canned replies in the wild.** Each brand's replies in the sample, in time order: how many
   the check flags as near-copies of that brand's earlier replies (MinHash LSH, the shipped
   index), beside the exact answer (every pair's character 5-gram Jaccard similarity, brute force)
   so the index's recall and precision are measured, not assumed.

The sample is "Customer Support on Twitter" (first 5,001 rows), licensed CC BY-NC-SA 4.0: the
examples quoted below are from it and carry that licence (non-commercial use only).
"""

from __future__ import annotations

import csv
import random
import re
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crisisdesk.workflow.canned import DEFAULT_THRESHOLD, SHINGLE, CannedIndex, normalise
from crisisdesk.workflow.checks import CHECK_NAMES

SAMPLE = Path("twcs_customer_support_sample") / "twcs_first5001_rows.csv"


def load_twcs(data: Path) -> list[dict[str, Any]]:
    rows = []
    with (data / SAMPLE).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row["created_at"] or not row["text"]:
                continue  # the sample has one empty row
            row["at"] = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
            rows.append(row)
    return rows


# -- 1. latency ---------------------------------------------------------------------------------


def _variant(text: str, rng: random.Random) -> str:
    text = re.sub(r"@\w+", lambda _m: f"@{rng.randrange(10**6)}", text)
    text = re.sub(r"\d+", lambda _m: str(rng.randrange(1000)), text)
    words = text.split()
    if len(words) > 6:
        del words[rng.randrange(1, len(words))]
    return " ".join(words)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def latency(rows: list[dict[str, Any]], history: int, requests: int) -> dict[str, Any]:
    import httpx
    import uvicorn
    from sqlalchemy import insert

    from crisisdesk.desk import Desk
    from crisisdesk.ingest.record import CommentRecord
    from crisisdesk.models import ReplyDraft
    from crisisdesk.settings import Settings
    from crisisdesk.web.app import create_app

    rng = random.Random(11)
    replies = [r["text"] for r in rows if r["inbound"] == "False"]
    complaints = [r["text"] for r in rows if r["inbound"] == "True"]
    with tempfile.TemporaryDirectory() as tmp:
        desk = Desk(Settings({"data_dir": tmp, "secret_key": "bench-" + "x" * 30}, environ={}))
        desk.upgrade()
        analyser = desk.analyzer.version
        now = datetime.now(UTC)
        desk.ingest(
            CommentRecord(
                platform="facebook", platform_id=f"c{i}", created_at=now - timedelta(minutes=5),
                text=complaints[i % len(complaints)], page="bench", page_name="Bench page",
                author_id=f"a{i}", author_name=rng.choice(["Anna Rossi", "Marco", "Jo Lee"]),
            )
            for i in range(requests + 1)
        )  # fmt: skip
        first = desk.find_comment("c0")
        assert first is not None
        started = time.perf_counter()
        with desk.session() as s, s.begin():
            batch = []
            for i in range(history):
                batch.append(
                    {
                        "comment_id": first.id, "page_id": first.page_id,
                        "text": _variant(replies[i % len(replies)], rng),
                        "checks": [], "created_at": now - timedelta(days=1, seconds=i),
                        "published_at": now - timedelta(days=1, seconds=i),
                    }
                )  # fmt: skip
                if len(batch) == 5000:
                    s.execute(insert(ReplyDraft), batch)
                    batch = []
            if batch:
                s.execute(insert(ReplyDraft), batch)
        seeded = time.perf_counter() - started
        token = desk.create_token("bench")
        server = uvicorn.Server(
            uvicorn.Config(create_app(desk), host="127.0.0.1", port=0, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        timings: list[float] = []
        flagged = 0
        failing: dict[str, int] = defaultdict(int)
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            ) as client:
                t = time.perf_counter()
                r = client.post("/api/v1/comments/c0/drafts", json={"text": "Hi, warming up."})
                build = time.perf_counter() - t
                assert r.status_code == 201, r.text
                # A restart: the index is dropped and read back with the stored signatures.
                desk.workflow.replies.forget()
                computed = desk.workflow.replies.computed
                t = time.perf_counter()
                r = client.post("/api/v1/comments/c0/drafts", json={"text": "Hi, again."})
                reload = time.perf_counter() - t
                assert r.status_code == 201, r.text
                recomputed = desk.workflow.replies.computed - computed
                for i in range(1, requests + 1):
                    if i % 2:
                        text = _variant(replies[rng.randrange(len(replies))], rng)
                    else:
                        text = (
                            f"Hi, I'm sorry about this. {complaints[i % len(complaints)][:120]} "
                            "We'll look into it today: please send us a private message."
                        )
                    t = time.perf_counter()
                    r = client.post(f"/api/v1/comments/c{i}/drafts", json={"text": text})
                    timings.append(time.perf_counter() - t)
                    assert r.status_code == 201, r.text
                    checks = r.json()["checks"]
                    assert [c["name"] for c in checks] == list(CHECK_NAMES)
                    for c in checks:
                        if not c["ok"]:
                            failing[c["name"]] += 1
                    flagged += not next(c for c in checks if c["name"] == "canned")["ok"]
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            desk.close()
    ms = [t * 1000 for t in timings]
    return {
        "history": history,
        "analyser": analyser,
        "requests": requests,
        "seed_s": seeded,
        "build_s": build,
        "reload_s": reload,
        "recomputed": recomputed,
        "p50": _percentile(ms, 0.50),
        "p95": _percentile(ms, 0.95),
        "p99": _percentile(ms, 0.99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
        "flagged": flagged,
        "failing": dict(failing),
    }


# -- 2. canned replies in the wild --------------------------------------------------------------


def _shingles(text: str) -> frozenset[str]:
    norm = normalise(text)
    if len(norm) < SHINGLE:
        return frozenset([norm]) if norm else frozenset()
    return frozenset(norm[i : i + SHINGLE] for i in range(len(norm) - SHINGLE + 1))


def canned_in_the_wild(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_brand: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["inbound"] == "False":
            by_brand[row["author_id"]].append(row)
    per_brand = []
    examples: list[tuple[float, str, str, str]] = []
    lsh_flags = exact_flags = both = 0
    exact_best: list[float] = []
    query_ms: list[float] = []
    for brand, replies in by_brand.items():
        replies.sort(key=lambda r: (r["at"], int(r["tweet_id"])))
        index = CannedIndex()
        sets: list[frozenset[str]] = []
        texts: list[str] = []
        flagged = 0
        for row in replies:
            text = row["text"]
            t = time.perf_counter()
            match = index.nearest(text)
            query_ms.append((time.perf_counter() - t) * 1000)
            mine = _shingles(text)
            best = 0.0
            for other in sets:
                union = len(mine | other)
                if union:
                    best = max(best, len(mine & other) / union)
            exact_best.append(best)
            exact = best >= DEFAULT_THRESHOLD
            exact_flags += exact
            if match is not None:
                flagged += 1
                lsh_flags += 1
                both += exact
                earlier = texts[int(match.reply_id)]
                examples.append((match.similarity, brand, text, earlier))
            index.add(str(len(texts)), text, row["at"])
            sets.append(mine)
            texts.append(text)
        per_brand.append((brand, len(replies), flagged))
    per_brand.sort(key=lambda b: -b[1])
    return {
        "replies": sum(b[1] for b in per_brand),
        "brands": len(per_brand),
        "per_brand": per_brand,
        "lsh": lsh_flags,
        "exact": exact_flags,
        "both": both,
        "examples": examples,
        "exact_best": exact_best,
        "query_p99": _percentile(query_ms, 0.99) if query_ms else 0.0,
    }


def _clip(text: str, n: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= n else text[: n - 1] + "…"


def run(data: Path, quick: bool) -> str:
    rows = load_twcs(data)
    history, requests = (10_000, 60) if quick else (100_000, 400)
    lat = latency(rows, history, requests)
    wild = canned_in_the_wild(rows)
    out = [
        "## Drafts: checks at API speed, and canned replies in brands' real answers",
        "",
        "### 1. `POST /api/v1/comments/{id}/drafts` with every check",
        "",
        f"One page with **{lat['history']:,} earlier published replies**; {lat['requests']} "
        "draft requests, one at a time, each on a different comment (so each also opens its case, "
        "starts the cool-down and writes three audit entries); "
        f"all {len(CHECK_NAMES)} checks run on each "
        "(unfinished, tone with the analyser named below, canned against the page's history, "
        "personal, apology, public compensation, length, language). Measured by an httpx client against a real "
        "uvicorn server on 127.0.0.1 (a thread of the same process), SQLite in WAL mode, bearer "
        "token checked on every request. Latency is client-side wall time. Analyser: "
        f"`{lat['analyser']}` (whatever `load_analyzer('fast')` gave in this checkout).",
        "",
        "| requests | p50 ms | p95 ms | p99 ms | max ms | mean ms | target |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| {lat['requests']} | {lat['p50']:.1f} | {lat['p95']:.1f} | **{lat['p99']:.1f}** | "
        f"{lat['max']:.1f} | {lat['mean']:.1f} | p99 < 100 ms |",
        "",
        f"- The first draft on the page builds its reply index: {lat['build_s']:.1f} s for "
        f"{lat['history']:,} replies seeded without signatures (computed once, then stored). "
        f"After a restart the index is read back in {lat['reload_s']:.1f} s, recomputing "
        f"{lat['recomputed']} signatures. Each check first reads the replies other processes "
        "published since (one indexed query, included in the latencies above). "
        f"Seeding the store took {lat['seed_s']:.1f} s.",
        f"- Half of the drafts were altered copies of earlier replies: the canned check flagged "
        f"{lat['flagged']} of {lat['requests']}. Checks failing over all requests: "
        + ", ".join(f"{k} {v}" for k, v in sorted(lat["failing"].items()))
        + ".",
        "",
        "### 2. The canned check on brands' real replies",
        "",
        f"{wild['replies']:,} replies from {wild['brands']} brands in the Customer Support on "
        "Twitter sample (first 5,001 rows; CC BY-NC-SA 4.0, non-commercial). Each reply is "
        "checked against the same brand's earlier replies, in time order, as a draft would be "
        "against the page's history. Threshold: estimated Jaccard similarity of character "
        f"5-grams ≥ {DEFAULT_THRESHOLD} after replacing handles, links and numbers.",
        "",
        "| | replies flagged | share |",
        "|---|---:|---:|",
        f"| canned check (MinHash LSH index, shipped) | {wild['lsh']:,} | "
        f"{wild['lsh'] / max(1, wild['replies']):.1%} |",
        f"| exact Jaccard against every earlier reply (brute force) | {wild['exact']:,} | "
        f"{wild['exact'] / max(1, wild['replies']):.1%} |",
        "",
        f"Agreement: {wild['both']:,} flagged by both; the index's recall against the exact "
        f"answer is {wild['both'] / max(1, wild['exact']):.1%} and its precision "
        f"{wild['both'] / max(1, wild['lsh']):.1%} (misses and extras sit near the threshold, "
        "where the 64-hash estimate is ±0.06). Index lookups here took p99 "
        f"{wild['query_p99']:.2f} ms.",
        "",
        "How many replies would be flagged at other thresholds (exact similarity to the closest "
        "earlier reply of the same brand):",
        "",
        "| threshold | 0.4 | 0.5 | 0.6 | 0.7 | 0.8 | 0.9 |",
        "|---|---:|---:|---:|---:|---:|---:|",
        "| replies | "
        + " | ".join(
            str(sum(1 for b in wild["exact_best"] if b >= t))
            for t in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
        )  # fmt: skip
        + " |",
        "",
        "Brands with the most replies in the sample:",
        "",
        "| brand | replies | flagged | share |",
        "|---|---:|---:|---:|",
    ]
    for brand, n, flagged in wild["per_brand"][:10]:
        out.append(f"| {brand} | {n} | {flagged} | {flagged / max(1, n):.0%} |")
    out += [
        "",
        "Examples of flagged replies and the earlier reply they copy (quoted from the sample, "
        "CC BY-NC-SA 4.0):",
        "",
        "| similarity | brand | reply | earlier reply |",
        "|---:|---|---|---|",
    ]
    rng = random.Random(5)
    examples = sorted(wild["examples"], key=lambda e: -e[0])
    picked = examples[:2] + rng.sample(examples[2:], min(4, max(0, len(examples) - 2)))
    lowest = min(examples, key=lambda e: e[0]) if examples else None
    if lowest is not None and lowest not in picked:
        picked.append(lowest)
    for sim, brand, text, earlier in sorted(picked, key=lambda e: -e[0]):
        out.append(f"| {sim:.2f} | {brand} | {_clip(text)} | {_clip(earlier)} |")
    out += [
        "",
        'Reading: brands answer first contacts with the same few sentences ("Please send us a '
        'DM...", "We\'d like to help..."), and the check catches them even when the handle, '
        "the agent's initials or a number differ. What it does not judge is whether a "
        "formula fits: a short, unique reply can still be impersonal, which is what the "
        "`personal` check is for.",
    ]
    return "\n".join(out)
