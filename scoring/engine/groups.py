"""Comparison-group labels for a whole entries frame at once.

Votes are scaled inside the campaign's `vote_group` and entries are ranked
inside its `rank_group`; both use the same labels as `method.group_label`, so
a quota keyed by label in the campaign file finds its group.
"""

from __future__ import annotations

import pandas as pd

from .method import ALL_GROUP, GROUP_CHOICES


def group_labels(entries: pd.DataFrame, how: str) -> pd.Series:
    """One label per entry row (same index as `entries`) for grouping `how`."""
    if how == "category":
        return entries["category"].astype(str)
    if how == "domain":
        return entries["domain"].astype(str)
    if how == "category_domain":
        return entries["category"].astype(str) + " / " + entries["domain"].astype(str)
    if how == "all":
        return pd.Series(ALL_GROUP, index=entries.index, dtype="str")
    raise ValueError(f"unknown group {how!r}; expected one of {', '.join(GROUP_CHOICES)}")
