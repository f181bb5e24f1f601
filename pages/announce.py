"""The announcement view: full screen, large type, winners revealed one at a time.

The audience sees only the stage: the organiser moves with the keys (→ or space, ←, Esc)
through buttons kept out of sight, and which step shows what is `scoring.stage`'s rule.
Before finalisation the whole show is watermarked as a rehearsal.
"""

import streamlit as st

from pages._banner import final_banner
from pages._shared import DISPLAY_SIZE, current_actor, pick_campaign, require_page, t, thumbnail
from scoring import context
from scoring.engine import ALL_GROUP
from scoring.literal import html_literal, markdown_literal
from scoring.permissions import can_manage
from scoring.services.announce import REVEAL_ORDERS, Stage, stage
from scoring.stage import Slide, move, slide_at

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
.rd-seal { color: #f5c6c2; font-size: 1.6rem; text-align: center; margin-top: 3rem; }
.rd-seal code { color: #ffe9a8; background: transparent; font-size: 1.6rem;
                overflow-wrap: anywhere; }
@media (max-width: 700px) {
  [data-testid="stMainBlockContainer"] { padding: 2rem 1.2rem; }
  .rd-campaign { font-size: 1.5rem; }
  .rd-group { font-size: 2.6rem; }
  .rd-title { font-size: 2.2rem; }
  .rd-applicant, .rd-waiting { font-size: 1.6rem; }
  .rd-seal, .rd-seal code { font-size: 1.1rem; }
}
.rd-watermark { position: fixed; inset: 0; display: flex; align-items: center;
                justify-content: center; pointer-events: none; z-index: 999990;
                color: rgba(255, 255, 255, .16); font-size: 9vw; font-weight: 900;
                transform: rotate(-18deg); white-space: nowrap; }
.rd-hint { position: fixed; left: 0; right: 0; bottom: 1.2rem; text-align: center;
           color: #ffe9a8; font-size: 1.1rem; pointer-events: none;
           animation: rd-fade 1.5s ease 4s forwards; }
@keyframes rd-fade { to { opacity: 0; } }
/* The organiser's buttons: out of the audience's sight, shown only under the pointer. */
.st-key-announce_keys { position: fixed; top: 0; right: 0; width: auto !important;
                        z-index: 999991; padding: .5rem; opacity: 0; transition: opacity .3s; }
.st-key-announce_keys:hover, .st-key-announce_keys:focus-within { opacity: 1; }
</style>
"""


def _load(order: str) -> Stage:
    with context.database().read() as session:
        return stage(session, actor, campaign, order)


def _label(label: str | None) -> str:
    return tr.plain("announce.all_winners") if label == ALL_GROUP else str(label or "")


def _setup() -> None:
    st.title(tr("announce.title"))
    st.caption(markdown_literal(campaign.name))
    final_banner(actor, campaign)
    st.caption(tr("announce.explain"))
    order = st.radio(
        tr("announce.order"),
        REVEAL_ORDERS,
        format_func=lambda o: tr(f"announce.order_{o}"),
        horizontal=True,
        key="announce_order",
    )
    shown = _load(order)
    groups = [g for g in shown.groups if g.winners]
    if shown.rehearsal:
        st.warning(f"{tr('stage.rehearsal')} · {tr('stage.no_seal')}")
    if not groups:
        st.info(tr("announce.no_winners"))
        return
    for group in groups:
        st.text(f"{_label(group.label)} · {tr.plain('announce.count', count=len(group.winners))}")
    if st.button(tr("announce.start"), type="primary", icon=":material/slideshow:"):
        st.session_state[STATE] = {"order": order, "step": 0}
        st.rerun()


def _standing(winner) -> str:
    """Its rank, or for a committee award the committee, never a misleading low place."""
    if winner.override:
        return tr.plain("announce.committee")
    return tr.plain("announce.rank", rank=winner.rank)


def _html(markup: str) -> None:
    st.markdown(markup, unsafe_allow_html=True)


def _close(slide: Slide, seal: str | None) -> None:
    """The last step: thanks (or nothing to announce) and the seal the list is announced under."""
    words = tr.plain("announce.the_end") if slide.kind == "end" else tr.plain("stage.nothing")
    _html(f"<div class='rd-group'>{html_literal(words)}</div>")
    if seal:
        _html(
            f"<div class='rd-seal'>{html_literal(tr.plain('stage.seal'))}<br>"
            f"<code>{html_literal(seal)}</code></div>"
        )
    else:
        _html(f"<div class='rd-seal'>{html_literal(tr.plain('stage.no_seal'))}</div>")


def _winner(slide: Slide) -> None:
    latest = slide.latest
    picture, words = st.columns([5, 6], gap="large", vertical_alignment="center")
    image = thumbnail(latest.image, *DISPLAY_SIZE)
    if image is not None:
        picture.image(str(image), width="stretch")
    words.markdown(
        f"<div class='rd-title'>{html_literal(latest.title)}</div>"
        f"<div class='rd-applicant'>{html_literal(latest.applicant)}</div>"
        f"<div class='rd-meta'>{html_literal(latest.code)} · "
        f"{html_literal(_standing(latest))}</div>",
        unsafe_allow_html=True,
    )
    if slide.earlier:
        _html(
            "<div class='rd-earlier'>"
            + "<br>".join(
                f"{html_literal(w.title)} · {html_literal(w.applicant)}" for w in slide.earlier
            )
            + "</div>"
        )


def _keys(groups, step: int) -> None:
    """The organiser's controls; each has its key, so the audience never needs to see them."""
    moves = [
        ("announce_back", tr("announce.back"), "Left", -1),
        ("announce_next", tr("announce.next"), "Right", 1),
        ("announce_space", tr("announce.next"), "Space", 1),
    ]
    with st.container(key="announce_keys", horizontal=True):
        for key, label, shortcut, by in moves:
            if st.button(label, shortcut=shortcut, key=key):
                st.session_state[STATE]["step"] = move(groups, step, by)
                st.rerun()
        if st.button(tr("announce.leave"), shortcut="Esc", key="announce_leave"):
            st.session_state.pop(STATE, None)
            st.rerun()


def _stage() -> None:
    state = st.session_state[STATE]
    shown = _load(state.get("order", REVEAL_ORDERS[0]))
    slide = slide_at(shown.groups, int(state.get("step", 0)))
    _html(STAGE_CSS)
    if shown.rehearsal:
        _html(f"<div class='rd-watermark'>{html_literal(tr.plain('stage.rehearsal'))}</div>")
    _html(f"<div class='rd-campaign'>{html_literal(campaign.name)}</div>")
    if slide.kind in ("end", "nothing"):
        _close(slide, shown.sha256)
    else:
        _html(f"<div class='rd-group'>{html_literal(_label(slide.label))}</div>")
        if slide.kind == "waiting":
            _html(f"<div class='rd-waiting'>{html_literal(tr.plain('announce.waiting'))}</div>")
        else:
            _winner(slide)
    _html(f"<div class='rd-hint'>{html_literal(tr.plain('stage.hint'))}</div>")
    _keys(shown.groups, slide.index)


if STATE in st.session_state:
    _stage()
else:
    _setup()
