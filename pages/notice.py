"""The public results notice (结果公示, SPEC §8): reachable without login, by ``?campaign=slug``.

Without a campaign it lists the campaigns whose notice is public. With one it shows, per
ranking group, the winners with their rank, title, the campaign's public fields and first
image, then the SHA-256 of the frozen final list in full and the times. Everything comes from
one call into ``scoring.services.notice``; what is not published is refused there.
"""

import streamlit as st

from pages._shared import CAMPAIGN_PARAM, t, through_the_gate, thumbnail
from scoring import context
from scoring.engine import ALL_GROUP
from scoring.errors import NotFound, StateRefused
from scoring.literal import markdown_literal
from scoring.permissions import Actor
from scoring.services.notice import (
    NoticeGroup,
    NoticeWinner,
    ResultsNotice,
    published_notices,
    results_notice,
)

TIME_FORMAT = "%Y-%m-%d %H:%M"
IMAGE_SIZE = (480, 320)
# Printing (the notice is posted as paper too) leaves out the app's chrome; on a phone the
# hash wraps instead of scrolling off the screen.
NOTICE_CSS = """
<style>
.st-key-notice_sha pre, .st-key-notice_sha code { white-space: pre-wrap !important;
                                                  overflow-wrap: anywhere; }
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stSidebarCollapsedControl"], .st-key-notice_back {
    display: none !important;
  }
  [data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0 !important; }
  .st-key-notice_sha button { display: none !important; }
}
</style>
"""

through_the_gate()  # run by its address before app.py's first run: go through app.py
actor = Actor.public_visitor()
tr = t()
st.markdown(NOTICE_CSS, unsafe_allow_html=True)
st.title(tr("notice.title"))


def _open(slug: str | None) -> None:
    """Switch this page to one campaign's notice (or back to the list); the address keeps it."""
    if slug:
        st.query_params[CAMPAIGN_PARAM] = slug
    else:
        st.query_params.pop(CAMPAIGN_PARAM, None)


def _back() -> None:
    st.button(
        tr.plain("notice.back"),
        icon=":material/list:",
        key="notice_back",
        on_click=_open,
        args=(None,),
    )


def _landing() -> None:
    with context.database().read() as session:
        listed = published_notices(session, actor)
    if not listed:
        st.info(tr("notice.none_published"))
        return
    st.caption(tr("notice.landing_intro"))
    for item in listed:
        st.button(
            markdown_literal(tr.plain("notice.open_campaign", name=item.name, year=item.year)),
            icon=":material/campaign:",
            key=f"notice_open_{item.slug}",
            on_click=_open,
            args=(item.slug,),
        )
        st.caption(tr("notice.published_line", at=item.published_at.strftime(TIME_FORMAT)))


def _label(label: str) -> str:
    return tr.plain("announce.all_winners") if label == ALL_GROUP else label


def _winner(winner: NoticeWinner) -> None:
    with st.container(border=True):
        picture, words = st.columns([1, 2], vertical_alignment="top")
        image = thumbnail(winner.image, *IMAGE_SIZE)
        if image is not None:
            picture.image(str(image), width="stretch")
        lines = [
            f"**{tr('notice.rank', rank=winner.rank)}** · **{markdown_literal(winner.title)}**"
        ]
        lines += [
            tr("notice.field_line", label=tr.plain(f"notice.field_{field}"), value=value)
            for field, value in winner.fields
        ]
        words.markdown("  \n".join(lines))  # one block: the fields sit under the title


def _group(group: NoticeGroup) -> None:
    st.subheader(markdown_literal(_label(group.label)))
    if not group.winners:
        st.caption(tr("notice.no_winners"))
    for winner in group.winners:
        _winner(winner)


def _notice(notice: ResultsNotice) -> None:
    st.markdown(tr("notice.intro", name=notice.name, year=notice.year))
    for group in notice.groups:
        _group(group)
    st.divider()
    st.markdown(f"**{tr('notice.sha_label')}**")
    with st.container(key="notice_sha"):
        st.code(notice.sha256, language=None, wrap_lines=True)
    st.caption(tr("notice.sha_help"))
    st.markdown(tr("notice.finalised_at", at=notice.finalised_at.strftime(TIME_FORMAT)))
    if notice.published_at is not None:
        st.markdown(tr("notice.published_at", at=notice.published_at.strftime(TIME_FORMAT)))


slug = st.query_params.get(CAMPAIGN_PARAM)
if not slug:
    _landing()
    st.stop()
try:
    with context.database().read() as session:
        shown = results_notice(session, actor, slug)
except (StateRefused, NotFound) as refused:
    st.info(refused.markdown(tr.lang))
    _back()
    st.stop()
_notice(shown)
_back()
