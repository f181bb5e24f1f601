"""The audit log: every change with who, when, what, old and new value; filter and download."""

import json

import pandas as pd
import streamlit as st

from pages._shared import current_actor, pick_campaign, require_page, t
from scoring import context
from scoring.permissions import can_manage
from scoring.services.audit import action_names, list_events

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
st.title(tr("audit.title"))

with context.database().read() as session:
    actions = action_names(session)
cols = st.columns(3)
scope = cols[0].radio(
    tr("audit.scope"),
    ["campaign", "all"],
    horizontal=True,
    format_func=lambda s: tr(f"audit.scope_{s}"),
)
action = cols[1].selectbox(
    tr("audit.action"), ["", *actions], format_func=lambda a: a or tr("common.any")
)
who = cols[2].text_input(tr("audit.who")).strip().lower()

with context.database().read() as session:
    events = list_events(
        session,
        actor,
        campaign_id=campaign.id if campaign and scope == "campaign" else None,
        action=action or None,
        who=who or None,
    )


def _show(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


frame = pd.DataFrame(
    [
        {
            tr("audit.at"): e.at,
            tr("audit.who"): e.actor,
            tr("audit.action"): e.action,
            tr("audit.target"): e.target,
            tr("audit.old"): _show(e.old_value),
            tr("audit.new"): _show(e.new_value),
        }
        for e in events
    ],
    columns=[tr(f"audit.{c}") for c in ("at", "who", "action", "target", "old", "new")],
)
st.caption(tr("audit.count", count=len(frame)))
st.dataframe(frame, hide_index=True, width="stretch")
st.download_button(
    tr("audit.download"),
    frame.to_csv(index=False).encode("utf-8-sig"),
    file_name="reviewdesk-audit.csv",
    mime="text/csv",
)
