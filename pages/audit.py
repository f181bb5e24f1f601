"""The audit log: every change with who, when, what, and what changed; paged, downloadable.

Actions show in words and each change as "key: old → new" lines (`audit_view`); filters by
Beijing date, user, entry and action words run in the database query, and the CSV of every
match keeps the raw action keys and JSON values (the screen shows only the words: raw JSON
beside them, quotes and braces, was read as part of the change).
It shows how many events match and which of them are on screen; the CSV holds all of them.
The chain head is shown so that an organiser can record it for `reviewdesk audit-check`.
"""

import pandas as pd
import streamlit as st

from pages._banner import final_banner
from pages._shared import current_actor, pick_campaign, require_page, t
from scoring import context
from scoring.beijing_time import in_beijing
from scoring.permissions import can_manage
from scoring.services.audit import PAGE_SIZE, action_names, events_csv, list_events
from scoring.services.audit_view import (
    action_label,
    actions_matching,
    beijing_days,
    describe_change,
)

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
st.title(tr("audit.title"))
final_banner(actor, campaign)

with context.database().read() as session:
    actions = action_names(session)
cols = st.columns([3, 3, 3, 1])
scope = cols[0].radio(
    tr("audit.scope"),
    ["campaign", "all"],
    horizontal=True,
    format_func=lambda s: tr(f"audit.scope_{s}"),
)
action = cols[1].selectbox(
    tr("audit.action"),
    ["", *actions],
    format_func=lambda a: action_label(a, tr.lang) if a else tr.plain("common.any"),
)
who = cols[2].text_input(tr("audit.who")).strip().lower()
page_number = cols[3].number_input(tr("audit_chain.page"), min_value=1, value=1, step=1)
more = st.columns(4)
words = more[0].text_input(tr("audit_words.action_words")).strip()
entry = more[1].text_input(tr("audit_words.entry")).strip()
first_day = more[2].date_input(tr("audit_words.since"), value=None)
last_day = more[3].date_input(tr("audit_words.until"), value=None)
if first_day and last_day and first_day > last_day:
    st.error(tr("audit_words.bad_range", since=first_day, until=last_day))
    st.stop()
since, until = beijing_days(first_day, last_day)
worded = tuple(actions_matching(words, tr.lang, actions)) if words else None
if words and not worded:
    st.info(tr("audit_words.no_action", words=words))
filters = {
    "campaign_id": campaign.id if campaign and scope == "campaign" else None,
    "action": action or None,
    "who": who or None,
    "since": since,
    "until": until,
    "entry": entry or None,
    "actions": worded,
}

with context.database().read() as session:
    page = list_events(session, actor, page=int(page_number), page_size=PAGE_SIZE, **filters)


def _csv() -> bytes:
    """Built on click only: every matching event, not just this page."""
    with context.database().read() as session:
        return events_csv(session, actor, tr.lang, **filters)


frame = pd.DataFrame(
    [
        {
            tr("audit_chain.column_id"): e.id,
            tr("audit_words.at"): in_beijing(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            tr("audit.who"): e.actor,
            tr("audit.action"): action_label(e.action, tr.lang),
            tr("audit.target"): e.target,
            tr("audit_words.change"): "\n".join(describe_change(e.old_value, e.new_value)),
        }
        for e in page.events
    ],
    columns=[
        tr("audit_chain.column_id"),
        tr("audit_words.at"),
        *(tr(f"audit.{c}") for c in ("who", "action", "target")),
        tr("audit_words.change"),
    ],
)
if page.total:
    st.caption(
        tr(
            "audit_chain.total",
            total=page.total,
            first=page.first,
            last=page.last,
            page=page.page,
            pages=page.pages,
        )
    )
else:
    st.caption(tr("audit_chain.none"))
st.dataframe(frame, hide_index=True, width="stretch")
st.download_button(
    tr("audit_chain.download_all", total=page.total),
    data=_csv,
    file_name="reviewdesk-audit.csv",
    mime="text/csv",
)
st.caption(tr("audit_chain.head", head=page.head.chain_hash, seq=page.head.seq))
