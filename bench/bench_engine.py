"""Benchmark of `compute_standings` against SPEC §9's standings target.

Builds a seeded campaign of 5,000 shortlisted entries, 100 reviewers (50 per
panel), 2 panels of 8 criteria and 5 reviews per entry per panel (400,000
score rows), then times the engine (median of 5 runs after one warm-up) and,
as a floor for comparison, a bare pandas groupby mean of the same rows by
(panel, code). Run: `python bench/bench_engine.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.engine import Component, Method, compute_standings

N_ENTRIES = 5_000
REVIEWERS_PER_PANEL = 50
CRITERIA_PER_PANEL = 8
REVIEWS_PER_ENTRY = 5
PANELS = ("expert", "media")
CATEGORIES = ("数字政府", "数字经济", "数字社会")
DOMAINS = ("政务服务", "智慧城市", "工业互联网", "大数据", "网络安全", "人工智能")
RUNS = 5


def make_campaign(seed: int = 2020) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Method]:
    """The target-size campaign, deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"QD{i:05d}" for i in range(N_ENTRIES)])
    entries = pd.DataFrame(
        {
            "code": codes,
            "title": [f"案例 {i}" for i in range(N_ENTRIES)],
            "category": rng.choice(CATEGORIES, N_ENTRIES),
            "domain": rng.choice(DOMAINS, N_ENTRIES),
            "votes": rng.integers(0, 50_000, N_ENTRIES),
        }
    )
    criteria = pd.DataFrame(
        {
            "panel": np.repeat(PANELS, CRITERIA_PER_PANEL),
            "criterion": [f"c{j}" for _ in PANELS for j in range(CRITERIA_PER_PANEL)],
            "max_points": np.tile([10.0, 10.0, 15.0, 15.0, 10.0, 10.0, 20.0, 10.0], len(PANELS)),
        }
    )
    frames = []
    for p, panel in enumerate(PANELS):
        # 5 distinct reviewers per entry, drawn from this panel's 50.
        picks = np.argsort(rng.random((N_ENTRIES, REVIEWERS_PER_PANEL)), axis=1)
        picks = picks[:, :REVIEWS_PER_ENTRY] + p * REVIEWERS_PER_PANEL
        sheets = N_ENTRIES * REVIEWS_PER_ENTRY
        sheet_entry = np.repeat(np.arange(N_ENTRIES), REVIEWS_PER_ENTRY)
        sheet_reviewer = picks.ravel()
        sheet_status = np.where(rng.random(sheets) < 0.05, "draft", "submitted")
        maxima = criteria.loc[criteria["panel"] == panel, "max_points"].to_numpy()
        rows = sheets * CRITERIA_PER_PANEL
        frames.append(
            pd.DataFrame(
                {
                    "panel": panel,
                    "reviewer": np.char.add(
                        "r", np.repeat(sheet_reviewer, CRITERIA_PER_PANEL).astype(str)
                    ),
                    "code": codes[np.repeat(sheet_entry, CRITERIA_PER_PANEL)],
                    "criterion": np.tile([f"c{j}" for j in range(CRITERIA_PER_PANEL)], sheets),
                    "score": np.floor(rng.random(rows) * (np.tile(maxima, sheets) + 1)),
                    "status": np.repeat(sheet_status, CRITERIA_PER_PANEL),
                }
            )
        )
    scores = pd.concat(frames, ignore_index=True)
    method = Method(
        components=(
            Component("votes", "votes", 55),
            Component("media", "panel", 15, aggregate="mean", normalise="zscore"),
            Component("expert", "panel", 30, aggregate="trimmed", trim=1, min_reviews=5),
        )
    )
    return entries, scores, criteria, method


def median_seconds(fn, runs: int = RUNS) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    entries, scores, criteria, method = make_campaign()
    engine = median_seconds(lambda: compute_standings(entries, scores, criteria, method))
    baseline = median_seconds(lambda: scores.groupby(["panel", "code"])["score"].mean())
    print(f"entries              {len(entries):>10,}")
    print(f"score rows           {len(scores):>10,}")
    print(f"engine median   s    {engine:>10.4f}")
    print(f"baseline median s    {baseline:>10.4f}  (pandas groupby mean by panel, code)")
    print(f"ratio engine/base    {engine / baseline:>10.2f}")
    print(f"target 0.5 s         {'met' if engine < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
