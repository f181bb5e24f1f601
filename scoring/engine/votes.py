"""Votes score (SPEC §3 "Votes score").

Public vote tallies are on no fixed scale, so each entry's tally is scaled
against the best tally of its vote group: `V = 100 * v / max(v' in G)`, and 0
where that maximum is 0 (nobody in the group received a vote). Only the
entries passed in (the shortlist) form the groups. A missing tally (NaN) is a
missing component, not zero votes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def votes_scores(votes: pd.Series, groups: pd.Series) -> pd.Series:
    """V per entry, aligned with `votes`; `groups` holds each entry's vote-group label."""
    tallies = pd.to_numeric(votes, errors="coerce").astype(np.float64)
    if (tallies < 0).any():
        raise ValueError("vote tallies must be >= 0")
    best = tallies.groupby(groups.to_numpy(), sort=False).transform("max")
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = 100.0 * tallies / best
    return scaled.where(~(best == 0), 0.0).where(tallies.notna(), np.nan).rename("votes")
