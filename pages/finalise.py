"""Finalise and export: panel locks, cut-line ties, committee overrides, the frozen list."""

from urllib.parse import quote

import pandas as pd
import streamlit as st

from pages._banner import final_banner
from pages._shared import current_actor, pick_campaign, require_page, run_write, t
from scoring import charts, context
from scoring.literal import markdown_literal
from scoring.permissions import can_manage
from scoring.services.export import export_workbook
from scoring.services.finalise import (
    FinalisePreview,
    FinalState,
    clear_override,
    decide_tie,
    finalise,
    finalise_view,
    set_group_quota,
    set_override,
    set_panel_lock,
    unfinalise,
)
from scoring.services.notice import (
    NoticeState,
    notice_preview,
    notice_state,
    publish_notice,
    withdraw_notice,
)
from scoring.services.publication import casebook, certificates
from scoring.tables import component_label

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("finalise.title"))
st.caption(markdown_literal(campaign.name))
final_banner(actor, campaign)

with context.database().read() as session:
    view = finalise_view(session, actor, campaign)
    notice = notice_state(session, actor, campaign)
preview = view.preview
panels, pending, standings = preview.panels, preview.pending, preview.standings
finalised = preview.final is not None


def _rerun_after(ok: bool) -> None:
    if ok:
        st.rerun()


# --- state --------------------------------------------------------------------------------
def _withdraw_dialog(final: FinalState) -> None:
    """Say which campaign goes back to changing results, and how many awards thaw."""
    awards = int(standings["award"].sum())
    st.warning(
        tr(
            "confirm.withdraw_body",
            campaign=campaign.name,
            sha=final.sha256[:12] + "…",
            count=awards,
        )
    )
    st.caption(tr("finalise.withdraw_explain"))
    reason = st.text_input(tr("finalise.reason"), key="unfinalise_reason")
    go, cancel = st.columns(2)
    if go.button(tr("confirm.withdraw_confirm"), type="primary", key="unfinalise_confirm"):
        _rerun_after(run_write(lambda s: unfinalise(s, actor, campaign, reason))[0])
    if cancel.button(tr("confirm.cancel"), key="unfinalise_cancel"):
        st.rerun()


if finalised and st.button(tr("finalise.withdraw_button"), key="unfinalise"):
    st.dialog(tr("confirm.withdraw_title"))(_withdraw_dialog)(preview.final)

# --- panel locks ----------------------------------------------------------------------------
st.subheader(tr("finalise.locks"))
for panel in panels:
    name = component_label(panel.key, tr)
    state, reason_cell, action = st.columns([2, 4, 2], vertical_alignment="bottom")
    state.markdown(
        f"**{name}** · "
        + (tr("finalise.locked", reason=panel.lock_reason) if panel.locked else tr("finalise.open"))
    )
    reason = reason_cell.text_input(
        tr("finalise.reason"), key=f"lock_reason_{panel.key}", disabled=finalised
    )
    label = "finalise.unlock" if panel.locked else "finalise.lock"
    if action.button(tr(label), key=f"lock_{panel.key}", disabled=finalised, width="stretch"):
        _rerun_after(
            run_write(
                lambda s, p=panel.key, r=reason, lock=not panel.locked: set_panel_lock(
                    s, actor, campaign, p, lock, r
                ),
                "finalise.saved",
            )[0]
        )

# --- decisions ------------------------------------------------------------------------------
if finalised:
    pass  # the frozen list has nothing left to decide
elif pending.empty:
    st.subheader(tr("finalise.pending"))
    st.caption(tr("finalise.nothing_pending"))
else:
    st.subheader(tr("finalise.pending"))
    shown = pd.DataFrame(
        {
            tr("finalise.kind"): pending["kind"].map(lambda k: tr(f"finalise.kind_{k}")),
            tr("standings.group"): pending["group"],
            tr("entry.code"): pending["code"],
            tr("entry.title"): pending["title"],
            tr("standings.rank"): pending["rank"],
            tr("standings.composite"): pending["composite"].map(lambda v: f"{v:.4f}"),
            tr("standings.award"): pending["award"].map(lambda a: "★" if a else ""),
            tr("finalise.decided"): pending["decided"].map(lambda d: "✓" if d else "—"),
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    ties = pending[pending["kind"] == "cutline_tie"]
    if len(ties):
        with st.form("tie_form"):
            st.markdown(f"**{tr('finalise.decide_tie')}**")
            code = st.selectbox(
                tr("entry.code"),
                list(ties["code"]),
                format_func=lambda c: f"{c} {ties.set_index('code').loc[c, 'title']}",
            )
            award = st.radio(
                tr("finalise.award_question"),
                [True, False],
                format_func=lambda a: tr("finalise.yes" if a else "finalise.no"),
                horizontal=True,
            )
            reason = st.text_input(tr("finalise.reason"))
            if st.form_submit_button(tr("finalise.record")):
                _rerun_after(
                    run_write(
                        lambda s: decide_tie(s, actor, campaign, code, award, reason),
                        "finalise.saved",
                    )[0]
                )

# --- committee overrides ----------------------------------------------------------------------
st.subheader(tr("finalise.overrides"))
overridden = standings[standings["override"].notna()]
for row in overridden.to_dict("records"):
    cells = st.columns([6, 2], vertical_alignment="center")
    cells[0].markdown(
        tr(
            "finalise.override_line",
            code=row["code"],
            title=row["title"],
            award=tr("finalise.yes" if row["award"] else "finalise.no"),
            reason=row["override"],
        )
    )
    if cells[1].button(tr("finalise.clear"), key=f"clear_{row['code']}", disabled=finalised):
        _rerun_after(
            run_write(
                lambda s, c=row["code"]: clear_override(
                    s, actor, campaign, c, tr("finalise.cleared_reason")
                ),
                "finalise.saved",
            )[0]
        )
if not finalised:
    titles = dict(zip(standings["code"], standings["title"], strict=True))
    with st.form("override_form"):
        st.markdown(f"**{tr('finalise.add_override')}**")
        code = st.selectbox(
            tr("entry.code"), list(standings["code"]), format_func=lambda c: f"{c} {titles[c]}"
        )
        grant = st.radio(
            tr("finalise.override_action"),
            [True, False],
            format_func=lambda a: tr("finalise.grant" if a else "finalise.revoke"),
            horizontal=True,
        )
        reason = st.text_input(tr("finalise.reason"))
        if st.form_submit_button(tr("finalise.apply")):
            _rerun_after(
                run_write(
                    lambda s: set_override(s, actor, campaign, code, grant, reason),
                    "finalise.saved",
                )[0]
            )
    # The group is picked outside the form, so that the quota field starts at that group's
    # current quota: a field starting anywhere else changes the outcome by one careless click.
    quotas = {g.group: g.quota for g in preview.groups}
    st.markdown(f"**{tr('finalise.quota')}**")
    group = st.selectbox(tr("standings.group"), list(quotas), key="quota_group")
    with st.form("quota_form"):
        quota = st.number_input(
            tr("finalise.quota_value"),
            min_value=0,
            step=1,
            value=quotas.get(group, 0),
            key=f"quota_value_{group}",
        )
        reason = st.text_input(tr("finalise.reason"))
        if st.form_submit_button(tr("finalise.apply")):
            _rerun_after(
                run_write(
                    lambda s: set_group_quota(s, actor, campaign, group, int(quota), reason),
                    "finalise.saved",
                )[0]
            )


# --- finalise and export ------------------------------------------------------------------------
def _decision_lines(decisions) -> None:
    for d in decisions:
        st.markdown(
            "- "
            + tr(
                "confirm.finalise_decision",
                code=d.code,
                title=d.title,
                award=tr("finalise.yes" if d.award else "finalise.no"),
                reason=d.reason,
            )
        )
    if not decisions:
        st.caption(tr("confirm.finalise_none"))


def _finalise_dialog(preview: FinalisePreview) -> None:
    """What the freeze will hold, the reasons it still needs, then the one button that freezes."""
    st.markdown(tr("confirm.finalise_intro", campaign=campaign.name))
    if preview.refusal is not None:
        st.error(tr("confirm.finalise_refused", reason=preview.refusal.markdown(tr.lang)))
    st.markdown(f"**{tr('confirm.finalise_groups', count=len(preview.groups))}**")
    for group in preview.groups:
        winners = ", ".join(markdown_literal(f"{c} {t}") for c, t in group.winners)
        st.markdown(
            tr(
                "confirm.finalise_group",
                group=group.group,
                quota=group.quota,
                count=len(group.winners),
            )
            + " — "
            + (winners or tr("confirm.finalise_no_winners"))
        )
    st.markdown(f"**{tr('confirm.finalise_overrides', count=len(preview.overrides))}**")
    _decision_lines(preview.overrides)
    st.markdown(f"**{tr('confirm.finalise_ties', count=len(preview.ties))}**")
    _decision_lines(preview.ties)
    with st.form("finalise_confirm_form", border=False):
        acknowledgements: dict[str, str] = {}
        if preview.provisional:
            st.markdown(f"**{tr('confirm.finalise_provisional', count=len(preview.provisional))}**")
        for code, title, _group in preview.provisional:
            acknowledgements[code] = st.text_input(
                tr("finalise.acknowledge_label", code=code, title=title), key=f"ack_{code}"
            )
        go, cancel = st.columns(2)
        confirmed = go.form_submit_button(
            tr("confirm.finalise_confirm"),
            type="primary",
            disabled=preview.refusal is not None,
            width="stretch",
        )
        cancelled = cancel.form_submit_button(tr("confirm.cancel"), width="stretch")
    if confirmed:
        _rerun_after(
            run_write(lambda s: finalise(s, actor, campaign, acknowledgements), "finalise.done")[0]
        )
    if cancelled:
        st.rerun()


st.subheader(tr("finalise.finalise"))
if not finalised:
    st.caption(tr("finalise.finalise_explain"))
    if len(preview.provisional):
        st.caption(tr("finalise.acknowledge_explain", count=len(preview.provisional)))
    if st.button(tr("confirm.finalise_open"), type="primary", key="finalise"):
        st.dialog(tr("confirm.finalise_title"), width="large")(_finalise_dialog)(preview)


def _workbook() -> bytes:
    """Built only when the button is pressed; the export is audited.

    It reads the standings this page showed from the cache of the same data version.
    """
    return context.database().write(lambda s: export_workbook(s, actor, campaign))


st.download_button(
    tr("finalise.download"),
    data=_workbook,
    file_name=f"{campaign.slug}-final.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
    key="download_export",
)
st.caption(tr("confirm.export_final") if finalised else tr("finalise.download_note"))


def _certificates() -> bytes:
    """Built only when pressed, from the snapshot; making it is audited."""
    return context.database().write(lambda s: certificates(s, actor, campaign, tr.lang))


def _casebook() -> bytes:
    store = context.asset_store()
    return context.database().write(lambda s: casebook(s, actor, campaign, store, tr.lang))


if finalised:
    left, right = st.columns(2)
    left.download_button(
        tr("publication.certificates_button"),
        data=_certificates,
        file_name=f"{campaign.slug}-certificates.pdf",
        mime="application/pdf",
        icon=":material/workspace_premium:",
        key="download_certificates",
    )
    right.download_button(
        tr("publication.casebook_button"),
        data=_casebook,
        file_name=f"{campaign.slug}-casebook.pdf",
        mime="application/pdf",
        icon=":material/menu_book:",
        key="download_casebook",
    )
    st.caption(tr("publication.note"))


# --- results notice (结果公示) -------------------------------------------------------------------
def _publish_dialog() -> None:
    """What the public will read, from the same builder as the public page, then publish."""
    with context.database().read() as session:
        shown = notice_preview(session, actor, campaign)
    st.markdown(tr("notice_admin.publish_body", campaign=campaign.name, sha=shown.sha256))
    names = "、".join(tr.plain(f"notice.field_{f}") for f in shown.fields)
    st.markdown(
        tr("notice_admin.publish_fields", fields=names)
        if names
        else tr("notice_admin.publish_no_fields")
    )
    for group in shown.groups:
        titles = "; ".join(f"{w.rank}. {w.title}" for w in group.winners)
        st.markdown(f"**{markdown_literal(group.label)}** — {markdown_literal(titles)}")
    go, cancel = st.columns(2)
    if go.button(tr("notice_admin.publish_confirm"), type="primary", key="notice_publish_go"):
        ok = run_write(lambda s: publish_notice(s, actor, campaign), "notice_admin.published_toast")
        _rerun_after(ok[0])
    if cancel.button(tr("confirm.cancel"), key="notice_publish_cancel"):
        st.rerun()


def _withdraw_notice_dialog() -> None:
    st.warning(tr("notice_admin.withdraw_body", campaign=campaign.name))
    reason = st.text_input(tr("notice_admin.reason"), key="notice_withdraw_reason")
    go, cancel = st.columns(2)
    if go.button(tr("notice_admin.withdraw_confirm"), type="primary", key="notice_withdraw_go"):
        ok = run_write(
            lambda s: withdraw_notice(s, actor, campaign, reason), "notice_admin.withdrawn_toast"
        )
        _rerun_after(ok[0])
    if cancel.button(tr("confirm.cancel"), key="notice_withdraw_cancel"):
        st.rerun()


def _notice_section(state: NoticeState) -> None:
    st.subheader(tr("notice_admin.heading"))
    if not state.finalised:
        st.caption(tr("notice_admin.before_final"))
        return
    if state.published_at is None:
        st.info(tr("notice_admin.not_published"))
        if st.button(tr("notice_admin.publish_button"), key="notice_publish"):
            st.dialog(tr("notice_admin.publish_title"), width="large")(_publish_dialog)()
        return
    st.success(
        tr(
            "notice_admin.published",
            at=state.published_at.strftime("%Y-%m-%d %H:%M"),
            sha=(state.sha256 or "")[:12] + "…",
        )
    )
    link, withdraw = st.columns(2)
    # A relative address: the public page sits next to this one, under any base path.
    link.link_button(
        tr.plain("notice_admin.link"),
        f"notice?campaign={quote(campaign.slug)}",
        icon=":material/open_in_new:",
    )
    if withdraw.button(tr("notice_admin.withdraw_button"), key="notice_withdraw"):
        st.dialog(tr("notice_admin.withdraw_title"))(_withdraw_notice_dialog)()


_notice_section(notice)

# --- organisations ------------------------------------------------------------------------------
st.subheader(tr("finalise.organisations"))
units = view.organisations
if len(units):
    figure = charts.organisations_chart(units, tr)
    st.plotly_chart(figure, width="stretch")
    st.dataframe(
        units.rename(
            columns={
                "recommender": tr("finalise.org_unit"),
                "recommended": tr("finalise.org_recommended"),
                "shortlisted": tr("finalise.org_shortlisted"),
                "awarded": tr("finalise.org_awarded"),
                "mean_composite": tr("finalise.org_mean"),
            }
        ).style.format(precision=2),
        hide_index=True,
        width="stretch",
    )
