"""Builders for small hand-written engine inputs, shared by the engine tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

SCORE_COLUMNS = ["panel", "reviewer", "code", "criterion", "score", "status"]


def entries_frame(rows: Iterable[tuple]) -> pd.DataFrame:
    """Rows of (code, category, domain, votes); the title is derived from the code."""
    rows = list(rows)
    return pd.DataFrame(
        {
            "code": [r[0] for r in rows],
            "title": [f"title {r[0]}" for r in rows],
            "category": [r[1] for r in rows],
            "domain": [r[2] for r in rows],
            "votes": [r[3] for r in rows],
        }
    )


def sheet(
    panel: str, reviewer: str, code: str, marks: Mapping[str, float], status: str = "submitted"
) -> list[dict]:
    """One reviewer's sheet for one entry as score rows."""
    return [
        {
            "panel": panel,
            "reviewer": reviewer,
            "code": code,
            "criterion": c,
            "score": s,
            "status": status,
        }
        for c, s in marks.items()
    ]


def scores_frame(*sheets: list[dict]) -> pd.DataFrame:
    rows = [row for s in sheets for row in s]
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    return frame.astype({"score": "float64"})


def criteria_frame(rubrics: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """{panel: {criterion: max_points}} as a criteria frame."""
    rows = [
        {"panel": p, "criterion": c, "max_points": float(m)}
        for p, rubric in rubrics.items()
        for c, m in rubric.items()
    ]
    return pd.DataFrame(rows, columns=["panel", "criterion", "max_points"])
