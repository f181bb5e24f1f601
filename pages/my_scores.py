"""A reviewer's own scores: their sheets in a sortable table, their spread, their deadline."""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from pages._shared import CAMPAIGN_PARAM, current_actor, pick_campaign, require_page, t
from scoring import context
from scoring.literal import markdown_literal
from scoring.services.my_scores import my_scores

actor = current_actor()
require_page(actor.is_reviewer)
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

with context.database().read() as session:
    view = my_scores(session, actor, campaign)

st.title(tr("my_scores.title"))
st.caption(" · ".join((markdown_literal(view.campaign.name), tr(f"panel.{view.panel}"))))

review = view.review
not_set = tr.plain("stages.not_set")
dates = tr.plain(
    "stages.range", first=review.shown_from or not_set, last=review.shown_to or not_set
)
left_key, left_params = view.left
if view.deadline is None:
    deadline_line = tr("my_scores.no_deadline")
else:
    deadline_line = tr(
        "my_scores.deadline", day=review.shown_to or "", left=tr.plain(left_key, **left_params)
    )
with st.container(key="my_deadline"):
    st.markdown(tr("my_scores.review_dates", dates=dates))
    if left_key == "stages.left.closed":
        st.warning(deadline_line, icon=":material/event_busy:")
    else:
        st.info(deadline_line, icon=":material/event:")

spread = view.spread


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# One line, not four metrics: on a phone four metrics stack into a screen of their own.
st.markdown(
    tr(
        "my_scores.spread",
        count=spread.count,
        mean=_figure(spread.mean),
        lowest=_figure(spread.lowest),
        highest=_figure(spread.highest),
    )
)
notes = [tr("my_scores.scale_hint")]
if view.drafts:
    notes.insert(0, tr("my_scores.drafts", count=view.drafts))
st.caption(" ".join(notes))


def _entry_address(code: str) -> str:
    """The entry page of one sheet, same campaign and language (opens in a new tab)."""
    params = {"code": code, CAMPAIGN_PARAM: view.campaign.slug}
    if "lang" in st.query_params:
        params["lang"] = st.query_params["lang"]
    return "entry?" + urlencode(params)


if not view.sheets:
    st.info(tr("my_scores.none_yet"))
else:
    columns = {
        "code": tr.plain("my_scores.col_code"),
        "title": tr.plain("my_scores.col_title"),
        "status": tr.plain("my_scores.col_status"),
        "total": tr.plain("my_scores.col_total"),
        "submitted_at": tr.plain("my_scores.col_submitted_at"),
        "updated_at": tr.plain("my_scores.col_updated_at"),
        "open": tr.plain("my_scores.col_open"),
    }
    frame = pd.DataFrame(
        [
            {
                "code": sheet.code,
                "title": sheet.title,
                "status": tr.plain(f"state.{sheet.status}"),
                "total": sheet.total,
                "submitted_at": f"{sheet.submitted_at:%Y-%m-%d %H:%M}"
                if sheet.submitted_at
                else None,
                "updated_at": f"{sheet.updated_at:%Y-%m-%d %H:%M}",
                "open": _entry_address(sheet.code),
            }
            for sheet in view.sheets
        ]
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="my_scores_table",
        column_config={
            "code": st.column_config.TextColumn(columns["code"], pinned=True),
            "title": st.column_config.TextColumn(columns["title"]),
            "status": st.column_config.TextColumn(columns["status"]),
            "total": st.column_config.NumberColumn(columns["total"], format="%.2f"),
            "submitted_at": st.column_config.TextColumn(columns["submitted_at"]),
            "updated_at": st.column_config.TextColumn(columns["updated_at"]),
            "open": st.column_config.LinkColumn(
                columns["open"], display_text=tr.plain("my_scores.col_open")
            ),
        },
    )

if view.conflicts:
    with st.container(border=True):
        st.subheader(tr("my_scores.conflicts_title"))
        for conflict in view.conflicts:
            st.text(
                tr.plain(
                    "my_scores.conflict_line",
                    code=conflict.code,
                    title=conflict.title,
                    reason=conflict.reason,
                )
            )
