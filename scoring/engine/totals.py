"""Reviewer totals: one number per reviewer, entry and panel (SPEC §3 "Rubric").

A reviewer's sheet for an entry is every score row sharing `panel`, `reviewer`
and `code`. Its total is `T = 100 * sum(s_c) / sum(max_points)` and it counts
only when the sheet is complete (one non-missing score for every criterion of
the panel's rubric) and every row of it is `submitted`. A sheet with any draft
row is a draft sheet: drafts never count, and a half-submitted sheet is treated
as not submitted rather than guessed at.

This is the hot path of the standings (about 400,000 rows in the target
campaign), so it works on integer codes with `np.bincount` instead of a
string groupby.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .frames import require_columns

SCORE_COLUMNS = ("panel", "reviewer", "code", "criterion", "score", "status")
CRITERIA_COLUMNS = ("panel", "criterion", "max_points")
TOTAL_COLUMNS = ("panel", "reviewer", "code", "total")

SUBMITTED = "submitted"


def _keep_mask(uniques: pd.Index, wanted: Iterable | None) -> np.ndarray:
    """Boolean per unique value, plus a trailing False for the NA sentinel -1."""
    if wanted is None:
        keep = np.ones(len(uniques), dtype=bool)
    else:
        values = wanted if isinstance(wanted, pd.Series | pd.Index | np.ndarray) else list(wanted)
        keep = uniques.isin(values)
    return np.append(np.asarray(keep, dtype=bool), False)


def _check_criteria(criteria: pd.DataFrame) -> None:
    require_columns(criteria, CRITERIA_COLUMNS, "criteria")
    max_points = pd.to_numeric(criteria["max_points"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(max_points) | (max_points <= 0)
    if bad.any():
        rows = criteria.loc[bad, ["panel", "criterion"]].astype(str).agg(".".join, axis=1)
        raise ValueError(f"criteria need max_points > 0: {', '.join(rows.head(5))}")
    dup = criteria.duplicated(["panel", "criterion"])
    if dup.any():
        rows = criteria.loc[dup, ["panel", "criterion"]].astype(str).agg(".".join, axis=1)
        raise ValueError(f"criteria repeated in a rubric: {', '.join(rows.head(5))}")


def reviewer_totals(
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    codes: Iterable[str] | None = None,
    panels: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Counted reviewer totals, one row per complete submitted sheet.

    `codes` restricts to the shortlisted entries and `panels` to the panels
    the method uses; rows outside either are ignored (they are not part of
    this campaign's comparison). Inside that scope the input must be sound,
    and a ValueError names what is not: a criterion missing from the panel's
    rubric, a criterion scored twice on one sheet, or a submitted score
    outside `0..max_points`.

    Returns columns `panel, reviewer, code, total` (float64, 0..100).
    """
    require_columns(scores, SCORE_COLUMNS, "scores")
    _check_criteria(criteria)

    panel_ids, panel_uniques = pd.factorize(scores["panel"])
    code_ids, code_uniques = pd.factorize(scores["code"])
    panel_uniques = pd.Index(panel_uniques)
    code_uniques = pd.Index(code_uniques)
    in_scope = (
        _keep_mask(panel_uniques, panels)[panel_ids] & _keep_mask(code_uniques, codes)[code_ids]
    )
    rows = np.flatnonzero(in_scope)
    panel_ids = panel_ids[rows]
    code_ids = code_ids[rows]
    # Factorise whole columns (fast on Arrow strings), then subset the integer codes.
    reviewer_ids, reviewer_uniques = pd.factorize(scores["reviewer"])
    reviewer_ids = reviewer_ids[rows]
    crit_ids, crit_uniques = pd.factorize(scores["criterion"])
    crit_ids = crit_ids[rows]
    crit_uniques = pd.Index(crit_uniques)
    score = pd.to_numeric(scores["score"], errors="coerce").to_numpy(np.float64)[rows]
    submitted = (scores["status"] == SUBMITTED).to_numpy(dtype=bool, na_value=False)[rows]

    # Rubric lookup tables indexed by the integer codes above.
    n_panels, n_crits = len(panel_uniques), len(crit_uniques)
    crit_panel = panel_uniques.get_indexer(criteria["panel"])
    crit_key = crit_uniques.get_indexer(criteria["criterion"])
    crit_max = criteria["max_points"].to_numpy(float)
    max_table = np.full((n_panels, n_crits), np.nan)
    known = (crit_panel >= 0) & (crit_key >= 0)
    max_table[crit_panel[known], crit_key[known]] = crit_max[known]
    in_rubric = crit_panel >= 0
    rubric_size = np.bincount(crit_panel[in_rubric], minlength=n_panels)
    rubric_points = np.bincount(
        crit_panel[in_rubric], weights=crit_max[in_rubric], minlength=n_panels
    )

    if reviewer_ids.size and (reviewer_ids < 0).any():
        raise ValueError("scores rows without a reviewer")
    if crit_ids.size and (crit_ids < 0).any():
        raise ValueError("scores rows without a criterion")
    row_max = max_table[panel_ids, crit_ids] if rows.size else np.empty(0)
    unknown = np.isnan(row_max)
    if unknown.any():
        bad = sorted(
            {
                f"{panel_uniques[p]}.{crit_uniques[c]}"
                for p, c in zip(panel_ids[unknown][:20], crit_ids[unknown][:20], strict=True)
            }
        )
        raise ValueError(f"scores for criteria not in the panel's rubric: {', '.join(bad)}")

    n_reviewers, n_codes = len(reviewer_uniques), len(code_uniques)
    sheet_key = (panel_ids.astype(np.int64) * n_reviewers + reviewer_ids) * n_codes + code_ids
    if pd.Series(sheet_key * n_crits + crit_ids).duplicated().any():
        raise ValueError("a criterion is scored more than once on the same reviewer's sheet")

    ok = submitted & ~np.isnan(score)
    if ((score[ok] < 0) | (score[ok] > row_max[ok])).any():
        raise ValueError("a submitted score lies outside 0..max_points of its criterion")

    sheet_ids, sheet_keys = pd.factorize(sheet_key)
    n_sheets = len(sheet_keys)
    n_rows = np.bincount(sheet_ids, minlength=n_sheets)
    n_ok = np.bincount(sheet_ids, weights=ok, minlength=n_sheets)
    points = np.bincount(sheet_ids, weights=np.where(ok, score, 0.0), minlength=n_sheets)

    sheet_keys = np.asarray(sheet_keys, dtype=np.int64)
    sheet_code = sheet_keys % n_codes if n_codes else sheet_keys
    sheet_rest = sheet_keys // n_codes if n_codes else sheet_keys
    sheet_reviewer = sheet_rest % n_reviewers if n_reviewers else sheet_rest
    sheet_panel = sheet_rest // n_reviewers if n_reviewers else sheet_rest
    counted = (n_ok == n_rows) & (n_rows == rubric_size[sheet_panel])

    keep = np.flatnonzero(counted)
    return pd.DataFrame(
        {
            "panel": panel_uniques.take(sheet_panel[keep]),
            "reviewer": pd.Index(reviewer_uniques).take(sheet_reviewer[keep]),
            "code": code_uniques.take(sheet_code[keep]),
            "total": 100.0 * points[keep] / rubric_points[sheet_panel[keep]],
        }
    )
