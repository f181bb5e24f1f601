"""Live standings for organisers: refreshes by itself and recomputes only when data changed."""

import streamlit as st

from pages._shared import current_actor, pick_campaign, require_page, t
from scoring import context
from scoring.permissions import can_see_standings
from scoring.services.campaigns import components, get_campaign
from scoring.services.standings import last_change, standings_frame
from scoring.settings import get_settings

actor = current_actor()
require_page(can_see_standings(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("standings.title"))
st.caption(campaign.name)
with context.database().read() as session:
    keys = [c.key for c in components(session, campaign.id)]
only_provisional = st.toggle(tr("standings.only_provisional"), key="only_provisional")


@st.cache_data(max_entries=32, show_spinner=False)
def _standings(slug: str, version: int):
    """Recomputed only when the campaign's newest audit event moves."""
    with context.database().read() as session:
        return standings_frame(session, actor, get_campaign(session, slug))


@st.fragment(run_every=f"{get_settings().refresh_seconds}s")
def live_table() -> None:
    with context.database().read() as session:
        version, changed_at = last_change(session, campaign)
    frame = _standings(campaign.slug, version)
    changed = changed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if changed_at else "—"
    st.caption(tr("standings.last_change", time=changed, seconds=get_settings().refresh_seconds))
    shown = frame[frame["provisional"]] if only_provisional else frame
    columns = {
        "group": tr("standings.group"),
        "rank": tr("standings.rank"),
        "code": tr("entry.code"),
        "title": tr("entry.title"),
        **{k: tr(f"panel.{k}") for k in keys},
        "composite": tr("standings.composite"),
        "award": tr("standings.award"),
        "tie": tr("standings.tie"),
        "provisional": tr("standings.provisional"),
    }
    for group, rows in shown.groupby("group", sort=False):
        st.subheader(str(group))
        st.dataframe(
            rows[list(columns)].rename(columns=columns),
            hide_index=True,
            use_container_width=True,
            column_config={
                tr(f"panel.{k}"): st.column_config.NumberColumn(format="%.2f") for k in keys
            }
            | {tr("standings.composite"): st.column_config.NumberColumn(format="%.4f")},
        )


live_table()
