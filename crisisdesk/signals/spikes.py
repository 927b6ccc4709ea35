"""A streaming volume anomaly detector for count series (comments or tweets per bucket).

Design, and why:

- Counts are judged on their own scale by default (``transform="raw"``): on the Numenta
  benchmark's tweet volumes the anomalies that matter are large absolute bursts, and a relative
  scale (``"log"``) or a variance-stabilised one (``"sqrt"``) raised more false alarms in quiet
  night-time buckets. Small pages, where one comment doubles the count, can choose ``"log"``.
- The expected value of a bucket is a slow level (EWMA) plus a seasonal offset per hour-of-day
  slot (and, optionally, per day-of-week x hour slot): pages have a rhythm, and a busy Monday
  morning is not a flame.
- The residual is scaled by an EWMA of its absolute size (a streaming MAD). Learning is robust:
  residuals are clipped before they update the baseline, so a spike does not teach the detector
  that spikes are normal, and a lasting change of level is still absorbed, only more slowly.
- Two views of the residual: the current bucket alone (a sudden jump) and a fast EWMA of the
  residual (a build-up over several buckets). The score takes the larger.
- A refractory memory damps repeated alerts for the same episode: an alarm that keeps ringing
  tells the team nothing new, and the Numenta benchmark counts only the first detection in a
  window while every later one outside it is a false positive.
- Strictly streaming: :meth:`score_one` reads the state and changes nothing; :meth:`learn_one`
  updates it. The score of a row depends on that row and earlier ones only.

The component follows River's contract (``learn_one``/``score_one``, constructor parameters kept
as attributes of the same name) so it can be cloned, pickled and printed; :meth:`to_state` and
:meth:`from_state` give a JSON-friendly form for the store.

>>> from datetime import datetime, timedelta
>>> det = SpikeDetector(warmup=24)
>>> t0 = datetime(2024, 1, 1)
>>> for i in range(200):
...     x = {"timestamp": t0 + timedelta(minutes=5 * i), "value": 10 + i % 3}
...     _ = det.score_one(x); det.learn_one(x)
>>> det.score_one({"timestamp": t0 + timedelta(minutes=1000), "value": 11}) < 0.2
True
>>> det.score_one({"timestamp": t0 + timedelta(minutes=1000), "value": 200}) > 0.8
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

STATE_VERSION = "spikes-1"
#: The scales on which counts can be compared (the ``transform`` parameter).
TRANSFORMS = ("raw", "sqrt", "log")


class SpikeDetector:
    """Scores how unusually high a count is against the series' own rhythm, in [0, 1]."""

    def __init__(
        self,
        *,
        alpha_level: float = 0.001,
        alpha_season: float = 0.05,
        alpha_scale: float = 0.0003,
        alpha_fast: float = 0.3,
        weekly: bool = False,
        warmup: int = 288,
        clip: float = 3.0,
        z_half: float = 10.0,
        refractory: int = 576,
        damping: float = 0.5,
        min_scale: float = 0.05,
        transform: str = "raw",
        margin: float = 0.05,
        arm: float = 0.6,
    ) -> None:
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}")
        self.alpha_level = alpha_level
        self.alpha_season = alpha_season
        self.alpha_scale = alpha_scale
        self.alpha_fast = alpha_fast
        self.weekly = weekly
        self.warmup = warmup
        self.clip = clip
        self.z_half = z_half
        self.refractory = refractory
        self.damping = damping
        self.min_scale = min_scale
        self.transform = transform
        self.margin = margin
        self.arm = arm
        self._reset()

    def _reset(self) -> None:
        slots = 168 if self.weekly else 24
        self.n = 0
        self.level: float | None = None
        self.season = [0.0] * slots
        self.season_seen = [0] * slots
        self.scale = 0.0
        self.fast = 0.0
        # Peak raw score of the current run of alarms, and how many rows ago it was reached.
        self.peak = 0.0
        self.since_peak = 10**9

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"SpikeDetector({params})"

    def _params(self) -> dict[str, Any]:
        return {
            "alpha_level": self.alpha_level,
            "alpha_season": self.alpha_season,
            "alpha_scale": self.alpha_scale,
            "alpha_fast": self.alpha_fast,
            "weekly": self.weekly,
            "warmup": self.warmup,
            "clip": self.clip,
            "z_half": self.z_half,
            "refractory": self.refractory,
            "damping": self.damping,
            "min_scale": self.min_scale,
            "transform": self.transform,
            "margin": self.margin,
            "arm": self.arm,
        }

    def clone(self) -> SpikeDetector:
        """A fresh detector with the same parameters and no history."""
        return SpikeDetector(**self._params())

    # -- the model --------------------------------------------------------------------------

    def _slot(self, at: datetime) -> int:
        return at.weekday() * 24 + at.hour if self.weekly else at.hour

    def _y(self, x: Mapping[str, Any]) -> float:
        value = max(0.0, float(x["value"]))
        if self.transform == "log":
            return math.log1p(value)
        return math.sqrt(value) if self.transform == "sqrt" else value

    def _residual(self, x: Mapping[str, Any]) -> tuple[int, float, float]:
        """Slot, residual of the transformed value against the expectation, and the scale."""
        slot = self._slot(x["timestamp"])
        y = self._y(x)
        level = y if self.level is None else self.level
        expected = level + self.season[slot]
        scale = max(self.scale, self.min_scale)
        return slot, y - expected, scale

    def expected(self, at: datetime) -> float:
        """The usual value at ``at`` on the original scale (what "normal" looks like), for
        explanations such as "42 comments where about 6 are usual"."""
        if self.level is None:
            return 0.0
        y = max(0.0, self.level + self.season[self._slot(at)])
        if self.transform == "log":
            return math.expm1(y)
        return y * y if self.transform == "sqrt" else y

    def raw_score(self, x: Mapping[str, Any]) -> float:
        """The score before refractory damping (how unusual this row is on its own)."""
        if self.n < self.warmup or self.level is None:
            return 0.0
        _slot, d, scale = self._residual(x)
        z_now = d / (1.25 * scale)
        fast = self.fast + self.alpha_fast * (d - self.fast)
        # The EWMA of residuals has a smaller spread than one residual: rescale to a z.
        z_fast = fast / (1.25 * scale * math.sqrt(self.alpha_fast / (2.0 - self.alpha_fast)))
        z = max(z_now, z_fast)
        if z <= 0.0:
            return 0.0
        return z * z / (z * z + self.z_half * self.z_half)

    def score_one(self, x: Mapping[str, Any]) -> float:
        """Anomaly score of ``x = {"timestamp": datetime, "value": number}`` in [0, 1]."""
        raw = self.raw_score(x)
        if self.since_peak < self.refractory and raw <= self.peak + self.margin:
            # Still inside an alarm already raised: only something worse than its peak counts.
            return raw * self.damping
        return raw

    def learn_one(self, x: Mapping[str, Any]) -> None:
        """Update the baseline with ``x``; returns nothing (River's contract)."""
        raw = self.raw_score(x)
        if raw >= self.arm and (
            raw > self.peak + self.margin or self.since_peak >= self.refractory
        ):
            self.peak = raw
            self.since_peak = 0
        else:
            self.since_peak += 1
            if self.since_peak >= self.refractory:
                self.peak = 0.0
        slot, d, scale = self._residual(x)
        y = self._y(x)
        if self.level is None:
            self.level = y
            self.n = 1
            return
        # Bounded influence: an outlier moves the baseline as much as a 3-sigma row, no more.
        bound = self.clip * 1.25 * scale if self.n >= self.warmup // 4 else float("inf")
        dc = max(-bound, min(bound, d))
        self.fast += self.alpha_fast * (d - self.fast)
        self.fast = max(-bound, min(bound, self.fast)) if bound != float("inf") else self.fast
        self.level += self.alpha_level * dc if self.n >= 24 else dc / (self.n + 1)
        seen = self.season_seen[slot]
        a_s = max(self.alpha_season, 1.0 / (seen + 1))
        self.season[slot] += a_s * (dc - self.alpha_level * dc)
        self.season_seen[slot] = seen + 1
        a_m = max(self.alpha_scale, 1.0 / (self.n + 1))
        self.scale += a_m * (abs(dc) - self.scale)
        self.n += 1

    # -- persistence ------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Parameters and learnt state as plain JSON-friendly values."""
        return {
            "version": STATE_VERSION,
            "params": self._params(),
            "n": self.n,
            "level": self.level,
            "season": list(self.season),
            "season_seen": list(self.season_seen),
            "scale": self.scale,
            "fast": self.fast,
            "peak": self.peak,
            "since_peak": self.since_peak,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> SpikeDetector:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown spike detector state version {state.get('version')!r}")
        det = cls(**state["params"])
        det.n = int(state["n"])
        det.level = None if state["level"] is None else float(state["level"])
        det.season = [float(v) for v in state["season"]]
        det.season_seen = [int(v) for v in state["season_seen"]]
        det.scale = float(state["scale"])
        det.fast = float(state["fast"])
        det.peak = float(state["peak"])
        det.since_peak = int(state["since_peak"])
        return det
