"""NAB realTweets: the volume detector against the published detectors and simple baselines.

The Numenta Anomaly Benchmark scoring (Lavin & Ahmad 2015) is implemented here from the paper and
the benchmark's documented rules, so every detector, ours and the published ones, is scored by the
same code:

- Each labelled window is worth one true positive: only the first detection inside it counts, and
  it is weighted by a scaled sigmoid of its position (an alert at the start of the window earns
  ``A_TP``, one at its very end almost nothing). A missed window costs ``A_FN``.
- A detection outside every window costs ``A_FP`` times the sigmoid of its distance after the
  preceding window (just after a window it costs little, far away it costs the full ``A_FP``;
  before the first window it costs the full ``A_FP``).
- The first 15% of each series (at most 750 rows) is probationary and not scored.
- One threshold per detector and profile is chosen to maximise the summed raw score over the
  whole corpus (here the five realTweets series), then the score is normalised:
  ``100 * (raw - null) / (perfect - null)``, where the null detector never alerts and the perfect
  one alerts at the start of every window.

Profiles (A_TP, A_FP, A_TN, A_FN): standard (1, 0.11, 1, 1), reward_low_FP_rate (1, 0.22, 1, 1),
reward_low_FN_rate (1, 0.11, 1, 2).
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PROFILES: dict[str, dict[str, float]] = {
    "standard": {"tp": 1.0, "fp": 0.11, "tn": 1.0, "fn": 1.0},
    "reward_low_FP_rate": {"tp": 1.0, "fp": 0.22, "tn": 1.0, "fn": 1.0},
    "reward_low_FN_rate": {"tp": 1.0, "fp": 0.11, "tn": 1.0, "fn": 2.0},
}
PUBLISHED = (
    "numenta",
    "ARTime",
    "contextOSE",
    "relativeEntropy",
    "skyline",
    "twitterADVec",
    "windowedGaussian",
)


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: about +1 at the window start (-1), 0 at its end, towards -1 after."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


@dataclass
class Series:
    name: str
    timestamps: list[datetime]
    values: list[float]
    windows: list[tuple[int, int]]  # inclusive row indices


@dataclass
class Point:
    """One scorable row: its anomaly score, the window it lies in (or None), and its
    unweighted sigmoid value (positive inside windows, negative outside)."""

    score: float
    window: str | None
    sigmoid: float


def load_series(folder: Path) -> list[Series]:
    windows = json.loads((folder / "windows.json").read_text())
    out = []
    for path in sorted(folder.glob("Twitter_volume_*.csv")):
        ts, vs = read_nab_csv(path)
        index = {t: i for i, t in enumerate(ts)}
        limits = []
        for start, end in windows.get(path.name, []):
            a = index[datetime.fromisoformat(start.split(".")[0])]
            b = index[datetime.fromisoformat(end.split(".")[0])]
            limits.append((a, b))
        out.append(Series(path.name, ts, vs, limits))
    return out


def read_nab_csv(path: Path, column: str = "value") -> tuple[list[datetime], list[float]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        ts, vs = [], []
        for row in reader:
            ts.append(datetime.fromisoformat(row["timestamp"]))
            vs.append(float(row[column]))
    return ts, vs


def probation(n: int) -> int:
    return int(min(math.floor(0.15 * n), 0.15 * 5000))


def points(series: Series, scores: Sequence[float]) -> list[Point]:
    """Label every scorable row with its window and sigmoid value."""
    n = len(series.values)
    out: list[Point] = []
    in_window: dict[int, tuple[int, int, int]] = {}
    for k, (a, b) in enumerate(series.windows):
        for i in range(a, b + 1):
            in_window[i] = (k, a, b)
    prev_end: int | None = None
    prev_width = 0
    for i in range(n):
        hit = in_window.get(i)
        if hit is not None:
            k, a, b = hit
            width = b - a + 1
            sig = scaled_sigmoid(-(b - i + 1) / width)
            window: str | None = f"{series.name}#{k}"
            if i == b:
                prev_end, prev_width = b, width
        else:
            window = None
            if prev_end is None:
                sig = -1.0
            else:
                sig = scaled_sigmoid(abs(prev_end - i) / max(1, prev_width - 1))
        if i >= probation(n):
            out.append(Point(scores[i], window, sig))
    return out


def sweep(all_points: Sequence[Point], profile: dict[str, float]) -> tuple[float, float]:
    """Best (threshold, raw score) over every threshold, summed over the corpus.

    Rows are visited in decreasing anomaly score: lowering the threshold past a row makes it a
    detection. A window's credit is the best (earliest) detection in it.
    """
    max_tp = scaled_sigmoid(-1.0)
    windows = {p.window for p in all_points if p.window is not None}
    best_tp: dict[str, float] = {}
    fp_total = 0.0
    ordered = sorted(all_points, key=lambda p: -p.score)
    best = (1.1, -profile["fn"] * len(windows))  # threshold above every score: nothing detected
    i = 0
    while i < len(ordered):
        threshold = ordered[i].score
        while i < len(ordered) and ordered[i].score == threshold:
            p = ordered[i]
            if p.window is None:
                fp_total += p.sigmoid * profile["fp"]
            else:
                value = p.sigmoid * profile["tp"] / max_tp
                if value > best_tp.get(p.window, -math.inf):
                    best_tp[p.window] = value
            i += 1
        raw = sum(best_tp.values()) + fp_total - profile["fn"] * (len(windows) - len(best_tp))
        if raw > best[1]:
            best = (threshold, raw)
    return best


def raw_at(all_points: Sequence[Point], profile: dict[str, float], threshold: float) -> float:
    max_tp = scaled_sigmoid(-1.0)
    windows = {p.window for p in all_points if p.window is not None}
    best_tp: dict[str, float] = {}
    fp_total = 0.0
    for p in all_points:
        if p.score < threshold:
            continue
        if p.window is None:
            fp_total += p.sigmoid * profile["fp"]
        else:
            value = p.sigmoid * profile["tp"] / max_tp
            best_tp[p.window] = max(best_tp.get(p.window, -math.inf), value)
    return sum(best_tp.values()) + fp_total - profile["fn"] * (len(windows) - len(best_tp))


def normalised(raw: float, n_windows: int, profile: dict[str, float]) -> float:
    null = -profile["fn"] * n_windows
    perfect = profile["tp"] * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def nab_score(
    corpus: Sequence[Series], scores: Sequence[Sequence[float]], profile: dict[str, float]
) -> tuple[float, float]:
    """(normalised score, optimised threshold) of a detector over ``corpus``."""
    pts = [p for s, sc in zip(corpus, scores, strict=True) for p in points(s, sc)]
    n_windows = len({p.window for p in pts if p.window is not None})
    threshold, raw = sweep(pts, profile)
    return normalised(raw, n_windows, profile), threshold


def delays(series: Series, scores: Sequence[float], threshold: float) -> list[float | None]:
    """Minutes from each window's start to the first row at or above ``threshold`` inside it."""
    out: list[float | None] = []
    for a, b in series.windows:
        found = None
        for i in range(a, b + 1):
            if scores[i] >= threshold:
                found = (series.timestamps[i] - series.timestamps[a]).total_seconds() / 60.0
                break
        out.append(found)
    return out


# -- detectors ---------------------------------------------------------------------------------


def run_spikes(series: Series, **params: float) -> list[float]:
    from crisisdesk.signals.spikes import SpikeDetector

    det = SpikeDetector(**params)  # type: ignore[arg-type]
    out = []
    for t, v in zip(series.timestamps, series.values, strict=True):
        x = {"timestamp": t, "value": v}
        out.append(det.score_one(x))
        det.learn_one(x)
    return out


def run_twitinfo(series: Series, alpha: float = 0.125, tau: float = 2.0) -> list[float]:
    """TwitInfo (Marcus et al. 2011): EWMA mean and mean deviation of the volume; a bin is a peak
    when it exceeds the mean by ``tau`` deviations. Score: how many deviations above, squashed."""
    mean: float | None = None
    dev = 0.0
    out = []
    for v in series.values:
        if mean is None:
            mean, score = v, 0.0
        else:
            z = (v - mean) / dev if dev > 0 else 0.0
            score = max(0.0, z) / (max(0.0, z) + tau)
            dev = (1 - alpha) * dev + alpha * abs(v - mean)
            mean = (1 - alpha) * mean + alpha * v
        out.append(score)
    return out


def run_windowed_gaussian(series: Series, window: int = 6400) -> list[float]:
    """A Gaussian fitted to the last ``window`` values; score = the upper-tail Q-function
    complement, as NAB's windowed Gaussian baseline (here one-sided: only rises matter)."""
    buf: deque[float] = deque(maxlen=window)
    total = 0.0
    total_sq = 0.0
    out = []
    for v in series.values:
        if len(buf) >= 2:
            mean = total / len(buf)
            var = max(total_sq / len(buf) - mean * mean, 1e-9)
            z = (v - mean) / math.sqrt(var)
            out.append(0.5 * (1 + math.erf(z / math.sqrt(2))) if z > 0 else 0.0)
        else:
            out.append(0.0)
        if len(buf) == buf.maxlen:
            old = buf[0]
            total -= old
            total_sq -= old * old
        buf.append(v)
        total += v
        total_sq += v * v
    return out


# -- tuning ------------------------------------------------------------------------------------

GRID: list[dict[str, float]] = [
    {"refractory": rf, "alpha_scale": a_m, "margin": mg, "arm": arm}
    for rf in (288, 576)
    for a_m in (0.0003, 0.001)
    for mg in (0.02, 0.05)
    for arm in (0.5, 0.6)
]


def leave_one_out(
    corpus: Sequence[Series],
) -> tuple[list[list[float]], list[dict[str, float]], float]:
    """Scores of each series with parameters tuned (standard profile) on the other four, and
    the standard score when the alert threshold, too, is chosen on the other four."""
    cache: dict[int, list[list[float]]] = {
        k: [run_spikes(s, **params) for s in corpus] for k, params in enumerate(GRID)
    }
    held_out_scores = []
    chosen = []
    profile = PROFILES["standard"]
    strict_raw = 0.0
    for i in range(len(corpus)):
        train = [s for j, s in enumerate(corpus) if j != i]
        best_k = max(
            cache,
            key=lambda k: nab_score(
                train, [sc for j, sc in enumerate(cache[k]) if j != i], PROFILES["standard"]
            )[0],
        )
        chosen.append(GRID[best_k])
        held_out_scores.append(cache[best_k][i])
        _value, threshold = nab_score(
            train, [sc for j, sc in enumerate(cache[best_k]) if j != i], profile
        )
        strict_raw += raw_at(points(corpus[i], cache[best_k][i]), profile, threshold)
    n_windows = sum(len(s.windows) for s in corpus)
    return held_out_scores, chosen, normalised(strict_raw, n_windows, profile)


def run(data: Path, quick: bool) -> str:
    corpus = load_series(data / "nab_realtweets")
    results: dict[str, list[list[float]]] = {}
    published_dir = data / "nab_realtweets" / "published_results"
    for name in PUBLISHED:
        folder = published_dir / name
        if folder.is_dir():
            results[name] = [
                read_nab_csv(folder / f"{name}_{s.name}", "anomaly_score")[1] for s in corpus
            ]
    started = time.perf_counter()
    default_scores = [run_spikes(s) for s in corpus]
    elapsed = time.perf_counter() - started
    rows = sum(len(s.values) for s in corpus)
    results["crisisdesk spikes (defaults)"] = default_scores
    held_out, chosen, strict = leave_one_out(corpus)
    results["crisisdesk spikes (leave-one-series-out)"] = held_out
    results["TwitInfo moving mean/deviation"] = [run_twitinfo(s) for s in corpus]
    results["windowed Gaussian (ours)"] = [run_windowed_gaussian(s) for s in corpus]

    standard: dict[str, float] = {}
    lines = [
        "## NAB realTweets: volume anomaly detection",
        "",
        "Five Twitter mention-volume series (5-minute buckets, ~15.8k rows each, 16 labelled",
        "windows) from the Numenta Anomaly Benchmark. Every detector is scored by the same NAB",
        "scorer (`benchmarks/nab.py`, written from Lavin & Ahmad 2015): windows from `windows.json`,",
        "scaled sigmoid, first 15% (max 750 rows) probationary, one threshold per detector and",
        "profile optimised over the five series, score = 100 (raw - null) / (perfect - null).",
        "The seven published detectors are scored from their published score files.",
        "",
        "| detector | standard | low FP | low FN | median delay from window start (min) "
        "| median delay from labelled anomaly (min) | windows hit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, scores in results.items():
        cells = []
        threshold_std = 1.1
        for pname, profile in PROFILES.items():
            value, threshold = nab_score(corpus, scores, profile)
            if pname == "standard":
                threshold_std = threshold
                standard[name] = value
            cells.append(f"{value:.1f}")
        ds = [d for s, sc in zip(corpus, scores, strict=True) for d in delays(s, sc, threshold_std)]
        centre = [
            d - (s.timestamps[b] - s.timestamps[a]).total_seconds() / 120.0
            for s, sc in zip(corpus, scores, strict=True)
            for d, (a, b) in zip(delays(s, sc, threshold_std), s.windows, strict=True)
            if d is not None
        ]
        hit = [d for d in ds if d is not None]
        median = f"{statistics.median(hit):.0f}" if hit else "-"
        median_c = f"{statistics.median(centre):+.0f}" if centre else "-"
        lines.append(
            f"| {name} | {' | '.join(cells)} | {median} | {median_c} | {len(hit)}/{len(ds)} |"
        )
    lines += [
        "",
        "How `crisisdesk spikes` was tuned. *Defaults* are the constructor defaults of",
        "`SpikeDetector`; they were picked by trying settings on all five series, so that row is",
        "an in-sample figure, not a held-out one. *Leave-one-series-out*: for each",
        f"series, the {len(GRID)}-point grid below was scored (standard profile) on the other four",
        "series, the best point was chosen, and only the held-out series was scored with it; the",
        "five held-out score lists are then scored together as above, so no series is scored with",
        "parameters chosen on it. (The NAB threshold itself is still optimised over the corpus, as",
        "NAB does for every detector.)",
        "",
        "Grid: " + ", ".join(f"{k} in {sorted({g[k] for g in GRID})}" for k in GRID[0]) + ".",
        "",
        "Chosen per held-out series: "
        + "; ".join(
            f"{s.name.removeprefix('Twitter_volume_').removesuffix('.csv')}: "
            + ", ".join(f"{k}={v}" for k, v in c.items())
            for s, c in zip(corpus, chosen, strict=True)
        )
        + ".",
        "",
        "Stricter still, with the alert threshold also chosen on the other four series and the",
        f"held-out series scored at it, `crisisdesk spikes` reaches **{strict:.1f}** (standard).",
        "",
        "Caveat on honesty: the detector's design and its defaults (raw scale, slow MAD, the",
        "refractory margin) were chosen while looking at scores on all five series, so only the",
        "choice among grid points is held out, not the design. The published detectors were",
        "designed on the whole NAB corpus, which includes these series, so they share the same",
        "advantage. The issue quotes 72 (HTM) and 82 (best) for realTweets: with this scorer and",
        "the threshold optimised on realTweets alone, HTM (numenta) scores "
        f"{standard.get('numenta', float('nan')):.1f} and ARTime "
        f"{standard.get('ARTime', float('nan')):.1f}.",
        "NAB's own scoreboard optimises one threshold over all 58 series, so per-category figures",
        "from it differ; the data here does not include those per-category figures to check.",
        "",
        "Delay: minutes from the start of each labelled window to the first row at or above the",
        "detector's optimised standard-profile threshold; windows without one are not hit. NAB",
        "windows are wide (about 1.5 days) and centred on the labelled anomaly, so the second",
        "delay column measures from the window centre: negative means before the labelled point.",
        "",
        f"Speed: the default detector scored {rows} rows in {elapsed:.2f} s "
        f"({1e6 * elapsed / rows:.1f} µs per row, score + learn, one core).",
    ]
    return "\n".join(lines)
