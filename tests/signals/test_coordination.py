"""Coordination networks: exact weights on hand-written toolkit CSVs, streaming, CLI, monitor."""

from __future__ import annotations

import csv
import io
import pickle
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crisisdesk.cli import app
from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.signals.coordination import (
    CoLink,
    CoordinationInputError,
    CoordinationMonitor,
    CoSimilar,
    CoTiming,
    CoTweet,
    Message,
    clusters,
    co_similar_edges,
    compute_edges,
    make_network,
    normalise_text,
    read_toolkit_csv,
    time_sorted,
    token_set,
)
from tests.conftest import attach

HEADER = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
runner = CliRunner()


def edges_of(csv_text: str, network: str, window: float, min_weight: int = 1, **kw: float) -> dict:
    messages = time_sorted(read_toolkit_csv(io.StringIO(HEADER + csv_text)))
    return compute_edges(messages, network, window, min_weight, **kw)  # type: ignore[arg-type]


# -- exact weights per network -------------------------------------------------------------------


def test_co_retweet_window_boundary_is_inclusive() -> None:
    rows = "1,a,A,X,,,0,\n2,b,B,X,,,60,\n3,c,C,X,,,121,\n4,d,D,Y,,,1,\n"
    assert edges_of(rows, "co_retweet", 60) == {
        ("a", "b"): 1,
        ("b", "a"): 1,
        # b at 60 and c at 121 are 61 s apart: outside the window
    }
    assert edges_of(rows, "co_retweet", 61) == {
        ("a", "b"): 1, ("b", "a"): 1, ("b", "c"): 1, ("c", "b"): 1,
    }  # fmt: skip


def test_weight_counts_distinct_messages_of_user_1() -> None:
    # a reposts X twice, b once between them; c twice right after b.
    rows = "1,a,,X,,,0,\n2,b,,X,,,5,\n3,a,,X,,,10,\n4,c,,X,,,11,\n5,c,,X,,,12,\n"
    got = edges_of(rows, "co_retweet", 60)
    assert got[("a", "b")] == 2  # both of a's messages have a match by b
    assert got[("b", "a")] == 1  # b's one message, however many matches
    assert got[("c", "a")] == 2 and got[("a", "c")] == 2
    assert ("a", "a") not in got  # no loops
    assert edges_of(rows, "co_retweet", 60, min_weight=2) == {
        ("a", "b"): 2, ("a", "c"): 2, ("c", "a"): 2, ("c", "b"): 2,
    }  # fmt: skip


def test_co_tweet_normalises_case_mentions_and_spaces_and_skips_reposts() -> None:
    rows = (
        "1,a,,,,Hello   @brand World,0,\n"
        "2,b,,,,hello world @other,30,\n"
        "3,c,,R,,hello world,31,\n"  # a repost: not a co-tweet
        "4,d,,,,hello worlds,32,\n"
    )
    assert edges_of(rows, "co_tweet", 60) == {("a", "b"): 1, ("b", "a"): 1}
    assert normalise_text("  A\tB  @x ") == "a b"


def test_co_similar_uses_jaccard_on_token_sets() -> None:
    base = "the delivery was late again and nobody answered"
    near = "the delivery was late again and nobody answered us"  # 8/9 = 0.889
    far = "the delivery was fine"
    rows = f"1,a,,,,{base},0,\n2,b,,,,{near},10,\n3,c,,,,{far},20,\n"
    assert edges_of(rows, "co_similar", 60, similarity=0.8) == {("a", "b"): 1, ("b", "a"): 1}
    assert edges_of(rows, "co_similar", 60, similarity=0.9) == {}
    assert edges_of(rows, "co_similar", 5, similarity=0.8) == {}


def test_token_set_follows_word_boundaries() -> None:
    assert token_set("'Orange' can't, U.S.A. 3.14 @x #Tag") == {
        "orange", "can't", ",", "u.s.a", ".", "3.14", "#", "tag",
    }  # fmt: skip
    assert token_set("@only") == frozenset()


def test_co_link_counts_a_message_once_even_with_two_shared_links() -> None:
    rows = (
        "1,a,,,,x,0,http://e.com/1 http://e.com/2\n"
        "2,b,,,,y,10,http://e.com/1 http://e.com/2\n"
        "3,c,,R,,z,11,http://e.com/1\n"  # links in reposts are ignored
        "4,d,,,,w,200,http://e.com/1\n"
    )
    assert edges_of(rows, "co_link", 60) == {("a", "b"): 1, ("b", "a"): 1}


def test_co_reply() -> None:
    rows = "1,a,,,P,x,0,\n2,b,,,P,y,60,\n3,c,,,Q,z,1,\n4,d,,R,P,z,2,\n"
    assert edges_of(rows, "co_reply", 60) == {("a", "b"): 1, ("b", "a"): 1}


def _brute(messages: list[Message], network: str, window: float) -> dict[tuple[str, str], int]:
    """The definition, written as the toolkit's self-join: O(n^2), for checking."""

    def match(m1: Message, m2: Message) -> bool:
        if network == "co_retweet":
            return bool(m1.repost_id) and m1.repost_id == m2.repost_id
        if m1.repost_id or m2.repost_id:
            return False
        if network == "co_tweet":
            return normalise_text(m1.text) == normalise_text(m2.text)
        if network == "co_link":
            return bool(set(m1.urls) & set(m2.urls))
        if network == "co_reply":
            return bool(m1.reply_id) and m1.reply_id == m2.reply_id
        t1, t2 = token_set(m1.text), token_set(m2.text)
        return bool(t1 and t2) and len(t1 & t2) / len(t1 | t2) >= 0.5

    seen: dict[tuple[str, str], set[str]] = {}
    for m1 in messages:
        for m2 in messages:
            if m1.user_id != m2.user_id and abs(m1.timestamp - m2.timestamp) <= window:
                if match(m1, m2):
                    seen.setdefault((m1.user_id, m2.user_id), set()).add(m1.message_id)
    return {pair: len(ids) for pair, ids in seen.items()}


@pytest.mark.parametrize("network", ["co_retweet", "co_tweet", "co_similar", "co_link", "co_reply"])
def test_streaming_equals_batch_definition(network: str) -> None:
    rng = random.Random(7)
    words = ["late", "order", "refund", "never", "again", "scam", "the", "shop"]
    messages = []
    for i in range(300):
        messages.append(
            Message(
                message_id=str(i),
                user_id=f"u{rng.randrange(12)}",
                timestamp=float(rng.randrange(0, 2000)),
                text=" ".join(rng.sample(words, rng.randrange(1, 5))),
                repost_id=rng.choice([None, None, "r1", "r2"]),
                reply_id=rng.choice([None, "p1", "p2", "p3"]),
                urls=tuple(rng.sample(["u.com/1", "u.com/2", "u.com/3"], rng.randrange(0, 3))),
            )
        )
    ordered = time_sorted(messages)
    got = compute_edges(ordered, network, 45, similarity=0.5)
    assert got == _brute(messages, network, 45)
    assert got  # the data does produce edges


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_slices_equal_one_pass(jobs: int) -> None:
    rng = random.Random(11)
    words = ["late", "order", "refund", "never", "again", "scam", "the", "shop", "bread"]
    messages = time_sorted(
        Message(str(i), f"u{rng.randrange(30)}", float(rng.randrange(0, 5000)),
                text=" ".join(rng.sample(words, rng.randrange(2, 7))))
        for i in range(1500)
    )  # fmt: skip
    one = co_similar_edges(messages, 30, similarity=0.6)
    assert one == compute_edges(messages, "co_similar", 30, similarity=0.6)
    assert co_similar_edges(messages, 30, similarity=0.6, jobs=jobs, min_parallel=10) == one
    assert co_similar_edges(
        messages, 30, similarity=0.6, min_weight=3, jobs=jobs, min_parallel=10
    ) == {p: w for p, w in one.items() if w >= 3}


def test_late_message_within_the_window_still_matches() -> None:
    net = CoTweet(window=60)
    net.learn_one(Message("1", "a", 100, text="same text here"))
    net.learn_one(Message("2", "b", 130, text="other words"))
    net.learn_one(Message("3", "c", 90, text="same text here"))  # arrives late
    assert net.edges() == {("a", "c"): 1, ("c", "a"): 1}


def test_eviction_keeps_memory_bounded() -> None:
    keyed = CoLink(window=10, evidence=False)
    similar = CoSimilar(window=10, similarity=0.8, evidence=False)
    most_keyed = most_similar = 0
    for i in range(20_000):
        m = Message(str(i), f"u{i % 50}", float(i), text=f"w{i % 7} x y z", urls=(f"l{i % 3}",))
        keyed.learn_one(m)
        similar.learn_one(m)
        most_keyed = max(most_keyed, keyed.held)
        most_similar = max(most_similar, similar.held)
    assert most_keyed <= 12 and most_similar <= 12 + 4096 // 1000 + 12


# -- clusters and evidence -----------------------------------------------------------------------


def test_clusters_join_networks_and_keep_evidence() -> None:
    tweet = CoTweet(window=60)
    link = CoLink(window=60)
    timing = CoTiming(window=120, min_authors=3)
    for m in [
        Message(
            "1", "a", 0, text="Boycott this shop now", urls=("bad.example/x",), first_time=True
        ),
        Message("2", "b", 8, text="boycott this shop NOW", first_time=True),
        Message("3", "c", 20, text="unrelated", urls=("bad.example/x",), first_time=True),
        Message("4", "z", 5000, text="nice", first_time=True),
    ]:
        for comp in (tweet, link, timing):
            comp.learn_one(m)
    found = clusters([tweet, link, timing])
    assert [c.accounts for c in found] == [["a", "b", "c"]]
    cluster = found[0]
    assert cluster.networks == {"co_tweet": 2, "co_link": 2, "co_timing": 6}
    kinds = {e["network"] for e in cluster.evidence}
    assert kinds == {"co_tweet", "co_link", "co_timing"}
    text_ev = next(e for e in cluster.evidence if e["network"] == "co_tweet")
    assert text_ev["shared"] == "boycott this shop now" and text_ev["seconds_apart"] == 8
    assert timing.bursts[0].users == ["a", "b", "c"]


def test_components_pickle_and_keep_their_parameters() -> None:
    net = CoSimilar(window=30, similarity=0.7, min_tokens=2)
    net.learn_one(Message("1", "a", 0, text="one two three"))
    clone = pickle.loads(pickle.dumps(net))
    assert (clone.window, clone.similarity, clone.min_tokens) == (30, 0.7, 2)
    clone.learn_one(Message("2", "b", 1, text="one two three four"))
    assert clone.edges() == {("a", "b"): 1, ("b", "a"): 1} and net.edges() == {}


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_prints_edges(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    # Out of time order on purpose: the command sorts.
    path.write_text(HEADER + '2,b,B,X,,,30,\n1,a,A,X,,,0,\n3,c,"C, Inc",X,,,200,\n', "utf-8")
    result = runner.invoke(
        app, ["coordination", str(path), "--network", "co_retweet", "--window", "60",
              "--min-weight", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["user_1,user_2,weight", "a,b,1", "b,a,1"]


def test_cli_co_similar_threshold(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        HEADER + "1,a,,,,one two three four,0,\n2,b,,,,one two three five,1,\n", "utf-8"
    )
    args = ["coordination", str(path), "--network", "co_similar", "--window", "10"]
    # 3 shared tokens of 5: Jaccard 0.6 exactly, kept at 0.6 and dropped just above
    assert runner.invoke(app, [*args, "--similarity", "0.61"]).stdout.count("\n") == 1
    assert "a,b,1" in runner.invoke(app, [*args, "--similarity", "0.6"]).stdout
    assert (
        "a,b,1"
        not in runner.invoke(app, [*args, "--min-weight", "2", "--similarity", "0.6"]).stdout
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("id,user\n1,a\n", "missing column(s) message_id"),
        (HEADER + "1,a,,,,x,0\n", ":2: expected 8 fields, got 7"),
        (HEADER + "1,a,,,,x,0,\n2,b,,,,y,soon,\n", ":3: timestamp 'soon' is not a number"),
        (HEADER + ",a,,,,x,0,\n", ":2: empty message_id"),
        (HEADER + "1,,,,,x,0,\n", ":2: empty user_id"),
        (HEADER + "1,a,,,,x,inf,\n", ":2: timestamp must be finite"),
    ],
)
def test_cli_rejects_malformed_input(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, "utf-8")
    result = runner.invoke(app, ["coordination", str(path), "--network", "co_tweet"])
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_rejects_bad_options(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER, "utf-8")
    result = runner.invoke(app, ["coordination", str(path), "--network", "co_post"])
    assert result.exit_code == 2 and "--network must be one of" in result.stderr
    result = runner.invoke(app, ["coordination", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "nope.csv" in result.stderr
    (tmp_path / "latin.csv").write_bytes(HEADER.encode() + b"1,a,,,,caf\xe9,0,\n")
    result = runner.invoke(app, ["coordination", str(tmp_path / "latin.csv")])
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_reader_keeps_first_of_repeated_ids() -> None:
    rows = list(read_toolkit_csv(io.StringIO(HEADER + "1,a,,,,x,0,\n1,b,,,,y,5,\n")))
    assert [(m.message_id, m.user_id) for m in rows] == [("1", "a")]
    with pytest.raises(CoordinationInputError):
        list(read_toolkit_csv(io.StringIO(HEADER + '1,a,,,,"unclosed,0,\n'), "f.csv"))


# -- the desk's monitor ------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def campaign(desk: Desk, page: str = "P1") -> None:
    records = []
    for i in range(5):
        records.append(
            CommentRecord(
                platform="facebook", platform_id=f"c{i}", created_at=T0 + timedelta(seconds=20 * i),
                text=f"This shop is a total scam, never buy here {'!' * i} see http://cheap.example/deal",
                page=page, post_id="post1", author_id=f"fake{i}", author_name=f"user{i}8842",
            )
        )  # fmt: skip
    records.append(
        CommentRecord(
            platform="facebook", platform_id="real", created_at=T0 + timedelta(hours=3),
            text="My order arrived late but the staff were kind", page=page, post_id="post1",
            author_id="ann", author_name="Ann",
        )
    )  # fmt: skip
    desk.ingest(records)


def test_monitor_finds_the_campaign_and_survives_restart(desk: Desk) -> None:
    monitor = CoordinationMonitor(desk)
    attach(desk, monitor)
    campaign(desk)
    page_id = desk.pages()[0].id
    found = monitor.clusters(page_id)
    assert len(found) == 1
    assert found[0].accounts == [f"fake{i}" for i in range(5)]
    assert {"co_similar", "co_link", "co_timing"} <= set(found[0].networks)
    similar = next(e for e in found[0].evidence if e["network"] == "co_similar")
    assert "scam" in similar["message_1_text"]
    score = monitor.score(page_id)
    assert 0.9 <= score <= 1.0
    assert monitor.score(page_id + 100) == 0.0

    again = CoordinationMonitor(desk)  # a restart: the state comes back from SignalState
    assert [c.accounts for c in again.clusters(page_id)] == [found[0].accounts]
    assert again.score(page_id) == score
    attach(desk, again)
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="c9", created_at=T0 + timedelta(seconds=100),
                text="This shop is a total scam, never buy here see http://cheap.example/deal",
                page="P1", post_id="post1", author_id="fake9", author_name="user98842",
            )
        ]
    )  # fmt: skip
    assert "fake9" in again.clusters(page_id)[0].accounts


def test_a_flood_of_copies_is_one_cluster_with_edges_bounded_by_the_cap(desk: Desk) -> None:
    """300 accounts paste one text in ten minutes. The toolkit's definition links every pair
    (about 90,000 directed edges); the monitor matches each comment with at most MAX_MATCHES
    before it, so the edges grow with the comments, and the group is still one cluster."""
    from crisisdesk.signals.coordination import MAX_MATCHES

    monitor = CoordinationMonitor(desk)
    attach(desk, monitor)
    n = 300
    records = [
        CommentRecord(
            platform="facebook", platform_id=f"f{i}", created_at=T0 + timedelta(seconds=2 * i),
            text=f"Vergogna, prodotto scaduto e nessuno risponde, ordine {i}", page="P1",
            post_id="post1", author_id=f"bot{i}", author_name=f"bot{i}",
        )
        for i in range(n)
    ]  # fmt: skip
    for k in range(0, n, 20):
        desk.ingest(records[k : k + 20])
    page_id = desk.pages()[0].id
    state = monitor.pages[page_id]
    assert len(state.co_similar.edges()) <= 2 * MAX_MATCHES * n
    (cluster,) = monitor.clusters(page_id)
    assert cluster.accounts == sorted(f"bot{i}" for i in range(n))
    assert monitor.score(page_id) >= 0.8  # a full-size group, two networks agree
    # The uncapped definition, for scale: every pair of the window.
    uncapped = CoSimilar(monitor.window, similarity=monitor.similarity, min_tokens=4)
    for r in records:
        uncapped.learn_one(
            Message(r.platform_id, str(r.author_id), r.created_at.timestamp(), r.text)
        )
    assert len(uncapped.edges()) > 10 * len(state.co_similar.edges())


def test_the_score_is_recomputed_only_when_the_edges_change(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = CoordinationMonitor(desk)
    attach(desk, monitor)
    campaign(desk)
    page_id = desk.pages()[0].id
    score = monitor.score(page_id)
    walked: list[int] = []

    def counting(*args: object, **kwargs: object) -> list:
        walked.append(1)
        return clusters(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("crisisdesk.signals.coordination.clusters", counting)
    assert monitor.score(page_id) == score and walked == []
    # A comment that links nobody, at the page's latest time: nothing to walk again.
    last = T0 + timedelta(hours=3)
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="plain", created_at=last, text="ok thanks",
                page="P1", post_id="post1", author_id="bob", author_name="Bob",
            )
        ]
    )  # fmt: skip
    assert monitor.score(page_id) == score and walked == []
    # Two more copies of the campaign's text: new edges, the score is worked out again.
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id=f"c{i}", created_at=last + timedelta(seconds=i),
                text="This shop is a total scam, never buy here see http://cheap.example/deal",
                page="P1", post_id="post1", author_id=f"fake{i}", author_name=f"user{i}8842",
            )
            for i in (7, 8)
        ]
    )  # fmt: skip
    # (the desk's own monitor, which the flame level reads, walked its edges during the ingest)
    before = len(walked)
    monitor.score(page_id)
    assert len(walked) == before + 1
    monitor.score(page_id)
    assert len(walked) == before + 1


def test_monitor_ignores_ordinary_comments(desk: Desk) -> None:
    monitor = CoordinationMonitor(desk)
    attach(desk, monitor)
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id=f"n{i}", created_at=T0 + timedelta(hours=i),
                text=text, page="P1", author_id=f"p{i}", author_name=f"Person {i}",
            )
            for i, text in enumerate(["thanks!", "thanks!", "when do you open on sunday?", "great bread"])
        ]
    )  # fmt: skip
    assert monitor.clusters(desk.pages()[0].id) == []
    assert monitor.score(desk.pages()[0].id) == 0.0


def test_monitor_built_before_the_schema_restores_later(settings, analyzer) -> None:  # type: ignore[no-untyped-def]
    early = Desk(settings, analyzer=analyzer)
    try:
        monitor = CoordinationMonitor(early)  # no tables yet: no error, state read on first use
        early.upgrade()
        attach(early, monitor)
        campaign(early)
        page_id = early.pages()[0].id
        assert len(monitor.clusters(page_id)) == 1
        assert len(CoordinationMonitor(early).clusters(page_id)) == 1
    finally:
        early.close()


def test_lazy_monitor_reads_its_state_on_first_use(desk: Desk) -> None:
    first = CoordinationMonitor(desk)
    attach(desk, first)
    campaign(desk)
    page_id = desk.pages()[0].id
    lazy = CoordinationMonitor(desk, lazy=True)
    assert lazy.pages == {}
    assert lazy.score(page_id) == first.score(page_id) > 0.9


@pytest.mark.parametrize("network", ["co_retweet", "co_tweet", "co_similar", "co_link", "co_reply"])
def test_contract_pickle_mid_stream_and_clone(network: str) -> None:
    """River-style checks: state survives a pickle round trip mid-stream; a component built from
    the same parameters repeats the same result."""
    rng = random.Random(3)
    messages = time_sorted(
        Message(str(i), f"u{rng.randrange(8)}", float(rng.randrange(0, 600)),
                text=rng.choice(["same words here now", "same words here", "other text entirely"]),
                repost_id=rng.choice([None, "r"]), reply_id=rng.choice([None, "p"]),
                urls=(rng.choice(["a.example", "b.example"]),))
        for i in range(200)
    )  # fmt: skip
    whole = make_network(network, 30, similarity=0.7)
    for m in messages:
        whole.learn_one(m)
    half = make_network(network, 30, similarity=0.7)
    for m in messages[:100]:
        half.learn_one(m)
    resumed = pickle.loads(pickle.dumps(half))
    for m in messages[100:]:
        resumed.learn_one(m)
    assert resumed.edges() == whole.edges() and whole.edges()
    params = {"window": whole.window, **({"similarity": 0.7} if network == "co_similar" else {})}
    clone = make_network(network, **params)
    for m in messages:
        clone.learn_one(m)
    assert clone.edges() == whole.edges()


def test_co_timing_bar_adapts_to_the_page_rate() -> None:
    timing = CoTiming(window=600, min_authors=4)
    assert timing.threshold() == 4
    for i in range(360):  # six hours of one new author a minute: the page's normal
        timing.learn_one(Message(f"b{i}", f"bg{i}", i * 60.0, first_time=True))
    assert timing.threshold() >= 12  # about ten new authors per window is normal here
    # Once the page's rate is known (after the first hour), the steady flow is not a burst.
    assert all(b.start < 3600 for b in timing.bursts)
    before = len(timing.bursts)
    for i in range(30):  # thirty new accounts in two minutes
        timing.learn_one(Message(f"c{i}", f"camp{i}", 360 * 60.0 + i * 4, first_time=True))
    assert len(timing.bursts) == before + 1
    assert {f"camp{i}" for i in range(30)} <= set(timing.bursts[-1].users)


def test_history_delivered_newest_first_keeps_memory_bounded_and_makes_no_burst() -> None:
    """An export read newest first makes every message late. Those more than a window behind
    the newest are compared with the window but not kept, so memory stays bounded and a quiet
    history of new authors, one every ten minutes, is not read as one burst."""
    keyed = CoLink(window=60, evidence=False)
    similar = CoSimilar(window=60, similarity=0.8, evidence=False)
    timing = CoTiming(window=300, min_authors=3)
    most = 0
    for i in reversed(range(3000)):
        m = Message(str(i), f"u{i}", 600.0 * i, text=f"w{i % 7} x y z", urls=(f"l{i % 3}",),
                    first_time=True)  # fmt: skip
        for net in (keyed, similar, timing):
            net.learn_one(m)
        most = max(most, keyed.held, similar.held, timing.held)
    assert most <= 1
    assert timing.bursts == []
    assert keyed.too_late == similar.too_late == timing.too_late == 2999
    # within the window, a late message is still kept and matched (see the test above)
    late = CoLink(window=60)
    late.learn_one(Message("1", "a", 100, urls=("x.example/1",)))
    late.learn_one(Message("2", "b", 70, urls=("x.example/1",)))
    assert late.edges() == {("a", "b"): 1, ("b", "a"): 1} and late.too_late == 0


def _campaign_records(page: str = "P1", every: int = 600) -> list[CommentRecord]:
    """Two days of a quiet page, then five new accounts pushing the same text and link, one
    every ``every`` seconds (ten minutes: each within the 15-minute window of the next only)."""
    records = [
        CommentRecord(
            platform="facebook", platform_id=f"h{i}", created_at=T0 - timedelta(hours=2 * i),
            text=f"Buongiorno, il pane di oggi era ottimo numero {i}", page=page, post_id="post1",
            author_id=f"regular{i % 6}", author_name=f"Regular {i % 6}",
        )
        for i in range(1, 25)
    ]  # fmt: skip
    for i in range(5):
        records.append(
            CommentRecord(
                platform="facebook", platform_id=f"c{i}", created_at=T0 + timedelta(seconds=every * i),
                text=f"This shop is a total scam, never buy here {'!' * i} see http://cheap.example/deal",
                page=page, post_id="post1", author_id=f"fake{i}", author_name=f"user{i}8842",
            )
        )  # fmt: skip
    return records


def test_history_delivered_newest_first_is_replayed_in_time_order(desk: Desk) -> None:
    monitor = CoordinationMonitor(desk)
    attach(desk, monitor)
    newest_first = sorted(_campaign_records(), key=lambda r: r.created_at, reverse=True)
    for k in range(0, len(newest_first), 4):
        desk.ingest(newest_first[k : k + 4])
    page_id = desk.pages()[0].id
    # streaming alone could not compare what arrived more than a window late: the chain of
    # ten-minute steps is broken
    assert page_id in monitor.pending
    assert [f"fake{i}" for i in range(5)] not in [c.accounts for c in monitor.clusters(page_id)]
    assert monitor.rebuild_pending() == len(newest_first)
    assert monitor.pending == set()
    found = monitor.clusters(page_id)
    assert [c.accounts for c in found] == [[f"fake{i}" for i in range(5)]]
    assert {"co_similar", "co_link"} <= set(found[0].networks)
    # saved: a monitor built afresh reads the replayed state
    assert [c.accounts for c in CoordinationMonitor(desk).clusters(page_id)] == [
        [f"fake{i}" for i in range(5)]
    ]


def test_importing_a_file_newest_first_replays_coordination(desk: Desk, tmp_path: Path) -> None:
    newest_first = sorted(_campaign_records(), key=lambda r: r.created_at, reverse=True)
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "page", "post_id", "parent_id", "author_id", "author_name",
                      "created_at", "text"])  # fmt: skip
        for r in newest_first:
            out.writerow([r.platform_id, r.page, r.post_id, "", r.author_id, r.author_name,
                          r.created_at.isoformat(), r.text])  # fmt: skip
    report = desk.import_file(path)
    assert report.accepted == len(newest_first)
    page_id = desk.pages()[0].id
    assert desk.coordination.pending == set()
    assert [c.accounts for c in desk.coordination.clusters(page_id)] == [
        [f"fake{i}" for i in range(5)]
    ]
