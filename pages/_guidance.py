"""Score guidance on the score sheet: a criterion's level descriptors and its own comment box.

Drawn under each criterion's number box by the entry page. The rules live in scoring/
(``sheet_rules.needs_comment``, ``level_for``); this module only draws what they say, so the
box marked required here is exactly the one a submission is refused without.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from pages._shared import t
from scoring.literal import Markdown, markdown_literal
from scoring.services.review import CriterionView
from scoring.services.sheet_rules import MAX_REASON_CHARS, level_for, needs_comment


def _number(value: float) -> str:
    return format(float(value), "g")


def level_guide(criterion: CriterionView, points: float | None = None) -> None:
    """The criterion's levels on one line (优 26–30 · 良 20–25 …), the typed score's in bold.

    Nothing is drawn for a criterion without levels: most rubrics have none.
    """
    if not criterion.levels:
        return
    tr = t()
    current = level_for(criterion.levels, points)
    parts = []
    for level in criterion.levels:
        low, high = _number(level["low"]), _number(level["high"])
        span = low if low == high else f"{low}–{high}"
        text = f"{markdown_literal(level['label'])} {span}"
        parts.append(f"**{text}**" if level["label"] == current else text)
    st.caption(tr("guidance.levels_title") + " · ".join(parts))


def comment_key(entry_code: str, generation: int, criterion_key: str) -> str:
    """The widget key of a criterion's comment box, one generation per loaded sheet."""
    return f"criterion_comment_{entry_code}_{generation}_{criterion_key}"


def criterion_comment(
    criterion: CriterionView,
    *,
    key: str,
    value: str,
    points: float | None,
    at_extremes: bool,
    disabled: bool = False,
    on_change: Callable[..., None] | None = None,
    args: tuple[Any, ...] = (),
) -> str:
    """The criterion's own comment box, marked required when ``needs_comment`` says so.

    Optional otherwise. ``on_change`` and ``args`` go to the box as to any Streamlit input
    (the sheet's draft autosave). Returns what the box holds now.
    """
    tr = t()
    name = markdown_literal(criterion.name)
    required = needs_comment(criterion, points, at_extremes)
    label = (
        tr("guidance.comment_required_label", criterion=name)
        if required
        else tr("guidance.comment", criterion=name)
    )
    typed = st.text_input(
        label,
        value=value,
        key=key,
        placeholder="" if required else tr.plain("guidance.comment_optional"),
        max_chars=MAX_REASON_CHARS,
        disabled=disabled,
        on_change=on_change,
        args=args,
    )
    if required and not (typed or "").strip() and points is not None:
        st.caption(
            ":orange[:material/edit_note:] "
            + tr("guidance.comment_required_hint", points=Markdown(_number(points)))
        )
    return typed or ""
