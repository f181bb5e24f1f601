"""The announcement view: full screen, large type, winners revealed one at a time."""

from html import escape

import streamlit as st

from pages._shared import DISPLAY_SIZE, current_actor, pick_campaign, require_page, t, thumbnail
from scoring import context
from scoring.engine import ALL_GROUP
from scoring.permissions import can_manage
from scoring.services.announce import REVEAL_ORDERS, WinnerGroup, announcement

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

STATE = "announce_state"
STAGE_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
[data-testid="stSidebarCollapsedControl"] { display: none !important; }
[data-testid="stApp"] { background: radial-gradient(circle at 50% 0%, #b3261e 0%, #5c0f0b 75%); }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 2.5rem 5rem; }
.rd-campaign { color: #ffe9a8; font-size: 2.2rem; text-align: center; letter-spacing: .1em; }
.rd-group { color: #ffffff; font-size: 4.2rem; font-weight: 800; text-align: center;
            margin: .6rem 0 1.4rem; }
.rd-title { color: #ffffff; font-size: 3.6rem; font-weight: 800; line-height: 1.25; }
.rd-applicant { color: #ffe9a8; font-size: 2.4rem; margin-top: 1rem; }
.rd-meta { color: #f5c6c2; font-size: 1.6rem; margin-top: 1rem; }
.rd-earlier { color: #f5c6c2; font-size: 1.7rem; line-height: 1.8; }
.rd-waiting { color: #ffe9a8; font-size: 2.6rem; text-align: center; margin-top: 4rem; }
[data-testid="stApp"] button p { font-size: 1.2rem; }
</style>
"""


def _load(order: str) -> list[WinnerGroup]:
    with context.database().read() as session:
        return [g for g in announcement(session, actor, campaign, order) if g.winners]


def _setup() -> None:
    st.title(tr("announce.title"))
    st.caption(campaign.name)
    st.caption(tr("announce.explain"))
    order = st.radio(
        tr("announce.order"),
        REVEAL_ORDERS,
        format_func=lambda o: tr(f"announce.order_{o}"),
        horizontal=True,
        key="announce_order",
    )
    groups = _load(order)
    if not groups:
        st.info(tr("announce.no_winners"))
        return
    for group in groups:
        label = tr("announce.all_winners") if group.label == ALL_GROUP else group.label
        st.text(f"{label} · {tr('announce.count', count=len(group.winners))}")
    if st.button(tr("announce.start"), type="primary", icon=":material/slideshow:"):
        st.session_state[STATE] = {"order": order, "group": 0, "shown": 0}
        st.rerun()


def _standing(winner) -> str:
    """Its rank, or for a committee award the committee, never a misleading low place."""
    return tr("announce.committee") if winner.override else tr("announce.rank", rank=winner.rank)


def _step(groups: list[WinnerGroup], forward: bool) -> None:
    state = st.session_state[STATE]
    group, shown = state["group"], state["shown"]
    if forward:
        if shown < len(groups[group].winners):
            shown += 1
        elif group + 1 < len(groups):
            group, shown = group + 1, 0
        else:
            group, shown = len(groups), 0  # the end
    elif shown > 0:
        shown -= 1
    elif group > 0:
        group -= 1
        shown = len(groups[group].winners)
    st.session_state[STATE] = {**state, "group": group, "shown": shown}


def _stage() -> None:
    state = st.session_state[STATE]
    groups = _load(state["order"])
    st.markdown(STAGE_CSS, unsafe_allow_html=True)
    st.markdown(f"<div class='rd-campaign'>{escape(campaign.name)}</div>", unsafe_allow_html=True)
    if state["group"] >= len(groups):
        st.markdown(
            f"<div class='rd-group'>{escape(tr('announce.the_end'))}</div>",
            unsafe_allow_html=True,
        )
    else:
        group = groups[state["group"]]
        label = tr("announce.all_winners") if group.label == ALL_GROUP else group.label
        st.markdown(f"<div class='rd-group'>{escape(label)}</div>", unsafe_allow_html=True)
        shown = group.winners[: state["shown"]]
        if not shown:
            st.markdown(
                f"<div class='rd-waiting'>{escape(tr('announce.waiting'))}</div>",
                unsafe_allow_html=True,
            )
        else:
            latest = shown[-1]
            picture, words = st.columns([5, 6], gap="large", vertical_alignment="center")
            image = thumbnail(latest.image, *DISPLAY_SIZE)
            if image is not None:
                picture.image(str(image), width="stretch")
            words.markdown(
                f"<div class='rd-title'>{escape(latest.title)}</div>"
                f"<div class='rd-applicant'>{escape(latest.applicant)}</div>"
                f"<div class='rd-meta'>{escape(latest.code)} · {escape(_standing(latest))}</div>",
                unsafe_allow_html=True,
            )
            earlier = shown[:-1]
            if earlier:
                st.markdown(
                    "<div class='rd-earlier'>"
                    + "<br>".join(
                        f"{escape(w.title)} · {escape(w.applicant)}" for w in reversed(earlier)
                    )
                    + "</div>",
                    unsafe_allow_html=True,
                )
    back, forward, leave = st.columns([1, 1, 1])
    if back.button(tr("announce.back"), shortcut="Left", width="stretch", key="announce_back"):
        _step(groups, forward=False)
        st.rerun()
    if forward.button(
        tr("announce.next"), shortcut="Right", type="primary", width="stretch", key="announce_next"
    ):
        _step(groups, forward=True)
        st.rerun()
    if leave.button(tr("announce.leave"), shortcut="Esc", width="stretch", key="announce_leave"):
        st.session_state.pop(STATE, None)
        st.rerun()


if STATE in st.session_state:
    _stage()
else:
    _setup()
