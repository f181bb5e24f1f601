"""Display tables for the pages: the engine's frames with translated headers and markers.

The engine keeps booleans and floats; an organiser reads "3/5 reviews",
"tie at the cut line — decide" and "award" in a column of its own, and a section small enough
to paint cheaply also has award rows green and cut-line ties amber (painting takes a pandas
Styler, which costs seconds per few thousand rows). Shaping that here keeps pages to layout
and lets the wording be tested without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import pandas as pd
from pandas.io.formats.style import Styler

from scoring.engine import Method
from scoring.i18n import Translator

AWARD_ROW = "background-color: #e6f4ea"
CUTLINE_TIE_ROW = "background-color: #fff3cd"
#: Sections up to this many rows are painted; a bigger one shows the same facts in words only.
PAINTED_ROWS_MAX = 300

#: How the organiser may section the standings table (ranks stay those of the rank group).
VIEW_CHOICES: tuple[str, ...] = ("rank_group", "category", "domain", "category_domain")


def component_label(key: str, tr: Translator) -> str:
    """A component's name in the interface language (its key where there is none)."""
    return tr(f"panel.{key}")


def markers(row: Mapping[str, Any], tr: Translator) -> str:
    """The row's flags as short words, most urgent first."""
    words = []
    if bool(row["tie_at_cutline"]):
        words.append(tr("standings.marker_cutline_tie"))
    elif bool(row["tie"]):
        words.append(tr("standings.marker_tie"))
    if bool(row["provisional"]):
        words.append(tr("standings.marker_provisional"))
    override = row.get("override")
    if isinstance(override, str) and override:
        words.append(tr("standings.marker_override", reason=override))
    return " · ".join(words)


def section_key(frame: pd.DataFrame, view: str) -> pd.Series:
    """The label each row is shown under for a table view."""
    if view == "rank_group":
        return frame["group"]
    if view == "category":
        return frame["category"]
    if view == "domain":
        return frame["domain"]
    if view == "category_domain":
        return frame["category"] + " / " + frame["domain"]
    raise ValueError(f"unknown view {view!r}; expected one of {', '.join(VIEW_CHOICES)}")


def section_order(view: str, groups: list[str], categories: list[str], domains: list[str]) -> list:
    """Sections in the campaign's order."""
    if view == "rank_group":
        return list(groups)
    if view == "category":
        return list(categories)
    if view == "domain":
        return list(domains)
    return [f"{c} / {d}" for c in categories for d in domains]


class StandingsTable(NamedTuple):
    """One section as shown: translated headers and words, numbers left as numbers.

    ``decimals`` says how many places each number column shows; the page formats them in the
    browser (a pandas Styler would format and paint every cell on the server, seconds for a
    few thousand rows).
    """

    frame: pd.DataFrame
    decimals: dict[str, int]
    row_styles: list[str]

    def painted(self) -> Styler | None:
        """The frame with award and cut-line-tie rows coloured and numbers formatted, or None
        for a section too big to paint in good time (shown plain, formatted in the browser)."""
        if len(self.frame) > PAINTED_ROWS_MAX:
            return None
        formats = {name: f"{{:.{places}f}}" for name, places in self.decimals.items()}

        def paint(row: pd.Series) -> list[str]:
            return [self.row_styles[row.name]] * len(row)

        return self.frame.style.apply(paint, axis=1).format(formats, na_rep="—")


def row_styles(rows: pd.DataFrame) -> list[str]:
    """The background of each row: amber for a tie at the cut line, green for an award."""
    return [
        CUTLINE_TIE_ROW if cut_tie else AWARD_ROW if award else ""
        for cut_tie, award in zip(rows["tie_at_cutline"], rows["award"], strict=True)
    ]


def standings_table(
    rows: pd.DataFrame, method: Method, tr: Translator, with_group: bool
) -> StandingsTable:
    """The rows of one section, translated, with their flags and each panel's coverage."""
    shown = pd.DataFrame(
        {
            tr("standings.rank"): rows["rank"].astype(int),
            tr("entry.code"): rows["code"],
            tr("entry.title"): rows["title"],
        }
    )
    if with_group:
        shown[tr("standings.group")] = rows["group"]
    shown[tr("standings.composite")] = rows["composite"].astype(float)
    decimals = {tr("standings.composite"): 4}
    shown[tr("standings.award")] = [tr("standings.award_yes") if a else "" for a in rows["award"]]
    shown[tr("standings.markers")] = [markers(row, tr) for row in rows.to_dict("records")]
    for component in method.components:
        name = f"{component_label(component.key, tr)} ({component.weight:g}%)"
        shown[name] = rows[component.key].astype(float)
        decimals[name] = 2
        if component.kind == "panel":
            coverage = tr("standings.coverage", panel=component_label(component.key, tr))
            shown[coverage] = [
                f"{n}/{component.min_reviews}" for n in rows[f"n_{component.key}"].astype(int)
            ]
    shown.index = range(len(shown))
    return StandingsTable(shown, decimals, row_styles(rows))
