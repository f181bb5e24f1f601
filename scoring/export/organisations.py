"""The Organisations sheet (优秀组织奖): per recommending unit, from the entries and the list.

Its one home: the export writes it from the database's entries, and verify recounts it from
a file's Final list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The unit shown for entries that name no recommending unit.
NO_RECOMMENDER = "—"


def organisations(entries: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Per recommending unit: entries recommended, shortlisted, awarded, mean composite.

    `entries` holds every entry of the campaign (code, recommender, status); `final` the
    final list (code, award, composite). Units are sorted by awards, then mean composite.
    """
    merged = entries.merge(final[["code", "award", "composite"]], on="code", how="left")
    merged["recommender"] = merged["recommender"].replace("", NO_RECOMMENDER).fillna(NO_RECOMMENDER)
    merged["shortlisted"] = merged["status"] == "shortlisted"
    merged["awarded"] = merged["award"].fillna(False).astype(bool)
    grouped = merged.groupby("recommender", sort=False)
    frame = pd.DataFrame(
        {
            "recommended": grouped.size(),
            "shortlisted": grouped["shortlisted"].sum().astype(np.int64),
            "awarded": grouped["awarded"].sum().astype(np.int64),
            "mean_composite": grouped["composite"].mean(),
        }
    ).reset_index()
    return frame.sort_values(
        ["awarded", "mean_composite", "recommender"],
        ascending=[False, False, True],
        na_position="last",
    ).reset_index(drop=True)
