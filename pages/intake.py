"""Intake: imports with their report before saving, pre-check, and the shortlist."""

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from pages._banner import final_banner
from pages._shared import (
    current_actor,
    in_campaign,
    pick_campaign,
    require_page,
    run_write,
    sign_out_if_inactive,
    t,
)
from scoring import context
from scoring.errors import ReviewDeskError, rendered
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.importers.scores import apply_scores_import, plan_scores_import
from scoring.importers.templates import XLSX, build_template, template_name
from scoring.importers.votes import apply_votes_import, plan_votes_import
from scoring.literal import markdown_literal
from scoring.permissions import can_manage
from scoring.services.entries import entries_frame, shortlist, top_by_votes, unshortlist
from scoring.services.precheck import decide, flag_messages, precheck_flags

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("intake.title"))
st.caption(markdown_literal(campaign.name))
final_banner(actor, campaign)
FLASH = "intake_flash"


def _done(tab: str, message: str) -> None:
    """Rerun so every count on the page is read afresh; the tab then says what changed."""
    st.session_state[FLASH] = (tab, in_campaign(message))
    st.rerun()


def _flash(tab: str) -> None:
    if st.session_state.get(FLASH, ("", ""))[0] == tab:
        st.success(st.session_state.pop(FLASH)[1])


def _problems_table(problems) -> None:
    """The report as a table: its cells are plain text, so file names and values stay as typed."""
    st.dataframe(
        pd.DataFrame(
            {
                tr("intake.row"): [p.row if p.row is not None else "—" for p in problems],
                tr("intake.column"): [_headers().get(p.column, p.column or "—") for p in problems],
                tr("intake.reason"): [
                    tr.plain(p.key, **rendered(p.params, tr.lang)) for p in problems
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _headers() -> dict[str, str]:
    """The import's field names as the page calls them."""
    return {
        "code": tr("entry.code"),
        "title": tr("entry.title"),
        "kind": tr("setup.kind"),
        "applicant": tr("entry_page.applicant"),
        "recommender": tr("entry_page.recommender"),
        "category": tr("entry.category"),
        "domain": tr("entry.domain"),
        "summary": tr("entry_page.summary"),
        "votes": tr("panel.votes"),
        "images": tr("intake.images"),
        "materials": tr("entry_page.materials"),
        "status": tr("entry.status"),
    }


@contextmanager
def _progress_bar(step: str, total: int = 0) -> Iterator[Callable[[str, int, int], None]]:
    """A bar saying which step of an import runs and n of N, here; gone once it ends.

    It opens on ``step`` at 0 of ``total``, and yields ``show(step, done, total)`` for the
    importers' progress callbacks, so the bar moves while the script is inside the import.
    """
    slot = st.empty()

    def show(step: str, done: int, total: int) -> None:
        text = tr(f"intake.progress_{step}", done=f"{done:,}", total=f"{total:,}")
        slot.progress(min(done / total, 1.0) if total else 0.0, text=text)

    show(step, 0, total)
    try:
        yield show
    finally:
        slot.empty()


def _saved(upload, folder: Path) -> Path:
    """An uploaded file kept on disk for the importer (zips are read member by member)."""
    target = folder / Path(upload.name).name
    target.write_bytes(upload.getvalue())
    return target


def _template_button(kind: str) -> None:
    """The kind's template, built only when clicked, its example row from this campaign."""

    def workbook() -> bytes:
        with context.database().read() as session:
            return build_template(session, actor, kind, campaign)

    st.download_button(
        tr("templates.download"),
        data=workbook,
        file_name=template_name(kind, campaign),
        mime=XLSX,
        key=f"template_{kind}",
        on_click="ignore",
    )


def _entries_tab() -> None:
    st.caption(tr("intake.entries_explain"))
    _flash("entries")
    _template_button("entries")
    # A new key after each import empties the uploaders: the saved file is not checked again.
    round_ = st.session_state.setdefault("entries_upload_round", 0)
    workbook = st.file_uploader(
        tr("intake.workbook"), type=["xlsx", "csv"], key=f"entries_workbook_{round_}"
    )
    assets = st.file_uploader(tr("intake.assets"), type=["zip"], key=f"entries_assets_{round_}")
    if workbook is None:
        return
    with tempfile.TemporaryDirectory(dir=context.asset_store().root) as scratch:
        folder = Path(scratch)
        book = _saved(workbook, folder)
        archive = _saved(assets, folder) if assets is not None else None
        try:
            with _progress_bar("read") as show, context.database().read() as session:
                plan = plan_entries_import(
                    session,
                    actor,
                    campaign,
                    book,
                    archive,
                    store=context.asset_store(),
                    progress=show,
                )
        except ReviewDeskError as error:  # finalised or no longer an organiser: nothing stored
            sign_out_if_inactive(error)
            st.error(error.markdown(tr.lang))
            return
        if not plan.report.ok:
            st.error(tr("intake.refused", count=len(plan.report.problems)))
            _problems_table(plan.report.problems)
            return
        st.success(tr("intake.ready", entries=len(plan.entries), files=plan.file_count))
        for warning in plan.report.warnings:  # an unknown column names a header of the file
            st.caption(markdown_literal(f"• {warning.message(tr.lang)}"))
        preview = pd.DataFrame([p.values for p in plan.entries]).rename(columns=_headers())
        st.dataframe(preview, hide_index=True, width="stretch", height=240)
        if st.button(tr("intake.confirm"), type="primary", key="entries_confirm"):
            # This run's plan is fresh; the write re-checks codes and the campaign's state.
            with _progress_bar("write", len(plan.entries)) as show:
                ok, count = run_write(
                    lambda session: apply_entries_import(session, actor, plan, progress=show)
                )
            if ok:
                st.session_state["entries_upload_round"] = round_ + 1
                _done("entries", tr("cli.entries_imported", count=count))


def _votes_tab() -> None:
    """The file is checked as soon as it is chosen (a row per entry: no time), and saved
    only on confirmation, after the report and any warning (public votes it replaces)."""
    st.caption(tr("intake.votes_explain"))
    _flash("votes")
    _template_button("votes")
    round_ = st.session_state.setdefault("votes_upload_round", 0)
    upload = st.file_uploader(
        tr("intake.workbook"), type=["xlsx", "csv"], key=f"votes_file_{round_}"
    )
    if upload is None:
        return
    with context.database().read() as session:  # read and check outside the write lock
        plan = plan_votes_import(session, campaign, Path(upload.name), upload.getvalue())
    if not plan.report.ok:
        st.error(tr("intake.refused", count=len(plan.report.problems)))
        _problems_table(plan.report.problems)
        return
    st.success(tr("tally.votes_ready", count=len(plan.tallies)))
    for warning in plan.report.warnings:  # public votes replaced, a column ignored
        st.warning(markdown_literal(warning.message(tr.lang)))
    preview = pd.DataFrame(
        [(code, votes) for code, (_, votes) in plan.tallies.items()],
        columns=[tr("entry.code"), tr("panel.votes")],
    )
    st.dataframe(preview, hide_index=True, width="stretch")
    if st.button(tr("intake.confirm"), type="primary", key="votes_confirm"):
        ok, count = run_write(lambda session: apply_votes_import(session, actor, plan))
        if ok:
            st.session_state["votes_upload_round"] = round_ + 1
            _done("votes", tr("cli.votes_imported", count=count))


def _scores_tab() -> None:
    st.caption(tr("intake.scores_explain"))
    _template_button("scores")
    upload = st.file_uploader(tr("intake.workbook"), type=["xlsx", "csv"], key="scores_file")
    submit = st.checkbox(tr("intake.submit_complete"), key="scores_submit")
    if upload is None or not st.button(tr("intake.import"), key="scores_import"):
        return
    path, data = Path(upload.name), upload.getvalue()
    # Scores files are up to 400,000 rows: the bar says where the import is.
    with _progress_bar("read") as show:
        with context.database().read() as session:  # read and check outside the write lock
            plan = plan_scores_import(session, campaign, path, submit=submit, data=data)
            show("sheets", 0, plan.sheets)

        def work(session):
            return apply_scores_import(
                session, actor, plan, progress=lambda done, total: show("sheets", done, total)
            )

        ok, result = run_write(work)
    if ok:
        st.success(in_campaign(tr("cli.scores_imported", **result)))


def _precheck_tab() -> None:
    _flash("precheck")
    with context.database().read() as session:
        frame = precheck_flags(
            session, actor, campaign, context.asset_store(), verify_content=False
        )
    # astype(bool): on an empty frame an object mask would select columns, not rows
    flagged = frame[frame["flags"].map(bool).astype(bool)]
    cells = st.columns(3)
    cells[0].metric(tr("intake.entries"), len(frame))
    cells[1].metric(tr("intake.flagged"), len(flagged))
    cells[2].metric(tr("status.accepted"), int((frame["status"] == "accepted").sum()))
    only_flagged = st.toggle(tr("intake.only_flagged"), value=True, key="precheck_flagged")
    shown = flagged if only_flagged else frame
    st.dataframe(
        pd.DataFrame(
            {
                tr("entry.code"): shown["code"],
                tr("entry.title"): shown["title"],
                tr("entry_page.applicant"): shown["applicant"],
                tr("entry.status"): shown["status"].map(lambda s: tr(f"status.{s}")),
                tr("intake.flags"): shown["flags"].map(
                    lambda flags: "；".join(flag_messages(flags, tr.lang))
                ),
                tr("intake.reason"): shown["status_reason"],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    with st.form("precheck_decide"):
        codes = st.multiselect(
            tr("intake.decide_codes"),
            list(frame["code"]),
            placeholder=tr("gallery.any"),
        )
        decision = st.radio(
            tr("intake.decision"),
            ["accepted", "rejected"],
            format_func=lambda s: tr(f"status.{s}"),
            horizontal=True,
        )
        reason = st.text_input(tr("intake.reason"))
        applied = st.form_submit_button(tr("intake.apply")) and codes
    if applied and decision == "rejected":
        st.dialog(tr("confirm.reject_title"))(_confirm_reject)(tuple(codes), reason)
    elif applied:
        _decide(list(codes), decision, reason)


def _decide(codes: list[str], decision: str, reason: str) -> None:
    ok, count = run_write(lambda s: decide(s, actor, campaign, codes, decision, reason))
    if ok:
        _done("precheck", tr("intake.decided", count=count))


def _confirm_reject(codes: tuple[str, ...], reason: str) -> None:
    """A bulk rejection takes entries out of the selection: say how many, and where, first."""
    st.warning(
        tr(
            "confirm.reject_body",
            campaign=campaign.name,
            count=len(codes),
            codes=", ".join(codes),
            reason=reason.strip() or "—",
        )
    )
    go, cancel = st.columns(2)
    label = tr("confirm.reject_confirm", count=len(codes))
    if go.button(label, type="primary", key="reject_go", width="stretch"):
        _decide(list(codes), "rejected", reason)
    if cancel.button(tr("confirm.cancel"), key="reject_cancel", width="stretch"):
        st.rerun()


def _shortlist_tab() -> None:
    _flash("shortlist")
    with context.database().read() as session:
        frame = entries_frame(session, actor, campaign)
    accepted = list(frame.loc[frame["status"] == "accepted", "code"])
    chosen = list(frame.loc[frame["status"] == "shortlisted", "code"])
    st.metric(tr("status.shortlisted"), len(chosen))
    top, go = st.columns([1, 3], vertical_alignment="bottom")
    per_group = top.number_input(tr("intake.top_n"), min_value=1, value=3, step=1)
    if go.button(tr("intake.propose")):
        with context.database().read() as session:
            st.session_state["shortlist_pick"] = [
                c for c in top_by_votes(session, actor, campaign, int(per_group)) if c in accepted
            ]
    pick = st.multiselect(
        tr("intake.to_shortlist"), accepted, key="shortlist_pick", placeholder=tr("gallery.any")
    )
    if st.button(tr("intake.shortlist"), type="primary", disabled=not pick):
        ok, count = run_write(lambda s: shortlist(s, actor, campaign, codes=pick))
        if ok:
            _done("shortlist", tr("cli.shortlisted", count=count))
    drop = st.multiselect(
        tr("intake.to_unshortlist"), chosen, key="unshortlist_pick", placeholder=tr("gallery.any")
    )
    if st.button(tr("intake.unshortlist"), disabled=not drop):
        ok, count = run_write(lambda s: unshortlist(s, actor, campaign, drop))
        if ok:
            _done("shortlist", tr("intake.unshortlisted", count=count))


entries_tab, votes_tab, scores_tab, precheck_tab, shortlist_tab = st.tabs(
    [
        tr("intake.tab_entries"),
        tr("intake.tab_votes"),
        tr("intake.tab_scores"),
        tr("intake.tab_precheck"),
        tr("intake.tab_shortlist"),
    ]
)
with entries_tab:
    _entries_tab()
with votes_tab:
    _votes_tab()
with scores_tab:
    _scores_tab()
with precheck_tab:
    _precheck_tab()
with shortlist_tab:
    _shortlist_tab()
