"""Assignment: the coverage matrix per panel, automatic assignment, and changes by hand."""

import streamlit as st
from sqlmodel import select

from pages._banner import final_banner
from pages._shared import (
    current_actor,
    in_campaign,
    pick_campaign,
    require_page,
    run_write,
    t,
)
from scoring import context
from scoring.literal import markdown_literal
from scoring.permissions import can_manage
from scoring.services.assignments import assign, auto_assign, coverage_matrix, unassign
from scoring.services.campaigns import components
from scoring.storage.models import Account, Entry
from scoring.tables import component_label

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("assign_page.title"))
st.caption(markdown_literal(campaign.name))
final_banner(actor, campaign)

CELL_STYLE = {
    "submitted": "background-color: #e6f4ea",
    "draft": "background-color: #e8f0fe",
    "assigned": "background-color: #f1f3f4",
    "conflict": "background-color: #fce8e6",
}


def _auto() -> None:
    with st.form("auto_assign"):
        st.markdown(f"**{tr('assign_page.auto')}**")
        st.caption(tr("assign_page.auto_explain"))
        limit = st.toggle(tr("assign_page.use_cap"))
        cap = st.number_input(tr("assign_page.cap"), min_value=1, value=20, step=1)
        if st.form_submit_button(tr("assign_page.run"), type="primary"):
            ok, result = run_write(
                lambda s: auto_assign(s, actor, campaign, cap=int(cap) if limit else None)
            )
            if ok and result.total_added:
                detail = ", ".join(
                    f"{component_label(p, tr)} +{n}" for p, n in result.added.items()
                )
                st.success(
                    in_campaign(tr("assign_auto.done", added=result.total_added, detail=detail))
                )
            elif ok:
                st.info(tr("assign_auto.nothing"))


def _matrix(panel: str) -> None:
    with context.database().read() as session:
        matrix = coverage_matrix(session, actor, campaign, panel)
    missing = int(matrix["missing"].sum())
    cells = st.columns(3)
    cells[0].metric(tr("assign_page.entries"), len(matrix))
    cells[1].metric(tr("assign_page.short_entries"), int((matrix["missing"] > 0).sum()))
    cells[2].metric(tr("assign_page.missing"), missing)
    shown = matrix.copy()
    shown.index.name = tr("entry.code")
    reviewers = [c for c in shown.columns if c not in ("assigned", "missing")]
    for column in reviewers:
        shown[column] = shown[column].map(lambda s: tr(f"assign_page.cell_{s}") if s else "")
    styles = matrix[reviewers].map(lambda s: CELL_STYLE.get(s, ""))
    st.dataframe(
        shown.rename(
            columns={"assigned": tr("assign_auto.assigned"), "missing": tr("assign_auto.missing")}
        ).style.apply(lambda _: styles.reindex(columns=_.columns, fill_value=""), axis=None),
        width="stretch",
        height=min(36 * (len(shown) + 1) + 4, 640),
    )


def _by_hand(panel: str) -> None:
    with context.database().read() as session:
        people = [
            a.username
            for a in session.exec(
                select(Account)
                .where(Account.role == panel, Account.active)
                .order_by(Account.username)
            )
        ]
        codes = list(
            session.exec(
                select(Entry.code)
                .where(Entry.campaign_id == campaign.id, Entry.status == "shortlisted")
                .order_by(Entry.code)
            )
        )
    flash = f"assign_flash_{panel}"
    if flash in st.session_state:
        st.success(st.session_state.pop(flash))
    with st.form(f"by_hand_{panel}"):
        st.markdown(f"**{tr('assign_page.by_hand')}**")
        reviewer = st.selectbox(tr("assign_page.reviewer"), people)
        chosen = st.multiselect(tr("assign_page.entries_to"), codes, placeholder=tr("gallery.any"))
        add, remove = st.columns(2)
        adding = add.form_submit_button(tr("assign_page.add"), width="stretch")
        removing = remove.form_submit_button(tr("assign_page.remove"), width="stretch")
    if adding and reviewer and chosen:
        ok, count = _change(reviewer, chosen, assign)
        if ok:
            st.success(in_campaign(tr("assign_page.changed", count=count)))
    if removing and reviewer and chosen:
        st.dialog(tr("confirm.unassign_title"))(_confirm_unassign)(panel, reviewer, tuple(chosen))


def _change(reviewer: str, codes, change) -> tuple[bool, int | None]:
    """Assign or unassign one reviewer to the chosen entries, in one transaction."""

    def work(session):
        account = session.exec(select(Account).where(Account.username == reviewer)).one()
        entries = session.exec(
            select(Entry).where(Entry.campaign_id == campaign.id, Entry.code.in_(codes))
        ).all()
        return sum(change(session, actor, entry=e, reviewer=account) for e in entries)

    return run_write(work)


def _confirm_unassign(panel: str, reviewer: str, codes: tuple[str, ...]) -> None:
    """Removing takes work away from a reviewer: say whose, how many and where first."""
    st.warning(
        tr(
            "confirm.unassign_body",
            campaign=campaign.name,
            reviewer=reviewer,
            count=len(codes),
            codes=", ".join(codes),
        )
    )
    go, cancel = st.columns(2)
    label = tr("confirm.unassign_confirm", count=len(codes))
    if go.button(label, type="primary", key=f"unassign_go_{panel}", width="stretch"):
        ok, count = _change(reviewer, codes, unassign)
        if ok:
            st.session_state[f"assign_flash_{panel}"] = tr("assign_page.changed", count=count)
            st.rerun()
    if cancel.button(tr("confirm.cancel"), key=f"unassign_cancel_{panel}", width="stretch"):
        st.rerun()


_auto()
with context.database().read() as session:
    panels = [c.key for c in components(session, campaign.id) if c.kind == "panel"]
for tab, panel in zip(st.tabs([component_label(p, tr) for p in panels]), panels, strict=True):
    with tab:
        _matrix(panel)
        _by_hand(panel)
