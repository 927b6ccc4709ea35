"""The volume detector: streaming contract, behaviour on bursts, and the `spikes` command."""

from __future__ import annotations

import copy
import json
import pickle
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crisisdesk.cli import app
from crisisdesk.signals.spikes import SpikeDetector

T0 = datetime(2024, 3, 4, 0, 0)


def series(n: int = 900, burst_at: int | None = 700, seed: int = 7) -> list[dict[str, object]]:
    """Five-minute counts with a daily rhythm and noise, and a burst at ``burst_at``."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for i in range(n):
        at = T0 + timedelta(minutes=5 * i)
        usual = 20 + 15 * (8 <= at.hour < 20)
        value = max(0, int(rng.gauss(usual, 4)))
        if burst_at is not None and burst_at <= i < burst_at + 6:
            value += 150
        rows.append({"timestamp": at, "value": value})
    return rows


def run(det: SpikeDetector, rows: list[dict[str, object]]) -> list[float]:
    out = []
    for x in rows:
        out.append(det.score_one(x))
        det.learn_one(x)
    return out


def test_scores_in_unit_interval_and_burst_stands_out() -> None:
    rows = series()
    scores = run(SpikeDetector(), rows)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[:288] == [0.0] * 288  # warm-up: a day of five-minute buckets
    quiet = max(scores[300:700])
    assert scores[700] > 0.5 > quiet


def test_prefix_scores_do_not_change_when_rows_are_appended() -> None:
    rows = series(n=900)
    full = run(SpikeDetector(), rows)
    for cut in (289, 500, 701, 703):
        assert run(SpikeDetector(), rows[:cut]) == full[:cut]


def test_score_one_reads_only() -> None:
    det = SpikeDetector(warmup=10)
    run(det, series(n=400, burst_at=None))
    before = det.to_state()
    det.score_one({"timestamp": T0, "value": 10_000})
    assert det.to_state() == before


def test_refractory_damps_the_same_episode() -> None:
    rows = series(n=900, burst_at=700)
    damped = run(SpikeDetector(), rows)
    plain = run(SpikeDetector(refractory=0), rows)
    assert damped[700] == plain[700] > 0.8
    # Once the burst stops getting worse, the same episode no longer rings at full strength.
    assert max(damped[702:706]) < 0.5 < min(plain[702:706])


def test_state_round_trips_and_clone_is_fresh() -> None:
    rows = series(n=600)
    det = SpikeDetector(weekly=True, transform="log")
    run(det, rows[:400])
    restored = SpikeDetector.from_state(json.loads(json.dumps(det.to_state())))
    pickled = pickle.loads(pickle.dumps(det))
    twin = copy.deepcopy(det)
    rest = rows[400:]
    expected = run(det, rest)
    assert run(restored, rest) == expected
    assert run(pickled, rest) == expected
    assert run(twin, rest) == expected
    clone = det.clone()
    assert clone.n == 0 and repr(clone) == repr(det)
    assert "weekly=True" in repr(det)
    with pytest.raises(ValueError):
        SpikeDetector.from_state({"version": "other"})
    with pytest.raises(ValueError):
        SpikeDetector(transform="cube")


runner = CliRunner()


def test_cli_spikes_writes_nab_format(tmp_path: Path) -> None:
    rows = series(n=400, burst_at=350)
    f = tmp_path / "s.csv"
    f.write_text(
        "timestamp,value\n"
        + "".join(f"{r['timestamp']:%Y-%m-%d %H:%M:%S},{r['value']}\n" for r in rows)
    )
    result = runner.invoke(app, ["spikes", str(f)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "timestamp,value,anomaly_score"
    assert len(lines) == 401
    first = lines[1].split(",")
    assert first[0] == "2024-03-04 00:00:00" and first[1] == str(rows[0]["value"])
    scores = [float(line.split(",")[2]) for line in lines[1:]]
    assert all(0 <= s <= 1 for s in scores)
    assert scores == pytest.approx(run(SpikeDetector(), rows), abs=1e-6)
    assert scores[350] > 0.5


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "timestamp,value\n2024-01-01 00:00:00,3\n2024-01-01 00:05:00,abc\n",
            "s.csv:3: value 'abc'",
        ),
        ("timestamp,value\n2024-01-01 00:00:00,3\nyesterday,4\n", "s.csv:3: bad timestamp"),
        ("timestamp,value\n2024-01-01 00:05:00,3\n2024-01-01 00:00:00,4\n", "s.csv:3: timestamp"),
        ("timestamp,value\n2024-01-01 00:00:00\n", "s.csv:2: expected 2 columns"),
        ("time,count\n", "s.csv:1: header must name"),
        ("", "s.csv:1: empty file"),
        ("timestamp,value\n2024-01-01 00:00:00,nan\n", "s.csv:2: value 'nan' is not finite"),
    ],
)
def test_cli_spikes_reports_malformed_rows(tmp_path: Path, body: str, reason: str) -> None:
    f = tmp_path / "s.csv"
    f.write_text(body)
    result = runner.invoke(app, ["spikes", str(f)])
    assert result.exit_code == 2
    assert reason in result.stderr
    assert str(f) in result.stderr


def test_cli_spikes_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["spikes", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "No such file" in result.stderr or "no such file" in result.stderr.lower()


def test_cli_spikes_reads_stdin() -> None:
    body = "timestamp,value\n2024-01-01 00:00:00,3\n2024-01-01 00:05:00,4\n"
    result = runner.invoke(app, ["spikes", "-"], input=body)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "timestamp,value,anomaly_score",
        "2024-01-01 00:00:00,3,0.000000",
        "2024-01-01 00:05:00,4,0.000000",
    ]
