"""Small checks on the engine's input frames.

The engine is fed by importers, services and tests alike; a missing column
should fail with a sentence naming the frame and the column, not with a
KeyError deep inside a groupby.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise ValueError naming every column of `columns` that `frame` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s): {', '.join(missing)}")
