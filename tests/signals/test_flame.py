"""The flame level on a real desk: bursts, hysteresis, de-escalation, restarts and alerts."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Alert, SignalState
from crisisdesk.settings import Settings
from crisisdesk.signals.alerts import alert_dicts
from crisisdesk.signals.flame import (
    LEVELS,
    Event,
    FlameConfig,
    FlameDetector,
    FlameMonitor,
    LevelState,
)
from crisisdesk.signals.flame import _reasons as flame_reasons
from tests.conftest import KeywordAnalyzer

T0 = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)  # a Monday


def history(start: datetime = T0, days: float = 2.0, seed: int = 3) -> list[CommentRecord]:
    """Quiet, mixed comments from a few regulars, about one every 15 minutes."""
    rng = random.Random(seed)
    out = []
    t = start
    i = 0
    while t < start + timedelta(days=days):
        t += timedelta(minutes=rng.uniform(5, 25))
        text = rng.choice(["great pizza, thanks", "open on sunday?", "ok", "delivery was late"])
        out.append(
            CommentRecord(
                platform="facebook", platform_id=f"h{seed}-{i}", created_at=t, text=text,
                page="P1", page_name="Forno", post_id=rng.choice(["post1", "post2"]),
                author_id=f"regular{rng.randint(1, 8)}", author_name=f"Regular {rng.randint(1, 8)}",
            )
        )  # fmt: skip
        i += 1
    return out


def _author(tag: str, i: int) -> str:
    # Two loud newcomers write every other comment; the rest are one-off newcomers.
    return {0: f"{tag}loud1", 2: f"{tag}loud2"}.get(i % 4, f"{tag}new{i}")


def burst(start: datetime, n: int = 45, every_s: int = 20, tag: str = "b") -> list[CommentRecord]:
    """Angry comments from people never seen before, under one post."""
    return [
        CommentRecord(
            platform="facebook", platform_id=f"{tag}{i}", created_at=start + timedelta(seconds=every_s * i),
            text=("schifo, " if i % 4 == 0 else "") + f"order {i} late again, vergogna",
            page="P1", page_name="Forno", post_id="post3", author_id=_author(tag, i),
            author_name="Newcomer " + _author(tag, i),
        )
        for i in range(n)
    ]  # fmt: skip


def calm_after(start: datetime, hours: float = 4.0) -> list[CommentRecord]:
    return [
        CommentRecord(
            platform="facebook", platform_id=f"c{start:%H%M}-{i}", created_at=start + timedelta(minutes=15 * i),
            text="thanks for the answer", page="P1", post_id="post1", author_id="regular1",
            author_name="Regular 1",
        )
        for i in range(int(hours * 4))
    ]  # fmt: skip


def feed(desk: Desk, records: list[CommentRecord], batch: int = 10) -> None:
    for k in range(0, len(records), batch):
        desk.ingest(records[k : k + batch])


@pytest.fixture
def monitor(desk: Desk) -> Iterator[FlameMonitor]:
    yield desk.flame  # the desk's own monitor, already listening to its ingest


def page_id(desk: Desk) -> int:
    return desk.pages()[0].id


def alerts_in_store(desk: Desk) -> list[Alert]:
    with desk.session() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def test_quiet_history_stays_calm(desk: Desk, monitor: FlameMonitor) -> None:
    desk.ingest(history())
    assert monitor.level_of(page_id(desk)) == "calm"
    assert alerts_in_store(desk) == []


def test_burst_of_negative_newcomers_raises_the_level(desk: Desk, monitor: FlameMonitor) -> None:
    # The detector's own signals only; the coordination input has its own test below.
    monitor.coordination_source = None
    past = history()
    desk.ingest(past)
    start = past[-1].created_at + timedelta(minutes=10)
    feed(desk, burst(start))
    pid = page_id(desk)
    assert monitor.level_of(pid) in ("flame", "crisis")
    alerts = monitor.alerts(page_id=pid)
    page_alerts = [a for a in alerts if a["post_id"] is None]
    post_alerts = [a for a in alerts if a["post_id"] is not None]
    assert page_alerts and post_alerts
    # People recognise a post by its text or its platform id, not the desk's row number.
    from crisisdesk.signals.alerts import alert_dicts

    listed = alert_dicts(desk, page_id=pid)
    assert {a["post"] for a in listed if a["post_id"] is not None} == {"post3"}
    assert all(a["post"] is None for a in listed if a["post_id"] is None)
    first = min(page_alerts, key=lambda a: a["at"])
    # Event time: the alert is dated inside the burst, within its first quarter hour.
    at = datetime.fromisoformat(first["at"])
    assert start <= at <= start + timedelta(minutes=15)
    ev = first["evidence"]
    fig = ev["figures"]
    assert fig["usual_comments"] is not None and fig["comments"] > 3 * fig["usual_comments"]
    assert fig["negative_share"] >= 0.6 > fig["usual_negative_share"]
    assert fig["first_time_share"] >= 0.5
    assert fig["offensive_share"] > 0
    assert any("usual" in r for r in ev["reasons"]) and any("negative" in r for r in ev["reasons"])
    assert any("negativi" in r for r in ev["reasons_it"])
    assert ev["samples"] and all("vergogna" in s["text"] for s in ev["samples"])
    assert all(s["comment_id"] for s in ev["samples"])
    # only the two who wrote more than once: the one-comment newcomers are not "loudest"
    assert {a["name"] for a in ev["authors"]} == {"Newcomer bloud1", "Newcomer bloud2"}
    assert all(a["comments"] >= 2 for a in ev["authors"])
    assert "15 minutes" in ev["first_move"]["en"] and "15 minuti" in ev["first_move"]["it"]
    assert ev["previous_level"] in LEVELS


def test_no_duplicate_alerts_for_an_episode(desk: Desk, monitor: FlameMonitor) -> None:
    past = history()
    desk.ingest(past)
    records = burst(past[-1].created_at + timedelta(minutes=10))
    feed(desk, records)
    before = alerts_in_store(desk)
    keys = [(a.episode, a.level) for a in before]
    assert len(keys) == len(set(keys))
    # The same comments delivered again, and a second monitor on the same store: nothing new.
    feed(desk, records)
    twin = FlameMonitor(desk)
    twin.on_ingested([])
    assert len(alerts_in_store(desk)) == len(before)


def test_levels_do_not_flap() -> None:
    cfg = FlameConfig()
    det = FlameDetector(cfg)
    lv = LevelState()
    heats = [0.6, 0.5, 0.58, 0.48, 0.6, 0.47, 0.56, 0.5] * 5  # hovering around "flame"
    levels = []
    for minute, heat in enumerate(heats):
        det.step(lv, heat, minute * 5, "page:1")
        levels.append(lv.level)
    assert levels[0] == LEVELS.index("flame")
    assert set(levels) == {LEVELS.index("flame")}  # entered once, never left
    # Falling needs the lower threshold and the dwell: one step at a time.
    det.step(lv, 0.1, 1000, "page:1")
    assert lv.level == LEVELS.index("watch")
    det.step(lv, 0.1, 1010, "page:1")
    assert lv.level == LEVELS.index("watch")  # dwell not over
    det.step(lv, 0.1, 1000 + cfg.min_dwell_minutes, "page:1")
    assert lv.level == 0
    episode = lv.episode
    # Flaring up again soon after is the same episode, and "flame" was already announced.
    calm_since = 1000 + cfg.min_dwell_minutes
    assert det.step(lv, 0.6, calm_since + 10, "page:1") is None
    assert lv.level == LEVELS.index("flame") and lv.episode == episode
    assert det.step(lv, 0.9, calm_since + 15, "page:1") == LEVELS.index("flame")  # crisis: new
    # Long calm closes the episode; the next rise opens another.
    for minute in range(calm_since + 20, calm_since + 400, 5):
        det.step(lv, 0.0, minute, "page:1")
    assert lv.level == 0 and lv.episode is None
    assert det.step(lv, 0.4, calm_since + 500, "page:1") == 0


def test_de_escalation_and_a_new_episode(desk: Desk, monitor: FlameMonitor) -> None:
    past = history()
    desk.ingest(past)
    start = past[-1].created_at + timedelta(minutes=10)
    first = burst(start)
    feed(desk, first)
    pid = page_id(desk)
    assert monitor.level_of(pid) != "calm"
    episodes = {a.episode for a in alerts_in_store(desk) if a.post_id is None}
    assert len(episodes) == 1
    quiet = calm_after(first[-1].created_at + timedelta(minutes=5), hours=4)
    feed(desk, quiet)
    assert monitor.level_of(pid) == "calm"
    changes = monitor.detector.history(pid)["changes"]
    levels = [level for _at, level in changes]
    # Up, then down one level at a time back to calm.
    peak = max(range(len(levels)), key=lambda i: LEVELS.index(levels[i]))
    down = levels[peak:]
    assert down[-1] == "calm"
    assert all(LEVELS.index(a) - LEVELS.index(b) == 1 for a, b in zip(down, down[1:], strict=False))
    again = burst(quiet[-1].created_at + timedelta(minutes=10), tag="second")
    feed(desk, again)
    episodes = {a.episode for a in alerts_in_store(desk) if a.post_id is None}
    assert len(episodes) == 2


def test_restart_restores_state(desk: Desk, monitor: FlameMonitor, settings: object) -> None:
    past = history()
    desk.ingest(past)
    feed(desk, burst(past[-1].created_at + timedelta(minutes=10))[:25])
    pid = page_id(desk)
    level = monitor.level_of(pid)
    assert level != "calm"
    with desk.session() as s:
        # the settings in one row, the page's state in its own
        for name in ("flame", f"flame/page/{pid}"):
            row = s.get(SignalState, name)
            assert row is not None and row.version == "flame-2" and row.seq >= 1
    # A new desk on the same data directory: the detector picks up where it was.
    other = Desk(desk.settings, analyzer=KeywordAnalyzer())
    try:
        restored = other.flame
        assert restored.level_of(pid) == level
        assert restored.detector.to_state() == monitor.detector.to_state()
        n_before = len(alerts_in_store(desk))
        rest = burst(past[-1].created_at + timedelta(minutes=10))[25:]
        feed(other, rest)
        # The run continues in the same episode: no repeat of alerts already written.
        alerts = alerts_in_store(desk)
        keys = [(a.episode, a.level) for a in alerts]
        assert len(keys) == len(set(keys)) and len(alerts) >= n_before
    finally:
        other.close()


def test_replay_in_one_batch_matches_live_feed(
    desk: Desk, monitor: FlameMonitor, tmp_path: object
) -> None:
    """A year-old export imported at once tells the same story as living through it."""
    old = datetime(2021, 3, 1, 8, 0, tzinfo=UTC)
    records = history(old)
    records += burst(records[-1].created_at + timedelta(minutes=10))
    shuffled = list(records)
    random.Random(5).shuffle(shuffled[-60:])  # a little disorder inside the last batch
    desk.ingest(shuffled, batch_size=5000)
    replayed = [(a["level"], a["post_id"] is None, a["at"]) for a in monitor.alerts(limit=100)]
    assert replayed and all(a[2].startswith("2021-03") for a in replayed)

    live = FlameDetector()
    page = page_id(desk)
    for r in sorted(records, key=lambda r: r.created_at):
        ev = Event(page, None, r.created_at, "late" in r.text, "schifo" in r.text, False)
        live.learn_one(ev)
        live.flush()
    assert live.level_of(page) == monitor.level_of(page)


def test_coordination_input_is_used_and_reported(desk: Desk, monitor: FlameMonitor) -> None:
    monitor.coordination_source = lambda _page: 0.8
    past = history()
    desk.ingest(past)
    feed(desk, burst(past[-1].created_at + timedelta(minutes=10), n=30))
    alerts = monitor.alerts()
    assert alerts and alerts[0]["evidence"]["figures"]["coordination"] == 0.8
    assert any("coordination" in r for r in alerts[0]["reasons"])


def test_edits_and_repeats_are_not_volume(desk: Desk, monitor: FlameMonitor) -> None:
    past = history(days=1.5)
    desk.ingest(past)
    state = monitor.detector.to_state()
    desk.ingest(past[-20:])  # repeated deliveries
    assert monitor.detector.to_state()["pages"] == state["pages"]
    with desk.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 0


def test_alerts_command_json_and_table(desk: Desk, monitor: FlameMonitor) -> None:
    import json

    from typer.testing import CliRunner

    from crisisdesk.cli import app

    past = history()
    desk.ingest(past)
    feed(desk, burst(past[-1].created_at + timedelta(minutes=10)))
    data_dir = str(desk.settings.data_path)
    runner = CliRunner()
    result = runner.invoke(app, ["alerts", "--json", "--data-dir", data_dir])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and rows == sorted(rows, key=lambda r: r["at"], reverse=True)
    assert {"page_name", "level", "episode", "at", "reasons", "evidence"} <= set(rows[0])
    assert rows[0]["page_name"] == "Forno"
    table = runner.invoke(app, ["alerts", "--data-dir", data_dir, "--limit", "1"])
    assert table.exit_code == 0 and "Forno" in table.stdout
    assert len(table.stdout.strip().splitlines()) == 1
    other = runner.invoke(app, ["alerts", "--page", "999", "--data-dir", data_dir])
    assert other.stdout.strip() == "no alerts"
    bad = runner.invoke(app, ["alerts", "--limit", "0", "--data-dir", data_dir])
    assert bad.exit_code == 2


def test_history_out_of_order_is_rebuilt_from_the_store(desk: Desk, monitor: FlameMonitor) -> None:
    """An export read newest first: the stream cannot place it, a rebuild replays it in order."""
    past = history()
    records = past + burst(past[-1].created_at + timedelta(minutes=10))
    newest_first = sorted(records, key=lambda r: r.created_at, reverse=True)
    desk.ingest(newest_first, batch_size=100)
    pid = page_id(desk)
    assert pid in monitor.pending
    # The first batch (the newest hundred) was seen without any history: what it raised was
    # written down, announced to nobody, and the rebuild replaces it with what the ordered
    # history shows, one alert per episode and level.
    monitor.rebuild_pending()
    assert monitor.pending == set()
    page_alerts = [a for a in monitor.alerts() if a["post_id"] is None]
    assert page_alerts and monitor.level_of(pid) in ("flame", "crisis")

    # The same as a desk that received the comments in order.
    other_dir = desk.settings.data_path.parent / "in-order"
    from crisisdesk.settings import Settings

    other = Desk(Settings({"data_dir": str(other_dir)}, environ={}), analyzer=KeywordAnalyzer())
    try:
        other.upgrade()
        in_order = other.flame
        other.ingest(records, batch_size=1000)
        expected = {(a["episode"], a["level"]) for a in in_order.alerts() if a["post_id"] is None}
        assert expected and expected == {(a["episode"], a["level"]) for a in page_alerts}
        assert in_order.level_of(pid) == monitor.level_of(pid)
        assert monitor.rebuild() == 0  # nothing new the second time
    finally:
        other.close()


def test_live_comments_delivered_hours_late_are_replayed_once_deliveries_pause(
    desk: Desk, monitor: FlameMonitor, tmp_path: Path
) -> None:
    """The desk was down during a flame; Meta delivers the flame's comments hours later, after
    newer ones. The stream cannot place them; the webhook processor replays the page once the
    deliveries pause, and the flame is there, as if it had been received in order."""
    from crisisdesk.connectors.spool import Spool
    from crisisdesk.connectors.webhook import WebhookProcessor

    past = history()
    flame_at = past[-1].created_at + timedelta(minutes=10)
    missed = burst(flame_at)
    later = calm_after(flame_at + timedelta(hours=2), hours=1.0)
    feed(desk, past + later)
    pid = page_id(desk)
    feed(desk, missed)  # the retried deliveries, two hours late
    assert pid in monitor.pending and monitor.out_of_order
    assert not [a for a in monitor.alerts() if a["level"] in ("flame", "crisis")]

    processor = WebhookProcessor(desk, Spool(tmp_path / "spool"))
    now = [1000.0]
    processor.clock = lambda: now[0]
    processor.drain()  # nothing spooled: the deliveries above came through the desk directly
    processor._last_batch_at = now[0]
    assert processor.settle_late() == 0  # deliveries are still coming in
    now[0] += processor.settle_quiet_seconds - 1
    assert processor.settle_late() == 0 and monitor.out_of_order
    now[0] += 2
    assert processor.settle_late() > 0
    assert not monitor.out_of_order
    replayed = {(a["episode"], a["level"]) for a in monitor.alerts() if a["post_id"] is None}
    assert {"flame", "crisis"} & {level for _, level in replayed}

    other = Desk(
        Settings({"data_dir": str(tmp_path / "in-order")}, environ={}), analyzer=KeywordAnalyzer()
    )
    try:
        other.upgrade()
        other.ingest(sorted(past + missed + later, key=lambda r: r.created_at), batch_size=1000)
        expected = {
            (a["episode"], a["level"]) for a in other.flame.alerts() if a["post_id"] is None
        }
        assert expected == replayed
    finally:
        other.close()


def test_late_deliveries_that_keep_trickling_are_replayed_within_minutes(
    desk: Desk, monitor: FlameMonitor, tmp_path: Path
) -> None:
    from crisisdesk.connectors.spool import Spool
    from crisisdesk.connectors.webhook import WebhookProcessor

    past = history()
    flame_at = past[-1].created_at + timedelta(minutes=10)
    feed(desk, past + calm_after(flame_at + timedelta(hours=2), hours=1.0))
    feed(desk, burst(flame_at))
    processor = WebhookProcessor(desk, Spool(tmp_path / "spool"))
    now = [1000.0]
    processor.clock = lambda: now[0]
    for _ in range(int(processor.settle_within_seconds // 10)):
        processor._last_batch_at = now[0]  # a delivery every ten seconds
        assert processor.settle_late() == 0
        now[0] += 10
    processor._last_batch_at = now[0]
    assert processor.settle_late() > 0 and not monitor.out_of_order


def test_late_comments_without_deliveries_are_replayed_after_the_quiet_time(
    desk: Desk, monitor: FlameMonitor, tmp_path: Path
) -> None:
    """Late comments that came in without a webhook batch (the JSON API) are replayed too,
    once they have been waiting the quiet time, not at the first look."""
    from crisisdesk.connectors.spool import Spool
    from crisisdesk.connectors.webhook import WebhookProcessor

    past = history()
    flame_at = past[-1].created_at + timedelta(minutes=10)
    feed(desk, past + calm_after(flame_at + timedelta(hours=2), hours=1.0))
    feed(desk, burst(flame_at))
    processor = WebhookProcessor(desk, Spool(tmp_path / "spool"))
    now = [5000.0]
    processor.clock = lambda: now[0]
    assert processor.settle_late() == 0 and monitor.out_of_order
    now[0] += processor.settle_quiet_seconds
    assert processor.settle_late() > 0 and not monitor.out_of_order


def test_a_saved_state_behind_the_store_is_replayed_after_a_restart(
    desk: Desk, settings: Settings, tmp_path: Path
) -> None:
    """A process stopped between writing a flame's comments and saving the page's state
    (a crash, or a kill), then the desk restarted: the pages whose stored comments the state
    never learnt are replayed at the next settling, and the flame is there as if nothing had
    been lost."""
    from crisisdesk.signals.flame import page_state_name

    past = history()
    flame_at = past[-1].created_at + timedelta(minutes=10)
    feed(desk, past)
    name = page_state_name(page_id(desk))
    with desk.session() as s:
        older = s.get(SignalState, name)
        assert older is not None
        older_blob = older.state
    flame = burst(flame_at)
    feed(desk, flame)
    expected = {(a["episode"], a["level"]) for a in desk.flame.alerts() if a["post_id"] is None}
    assert {"flame", "crisis"} & {level for _, level in expected}
    with desk.session() as s, s.begin():
        row = s.get(SignalState, name)
        assert row is not None
        row.state = older_blob  # the page's state as saved before the flame
    desk.close()

    again = Desk(settings, analyzer=KeywordAnalyzer())
    try:
        assert again.flame.out_of_order  # the restored state is behind the store
        again.flame.settle_late()
        assert not again.flame.out_of_order
        pid = page_id(again)
        assert again.flame.level_of(pid) == desk.flame.level_of(pid)
        replayed = {
            (a["episode"], a["level"]) for a in again.flame.alerts() if a["post_id"] is None
        }
        assert replayed == expected
    finally:
        again.close()


def test_flame_command_rebuilds_and_lists_levels(desk: Desk) -> None:
    import json

    from typer.testing import CliRunner

    from crisisdesk.cli import app

    past = history()
    desk.ingest(past + burst(past[-1].created_at + timedelta(minutes=10)))  # no monitor yet
    data_dir = str(desk.settings.data_path)
    runner = CliRunner()
    result = runner.invoke(app, ["flame", "--rebuild", "--json", "--data-dir", data_dir])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["page_name"] == "Forno" and rows[0]["level"] in ("flame", "crisis")
    assert "new alerts" in result.stderr
    # The state was saved: without --rebuild the level is still known.
    again = runner.invoke(app, ["flame", "--data-dir", data_dir])
    assert again.exit_code == 0 and "Forno" in again.stdout
    assert again.stdout.split()[0] in ("flame", "crisis")


def test_monitor_can_be_built_before_the_schema_exists(settings: object) -> None:
    """A desk makes its monitor in its constructor, before `upgrade()`: state is read lazily."""
    from crisisdesk.settings import Settings

    assert isinstance(settings, Settings)
    fresh = Desk(settings, analyzer=KeywordAnalyzer())
    try:
        monitor = fresh.flame
        fresh.upgrade()
        past = history(days=1.2)
        fresh.ingest(past)
        assert monitor.level_of(fresh.pages()[0].id) == "calm"
    finally:
        fresh.close()


def test_coordination_signal_raises_the_alarm_sooner(desk: Desk, monitor: FlameMonitor) -> None:
    """The burst's newcomers post near-identical texts: with the desk's coordination monitor
    feeding the detector, the first alert comes no later and names the coordination figure."""

    def first_alert(d: Desk) -> dict[str, object]:
        past = history()
        d.ingest(past)
        feed(d, burst(past[-1].created_at + timedelta(minutes=10)))
        alerts = [a for a in d.flame.alerts(page_id=page_id(d)) if a["post_id"] is None]
        return min(alerts, key=lambda a: a["at"])

    with_coordination = first_alert(desk)
    from crisisdesk.settings import Settings

    other = Desk(
        Settings({"data_dir": str(desk.settings.data_path.parent / "no-coord")}, environ={}),
        analyzer=KeywordAnalyzer(),
    )
    try:
        other.upgrade()
        other.flame.coordination_source = None
        without = first_alert(other)
    finally:
        other.close()
    assert str(with_coordination["at"]) <= str(without["at"])
    figures = with_coordination["evidence"]["figures"]  # type: ignore[index]
    assert figures["coordination"] > 0.5


def test_alert_reasons_write_decimals_as_the_reader_does() -> None:
    figures = {
        "comments": 10,
        "minutes": 30,
        "usual_comments": 0.5,
        "volume_score": 1.0,
        "negative_share": 0.9,
        "usual_negative_share": 0.2,
        "offensive_share": 0.0,
        "first_time_share": 0.0,
        "acceleration": 0.0,
        "posts": 1,
        "coordination": 0.4,
    }
    italian = flame_reasons(figures, "it")
    assert italian[0].endswith("volte il solito (0,5)")
    assert italian[-1] == "segni di coordinamento (0,40)"
    english = flame_reasons(figures, "en")
    assert english[0].endswith("the usual (0.5)") and english[-1].endswith("(0.40)")


def test_trolls_count_as_offensive_even_when_the_model_doubts(
    desk: Desk, analyzer: KeywordAnalyzer, monitor: FlameMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On page comments the offence model rarely reaches even odds; a comment the kind rules
    made a troll (a visible insult or mockery) counts as offensive in the alert, live and when
    the history is replayed from the store."""
    plain = analyzer.analyze_many

    def with_trolls(texts: Any, hints: Any = None) -> list[Any]:
        return [
            dataclasses.replace(a, kind="troll", offensive=0.1) if "clown" in t else a
            for t, a in zip(texts, plain(texts, hints), strict=True)
        ]

    monkeypatch.setattr(analyzer, "analyze_many", with_trolls)
    monitor.coordination_source = None
    past = history()
    desk.ingest(past)
    start = past[-1].created_at + timedelta(minutes=10)
    trolls = [
        dataclasses.replace(r, text=r.text.replace("schifo, ", "") + " clowns")
        for r in burst(start)
    ]
    feed(desk, trolls)
    pid = page_id(desk)
    live = [a for a in monitor.alerts(page_id=pid) if a["post_id"] is None]
    assert live and live[0]["evidence"]["figures"]["offensive_share"] >= 0.5

    with desk.session() as s:
        s.query(Alert).delete()
        s.commit()
    assert monitor.rebuild([pid]) > 0
    replayed = [a for a in monitor.alerts(page_id=pid) if a["post_id"] is None]
    assert replayed and replayed[0]["evidence"]["figures"]["offensive_share"] >= 0.5


# -- the same history imported in another order -----------------------------------------------


def _two_pages() -> list[CommentRecord]:
    """Two pages with quiet history and a burst each. The second page's burst comes from the
    same newcomers two hours later, so whether they are first-time authors there depends on
    the first page's comments having been seen first."""
    one = history(days=1.5, seed=3)
    one += burst(one[-1].created_at + timedelta(minutes=10))
    two = [
        dataclasses.replace(r, platform_id=f"two-{r.platform_id}", page="P2", page_name="Bar")
        for r in history(days=1.5, seed=5)
    ]
    later = two[-1].created_at + timedelta(hours=2)
    two += [
        dataclasses.replace(r, platform_id=f"two-{r.platform_id}", page="P2", page_name="Bar")
        for r in burst(later, n=40, tag="b")
    ]
    return one + two


def _write_csv(path: Any, records: list[CommentRecord]) -> Any:
    import csv

    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            ["id", "page", "page_name", "post_id", "author_id", "author_name", "created_at", "text"]
        )
        for r in records:
            out.writerow(
                [r.platform_id, r.page, r.page_name, r.post_id, r.author_id, r.author_name,
                 r.created_at.isoformat(), r.text]
            )  # fmt: skip
    return path


def _desk_on_its_own(tmp_path: Any, name: str, batch: int = 40) -> Desk:
    """A fresh desk on its own SQLite file, importing in small batches (so that history out of
    order really reaches the stream out of order)."""
    from crisisdesk.settings import Settings

    settings = Settings({"data_dir": str(tmp_path / name), "import_batch_size": batch}, environ={})
    desk = Desk(settings, analyzer=KeywordAnalyzer())
    desk.upgrade()
    return desk


def _alerts_as_read(desk: Desk) -> list[tuple[Any, ...]]:
    """The desk's alerts as people read them: page, post, level, time, why, the figures and the
    sample comments."""
    return sorted(
        (
            a["page_name"],
            a["post"] or "",
            a["level"],
            a["at"],
            tuple(a["reasons"]),
            tuple(sorted(a["evidence"]["figures"].items())),
            tuple(s["text"] for s in a["evidence"]["samples"]),
            tuple((x["name"], x["comments"]) for x in a["evidence"]["authors"]),
        )
        for a in alert_dicts(desk, limit=1000)
    )


def _imported_alerts(
    tmp_path: Any, name: str, records: list[CommentRecord], batch: int = 40
) -> list[tuple[Any, ...]]:
    """Import ``records`` as a CSV file into a fresh desk; its alerts as people read them."""
    desk = _desk_on_its_own(tmp_path, name, batch)
    try:
        report = desk.import_file(_write_csv(tmp_path / f"{name}.csv", records))
        assert report.inserted == len(records) and not report.errors
        return _alerts_as_read(desk)
    finally:
        desk.close()


def test_import_order_does_not_change_the_alerts(tmp_path: Any) -> None:
    """Newest first, or page by page, the same file gives the alerts of the file in event order:
    the replay replaces what the stream wrote while the rows were out of order."""
    records = sorted(_two_pages(), key=lambda r: r.created_at)
    in_order = _imported_alerts(tmp_path, "in-order", records)
    assert {a[0] for a in in_order} == {"Forno", "Bar"}
    assert any(a[2] in ("flame", "crisis") for a in in_order)
    newest_first = _imported_alerts(tmp_path, "newest-first", records[::-1])
    assert newest_first == in_order
    by_page = sorted(records, key=lambda r: (r.page != "P2", r.created_at), reverse=True)
    assert _imported_alerts(tmp_path, "by-page", by_page) == in_order


def test_import_by_page_in_order_still_counts_first_time_authors_right(tmp_path: Any) -> None:
    """Page by page, each page oldest first: no page is out of order for the flame level, but
    the second page's newcomers wrote on the first page earlier, which the file only shows later:
    the import notices and replays, so they are not counted as first-time authors."""
    records = sorted(_two_pages(), key=lambda r: r.created_at)
    in_order = _imported_alerts(tmp_path, "in-order", records)
    by_page = sorted(records, key=lambda r: (r.page != "P2", r.created_at))
    assert _imported_alerts(tmp_path, "by-page", by_page) == in_order


def test_replay_keeps_announced_alerts_and_drops_unannounced_ones(
    desk: Desk, monitor: FlameMonitor
) -> None:
    """The rule the replay applies: an alert the team was told of stays and is not written a
    second time; one that was only written down goes if the replay does not raise
    it, and stays (same row) if it does."""
    monitor.coordination_source = None
    past = history()
    # One batch: no early look inside a bucket, so the replay raises the same alerts.
    desk.ingest(past + burst(past[-1].created_at + timedelta(minutes=10)), batch_size=1000)
    pid = page_id(desk)
    real = alerts_in_store(desk)
    assert real and all(a.announced_at is None for a in real)  # history: nobody was told
    with desk.session() as s, s.begin():
        announced = Alert(
            page_id=pid, level="crisis", episode="page:made-up", at=T0, evidence={},
            announced_at=T0,
        )  # fmt: skip
        wrong = Alert(page_id=pid, level="watch", episode="page:wrong", at=T0, evidence={})
        s.add_all([announced, wrong])
    assert monitor.rebuild([pid]) == 0  # the same alerts as before, none new
    after = alerts_in_store(desk)
    episodes = {a.episode for a in after}
    assert "page:made-up" in episodes and "page:wrong" not in episodes
    assert [a.id for a in after if a.episode != "page:made-up"] == [a.id for a in real]


# -- imports that overlap ---------------------------------------------------------------------


def _recording_announcements(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, records: list[CommentRecord]
) -> list[int]:
    """The ids of the alerts the desk's monitor announces, in order. The desk's clock is put
    just after the records, so that their alerts are recent enough to be announced."""
    announced: list[int] = []
    desk.clock = lambda: max(r.created_at for r in records) + timedelta(minutes=30)
    monkeypatch.setattr(desk.flame, "_announce", lambda alert: announced.append(alert["id"]))
    return announced


def _recent_alert_ids(desk: Desk) -> list[int]:
    now = desk.clock()
    hours = desk.flame.announce_within_hours
    return sorted(a.id for a in alerts_in_store(desk) if now - a.at <= timedelta(hours=hours))


def test_nested_imports_settle_once_when_the_outer_one_ends(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page imported newest first inside the import of another, newest first too: the alerts
    are those of one import of every row in event order, and they are announced once, when the
    outer import ends."""
    records = sorted(_two_pages(), key=lambda r: r.created_at)
    expected = _imported_alerts(tmp_path, "one-import", records)
    desk = _desk_on_its_own(tmp_path, "nested")
    try:
        announced = _recording_announcements(desk, monkeypatch, records)
        with desk.importing_history():
            desk.ingest([r for r in records if r.page == "P1"][::-1])
            with desk.importing_history():
                desk.ingest([r for r in records if r.page == "P2"][::-1])
            assert desk.flame.importing
            assert announced == []  # the outer import is still open
        assert not desk.flame.importing and desk.flame.pending == set()
        assert _alerts_as_read(desk) == expected
        assert announced and sorted(announced) == _recent_alert_ids(desk)  # each once
    finally:
        desk.close()


def test_imports_from_two_threads_settle_once_when_the_last_ends(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports open at once on two threads (two fetches from the web page), each delivering
    its page newest first; the first ends while the second is open: nothing is announced until
    the second ends, and then the alerts are those of one import of every row."""
    import threading

    records = sorted(_two_pages(), key=lambda r: r.created_at)
    expected = _imported_alerts(tmp_path, "one-import", records)
    desk = _desk_on_its_own(tmp_path, "threads")
    announced = _recording_announcements(desk, monkeypatch, records)
    both_open = threading.Barrier(2, timeout=30)
    first_ingested, second_ingested, first_closed = (threading.Event() for _ in range(3))
    seen_when_first_closed: list[list[int]] = []
    failures: list[BaseException] = []

    def first() -> None:
        with desk.importing_history():
            both_open.wait()
            desk.ingest([r for r in records if r.page == "P1"][::-1])
            first_ingested.set()
            assert second_ingested.wait(30)
        seen_when_first_closed.append(list(announced))
        first_closed.set()

    def second() -> None:
        with desk.importing_history():
            both_open.wait()
            # one after the other: the two imports overlap, their writes need not
            assert first_ingested.wait(30)
            desk.ingest([r for r in records if r.page == "P2"][::-1])
            second_ingested.set()
            assert first_closed.wait(30)

    def run(target: Any) -> None:
        try:
            target()
        except BaseException as exc:  # reported by the test's own thread
            failures.append(exc)
            for event in (first_ingested, second_ingested, first_closed):
                event.set()  # so that the other thread does not wait in vain

    try:
        threads = [threading.Thread(target=run, args=(f,)) for f in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not failures, failures
        assert seen_when_first_closed == [[]]
        assert not desk.flame.importing and desk.flame.pending == set()
        assert _alerts_as_read(desk) == expected
        assert announced and sorted(announced) == _recent_alert_ids(desk)  # each once
    finally:
        desk.close()


# -- live comments while an import is open ----------------------------------------------------


def _at_the_bar(records: list[CommentRecord]) -> list[CommentRecord]:
    """``records`` on a second page, "Bar", written by other people than the first page's."""
    return [
        dataclasses.replace(
            r, platform_id=f"bar-{r.platform_id}", page="P2", page_name="Bar",
            author_id=f"bar-{r.author_id}", author_name=f"{r.author_name} at the bar",
        )
        for r in records
    ]  # fmt: skip


@contextmanager
def _importing_in_another_thread(desk: Desk, records: list[CommentRecord]) -> Iterator[None]:
    """A fetch on a background thread: it opens an import, ingests ``records`` and stays open
    while the block runs (a fetch waiting out the platform's rate limits); the import ends with
    the block."""
    import threading

    ingested, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def fetch() -> None:
        try:
            with desk.importing_history():
                desk.ingest(records)
                ingested.set()
                assert release.wait(30)
        except BaseException as exc:  # reported by the test's own thread
            failures.append(exc)
            ingested.set()

    thread = threading.Thread(target=fetch)
    thread.start()
    try:
        assert ingested.wait(30) and not failures, failures
        assert desk.flame.importing
        yield
    finally:
        release.set()
        thread.join(60)
    assert not failures, failures
    assert not desk.flame.importing and desk.flame.pending == set()


def _announced_as(desk: Desk, ids: list[int]) -> list[tuple[int, int | None, str]]:
    alerts = {a.id: a for a in alerts_in_store(desk)}
    return [(alerts[i].page_id, alerts[i].post_id, alerts[i].level) for i in ids]


def test_a_flame_on_another_page_is_announced_while_an_import_is_open(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fetch of one page, newest first, is still open when a burst of live comments hits
    another page: the burst is announced at once, with the alerts it would raise were no import
    open; the fetched page's alerts are those of its history in event order, announced once
    when the fetch ends."""
    forno = history(days=1.5, seed=3)
    forno += burst(forno[-1].created_at + timedelta(minutes=10))
    bar_past = _at_the_bar(history(days=1.5, seed=5))
    bar_burst = _at_the_bar(
        burst(max(forno[-1].created_at, bar_past[-1].created_at) + timedelta(minutes=30), tag="x")
    )
    expected_forno = [a for a in _imported_alerts(tmp_path, "forno", forno) if a[0] == "Forno"]
    alone = _desk_on_its_own(tmp_path, "bar-alone")
    try:
        feed(alone, bar_past)
        feed(alone, bar_burst, batch=5)
        expected_bar = _alerts_as_read(alone)
    finally:
        alone.close()
    assert any(a[2] in ("flame", "crisis") for a in expected_bar)

    desk = _desk_on_its_own(tmp_path, "live")
    try:
        announced = _recording_announcements(desk, monkeypatch, forno + bar_burst)
        feed(desk, bar_past)
        with _importing_in_another_thread(desk, forno[::-1]):
            feed(desk, bar_burst, batch=5)  # the webhook worker, on this thread
            during = list(announced)
            pages = {page.name: page.id for page in desk.pages()}
            assert during and {page for page, _, _ in _announced_as(desk, during)} == {pages["Bar"]}
        assert _alerts_as_read(desk) == sorted(expected_forno + expected_bar)
        at_the_end = announced[len(during) :]
        assert at_the_end and {p for p, _, _ in _announced_as(desk, at_the_end)} == {pages["Forno"]}
        assert sorted(announced) == _recent_alert_ids(desk)  # each once
    finally:
        desk.close()


def test_a_flame_on_the_page_being_fetched_is_announced_at_once_and_once(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fetch of a page's history, newest first, is still open when a burst of live comments
    hits the same page: the team is told at once, and the end of the fetch, which replays the
    page in event order, tells nobody again of a level they heard of."""
    past = history(days=1.5, seed=3)
    live = burst(past[-1].created_at + timedelta(minutes=10))
    desk = _desk_on_its_own(tmp_path, "same-page")
    try:
        announced = _recording_announcements(desk, monkeypatch, past + live)
        with _importing_in_another_thread(desk, past[::-1]):
            feed(desk, live, batch=5)
            during = list(announced)
            assert during
        # what the team was told stands through the replay (it is in the store), once each
        told = _announced_as(desk, announced)
        assert any(level in ("flame", "crisis") for _, _, level in told[: len(during)])
        assert len(set(told)) == len(told)
    finally:
        desk.close()


def test_a_page_state_shares_nothing_with_the_page() -> None:
    """A replay keeps one page's state while the page learns on: neither may change the other."""
    detector = FlameDetector(FlameConfig())
    rng = random.Random(11)
    for i in range(400):  # a burst of angry comments from a few authors, on two posts
        at = T0 + timedelta(minutes=i // 4)
        detector.learn_one(
            Event(
                page_id=1,
                post_id=i % 2,
                at=at,
                negative=rng.random() < 0.8,
                offensive=rng.random() < 0.3,
                first_time=i < 40,
                author=f"a{i % 9}",
                comment_id=i,
                text="vergogna",
            )
        )
    detector.flush()
    state = detector.page_state(1)
    assert state["level"]["alerted"] and state["window"] and state["samples"]
    kept = repr(state)

    # the page learns on: the state taken before is as it was
    for i in range(400, 500):
        at = T0 + timedelta(minutes=i // 4)
        detector.learn_one(Event(1, i % 2, at, True, True, False, f"a{i % 9}", i, "schifo"))
    detector.flush()
    assert repr(state) == kept

    # the state is changed: the page is as it was
    now = repr(detector.page_state(1))
    state["level"]["alerted"].append("changed")
    state["window"][-1][6]["someone"] = 99
    state["samples"][0][3] = "changed"
    state["rate"][0] = -1.0
    assert repr(detector.page_state(1)) == now

    # and a page loaded from a state leaves the state alone as it learns
    loaded = detector.page_state(1)
    kept = repr(loaded)
    other = FlameDetector(FlameConfig())
    other.load_page(1, loaded)
    for i in range(500, 600):
        at = T0 + timedelta(minutes=i // 4)
        other.learn_one(Event(1, i % 2, at, True, True, False, f"a{i % 9}", i, "schifo"))
    other.flush()
    assert repr(loaded) == kept
