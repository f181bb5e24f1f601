"""One entry: its images large, its materials to read or download, and the reviewer's sheet."""

from __future__ import annotations

from typing import NoReturn

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.errors import StreamlitAPIException

from pages._dossier import dossier_button
from pages._entry_layout import (
    MATERIAL_KEY,
    SHEET_KEY,
    clock_now,
    entry_style,
    leave_guard,
)
from pages._guidance import comment_key, criterion_comment, level_guide
from pages._shared import (
    DISPLAY_SIZE,
    ENTRY_PAGE,
    current_actor,
    entry_edit_link,
    pick_campaign,
    progress_bar,
    run_write,
    sign_out_if_inactive,
    t,
    thumbnail,
)
from scoring import charts, context
from scoring.errors import ReviewDeskError, StaleEdit
from scoring.literal import Markdown, html_literal, markdown_literal
from scoring.services.review import (
    AssetView,
    EntryView,
    SheetView,
    declare_conflict,
    entry_view,
    next_to_score,
    sheet_view,
)
from scoring.services.sheets import point_problem, save_own_sheet
from scoring.tables import component_label

GALLERY_PAGE = "pages/entries.py"

actor = current_actor()
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

code = st.query_params.get("code", "")
st.page_link(GALLERY_PAGE, label=tr("entry_page.back"))
if not code:
    st.info(tr("entry_page.pick"))
    st.stop()
try:
    with context.database().read() as session:
        entry = entry_view(session, actor, campaign, code)
except ReviewDeskError as error:
    st.error(error.markdown(tr.lang))
    st.stop()


def _number(value: float, spec: str = "g") -> Markdown:
    """A number for a message: digits and a point, shown as they are without escaping.

    Escaped, the point of "0.5" would reach a widget's aria-label as "0\\.5".
    """
    return Markdown(format(value, spec))


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def _file_type(asset: AssetView) -> str:
    return asset.filename.rsplit(".", 1)[-1].upper() if "." in asset.filename else asset.mime


def _images(entry: EntryView) -> None:
    if not entry.images:
        st.info(tr("entry_page.no_images"))
        return
    count = len(entry.images)
    key = f"image_{entry.code}"
    index = min(st.session_state.get(key, 0), count - 1)
    shown = thumbnail(entry.images[index].sha256, *DISPLAY_SIZE)
    if shown is None:
        st.warning(tr("entry_page.image_unreadable"))
    else:
        st.image(str(shown), width="stretch")
    steps = st.columns([1, 2, 1])

    def step(by: int) -> None:
        st.session_state[key] = (index + by) % count

    # Callbacks, not st.rerun(): a run cut short would drop the PDF viewer's file mid-load.
    steps[0].button(
        tr("entry_page.previous"),
        key=f"prev_{entry.code}",
        width="stretch",
        on_click=step,
        args=(-1,),
    )
    position = tr.plain("entry_page.image_of", index=index + 1, count=count)
    steps[1].markdown(
        f"<div style='text-align:center'>{html_literal(position)}</div>",
        unsafe_allow_html=True,
    )
    steps[2].button(
        tr("entry_page.next"), key=f"next_{entry.code}", width="stretch", on_click=step, args=(1,)
    )


def _materials(entry: EntryView) -> None:
    st.subheader(tr("entry_page.materials"))
    dossier_button(actor, campaign, entry.code, key=f"dossier_{entry.code}")
    if not entry.materials:
        st.caption(tr("entry_page.no_materials"))
        return
    store = context.asset_store()
    for number, asset in enumerate(entry.materials):
        with st.container(border=True):
            name, kind, size, action = st.columns([4, 1, 1, 3], vertical_alignment="center")
            name.text(asset.filename)
            kind.caption(markdown_literal(_file_type(asset)))
            size.caption(_size(asset.size_bytes))
            action.download_button(
                tr("entry_page.download"),
                data=lambda sha=asset.sha256: store.read(sha),
                file_name=asset.filename,
                mime=asset.mime,
                key=f"download_{entry.code}_{number}",
                icon=":material/download:",
            )
            if asset.mime == "application/pdf":
                with st.expander(tr("entry_page.read_pdf")):
                    st.pdf(store.read(asset.sha256), height=720)


def _details(entry: EntryView) -> None:
    st.caption(
        " · ".join(markdown_literal(part) for part in (entry.category, entry.domain))
        + f" · {tr(f'kind.{entry.kind}')}"
    )
    facts = st.columns(2)
    for column, label, value in (
        (facts[0], "entry_page.applicant", entry.applicant),
        (facts[1], "entry_page.recommender", entry.recommender),
    ):
        column.caption(tr(label))
        column.text(value if value is not None else tr("entry_page.hidden"))
    st.caption(tr("entry_page.summary"))
    st.text(entry.summary or "—")


# --- the score sheet ------------------------------------------------------------------------


def _keys(entry_code: str) -> dict[str, str]:
    return {
        "loaded": f"sheet_loaded_{entry_code}",
        "stale": f"sheet_stale_{entry_code}",
        "confirming": f"sheet_confirming_{entry_code}",
        "autosaved": f"sheet_autosaved_{entry_code}",
        "autosave_error": f"sheet_autosave_error_{entry_code}",
    }


def _rerun_sheet() -> NoReturn:
    """Rerun the sheet alone after it changed: the images and the PDF viewer stay as drawn.

    A run of the whole page took 1–3 s after each save. Only a run of the sheet itself can
    be narrowed to it; a sheet drawn by a run of the whole page (AppTest knows no other
    kind) reruns the page.
    """
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


def _loaded(entry_code: str) -> dict[str, int]:
    """Which widget generation shows the sheet, and the stored version it was loaded from."""
    return st.session_state.get(_keys(entry_code)["loaded"], {"generation": 0, "version": 0})


def _points_key(entry_code: str, generation: int, criterion: str) -> str:
    return f"points_{entry_code}_{generation}_{criterion}"


def _comment_key(entry_code: str, generation: int) -> str:
    return f"sheet_comment_{entry_code}_{generation}"


def _load_into_widgets(sheet: SheetView, entry_code: str) -> int:
    """Decide whether the widgets show the stored sheet afresh; returns their generation.

    The widgets take the stored values as their ``value=``, under keys of a new generation,
    and are never told a value through ``st.session_state``: a widget first drawn with its
    default (0, the minimum) and told the stored value afterwards showed 0 in a fresh
    session for a moment, and a run in that moment took the 0 as typed (a stored draft of
    23/22/12/12 was once submitted as 0.00). Keys the browser has never seen have no earlier
    value there, so the stored value is the first one drawn.

    The sheet is loaded when the widgets hold nothing of it: first open, back from another
    page (Streamlit forgets widgets a run no longer draws) or after "reload". While the
    reviewer stays on the page, what they typed is kept, even across a failed save.
    """
    keys = _keys(entry_code)
    loaded = st.session_state.get(keys["loaded"])
    if loaded is not None and all(
        _points_key(entry_code, loaded["generation"], c.key) in st.session_state
        for c in sheet.criteria
    ):
        return loaded["generation"]
    generation = loaded["generation"] + 1 if loaded else 1
    st.session_state[keys["loaded"]] = {"generation": generation, "version": sheet.version}
    st.session_state.pop(keys["stale"], None)
    st.session_state.pop(keys["confirming"], None)
    return generation


def _forget_widgets(sheet: SheetView, entry_code: str) -> None:
    """Drop what the widgets hold, so that the next run loads the stored sheet."""
    generation = _loaded(entry_code)["generation"]
    for criterion in sheet.criteria:
        st.session_state.pop(_points_key(entry_code, generation, criterion.key), None)
        st.session_state.pop(comment_key(entry_code, generation, criterion.key), None)


def _typed_points(sheet: SheetView, entry_code: str) -> dict[str, float | None]:
    generation = _loaded(entry_code)["generation"]
    typed = {}
    for criterion in sheet.criteria:
        value = st.session_state.get(_points_key(entry_code, generation, criterion.key))
        typed[criterion.key] = None if value is None else float(value)
    return typed


def _typed_comments(sheet: SheetView, entry_code: str) -> dict[str, str]:
    """What each criterion's comment box holds (the stored comment before it was drawn)."""
    generation = _loaded(entry_code)["generation"]
    return {
        c.key: st.session_state.get(
            comment_key(entry_code, generation, c.key), sheet.comments.get(c.key, "")
        )
        or ""
        for c in sheet.criteria
    }


def _problems(sheet: SheetView, typed: dict[str, float | None]) -> dict[str, str]:
    """Why a typed value cannot be saved, by criterion key (the rule lives in scoring/)."""
    problems = {}
    for criterion in sheet.criteria:
        value = typed.get(criterion.key)
        if value is not None and (problem := point_problem(criterion, value)):
            problems[criterion.key] = tr(problem[0], **problem[1])
    return problems


def _save(sheet: SheetView, entry_code: str, submit: bool) -> bool:
    keys = _keys(entry_code)
    loaded = _loaded(entry_code)
    points = _typed_points(sheet, entry_code)
    comments = _typed_comments(sheet, entry_code)
    comment = st.session_state.get(_comment_key(entry_code, loaded["generation"]), sheet.comment)
    expected = loaded["version"] if keys["loaded"] in st.session_state else sheet.version

    def work(session):
        saved = save_own_sheet(
            session,
            actor,
            entry_id=sheet.entry_id,
            points=points,
            comment=comment,
            submit=submit,
            expected_version=expected,
            comments=comments,
        )
        return saved.version

    def remember_stale(error: ReviewDeskError) -> None:
        if isinstance(error, StaleEdit):
            st.session_state[keys["stale"]] = True

    ok, version = run_write(
        work, "score.submitted" if submit else "score.saved_draft", on_error=remember_stale
    )
    if ok:
        st.session_state[keys["loaded"]] = {**loaded, "version": version}
        st.session_state.pop(keys["stale"], None)
    return ok


def _autosave(sheet: SheetView, entry_code: str) -> None:
    """A box of the sheet was left (or the typing paused): keep what it holds as a draft.

    The callback of every box. It saves a draft only, and only of a sheet that is one (or
    new): a submitted sheet changes through its confirmed revision alone, so an autosave
    never submits and never takes a submission back. The tab's loaded version goes with
    it, as with the button: a sheet changed in another tab meanwhile is refused (the
    reload is offered) instead of overwritten, and autosaving pauses until it is reloaded.
    Values that cannot be saved (off the step) wait, with their reason shown in the sheet.
    """
    keys = _keys(entry_code)
    if (
        not sheet.editable
        or sheet.status == "submitted"
        or st.session_state.get(keys["stale"])
        or st.session_state.get(keys["confirming"])
    ):
        return
    typed = _typed_points(sheet, entry_code)
    if _problems(sheet, typed):
        return
    loaded = _loaded(entry_code)
    comment = st.session_state.get(_comment_key(entry_code, loaded["generation"]), sheet.comment)

    def work(session) -> int:
        return save_own_sheet(
            session,
            actor,
            entry_id=sheet.entry_id,
            points=typed,
            comment=comment,
            submit=False,
            expected_version=loaded["version"],
            comments=_typed_comments(sheet, entry_code),
        ).version

    try:
        version = context.database().write(work)
    except ReviewDeskError as error:
        if isinstance(error, StaleEdit):
            st.session_state[keys["stale"]] = True
        st.session_state[keys["autosave_error"]] = error.markdown(tr.lang)
        return
    st.session_state[keys["loaded"]] = {**loaded, "version": version}
    st.session_state[keys["autosaved"]] = clock_now()


def _autosave_status(sheet: SheetView, entry_code: str, changed: bool) -> None:
    """When the draft was last saved by itself, or why it was not (under the badge)."""
    keys = _keys(entry_code)
    error = st.session_state.pop(keys["autosave_error"], None)
    if st.session_state.get(keys["stale"]):
        st.warning(tr("entry_layout.autosave_paused"), icon=":material/sync_problem:")
    elif error is not None:
        st.error(tr("entry_layout.autosave_failed", reason=error), icon=":material/error:")
    if not sheet.editable:
        return
    if sheet.status == "submitted":
        if changed:
            st.caption(tr("entry_layout.submitted_unsaved"))
    elif (saved_at := st.session_state.get(keys["autosaved"])) and sheet.status == "draft":
        st.caption(tr("entry_layout.autosaved", time=saved_at))
    else:
        st.caption(tr("entry_layout.autosave_hint"))


def _changed(
    sheet: SheetView, typed: dict[str, float | None], comment: str, comments: dict[str, str]
) -> bool:
    """Whether the boxes hold anything the stored sheet does not (unsaved for the guard)."""
    return (
        (comment or "") != (sheet.comment or "")
        or any(typed.get(key) != sheet.points.get(key) for key in typed)
        or any(text.strip() != sheet.comments.get(key, "") for key, text in comments.items())
    )


def _confirmation(sheet: SheetView, entry_code: str, total: float) -> None:
    """The question before a submission, asked inside the sheet, which then reruns alone.

    A dialog closes only with a run of the whole page (the images and the PDF viewer again,
    1–3 s after each submission). While the question is open the sheet's boxes are locked,
    as under a dialog, so the total it names is the one submitted. A refused submission
    keeps the question open with the reason; "cancel" goes back to the sheet.
    """
    keys = _keys(entry_code)
    with st.container(border=True, key=f"confirm_box_{entry_code}"):
        st.markdown(f"**{tr('score.confirm_title')}**")
        st.write(tr("score.confirm_text", code=entry_code, total=_number(total, ".2f")))
        confirm, cancel = st.columns(2)
        pressed = confirm.button(
            tr("score.confirm"), type="primary", width="stretch", key="confirm_submit"
        )
        if pressed and _save(sheet, entry_code, submit=True):
            st.session_state.pop(keys["confirming"], None)
            _rerun_sheet()
        if cancel.button(tr("score.cancel"), width="stretch", key="cancel_submit"):
            st.session_state.pop(keys["confirming"], None)
            _rerun_sheet()


def _ask_to_submit(entry_code: str) -> NoReturn:
    st.session_state[_keys(entry_code)["confirming"]] = True
    _rerun_sheet()


def _criterion_input(
    sheet: SheetView, entry_code: str, generation: int, criterion, disabled: bool
) -> None:
    """One criterion's input, always a decimal one, with the reason a typed value is refused.

    An integer input would round 12.5 to 12 in the browser before the server sees it, so
    every criterion takes what was typed and ``point_problem`` (scoring/) names the
    criterion and its step when the value is off the step; nothing is changed silently.
    """
    widget = _points_key(entry_code, generation, criterion.key)
    st.markdown(f"**{markdown_literal(criterion.name)}**")
    if criterion.description:
        st.caption(markdown_literal(criterion.description))
    stored = sheet.points.get(criterion.key)
    st.number_input(
        tr("score.range", maximum=_number(criterion.max_points), step=_number(criterion.step)),
        min_value=0.0,
        max_value=float(criterion.max_points),
        value=None if stored is None else float(stored),
        step=float(criterion.step),
        format="%g",
        key=widget,
        placeholder=tr("score.unscored"),
        disabled=disabled,
        on_change=_autosave,
        args=(sheet, entry_code),
    )
    value = st.session_state.get(widget)
    if value is not None and (problem := point_problem(criterion, float(value))):
        st.error(tr(problem[0], **problem[1]), icon=":material/error:")
    points = None if value is None else float(value)
    level_guide(criterion, points)
    criterion_comment(
        criterion,
        key=comment_key(entry_code, generation, criterion.key),
        value=sheet.comments.get(criterion.key, ""),
        points=points,
        at_extremes=sheet.comment_at_extremes,
        disabled=disabled,
        on_change=_autosave,
        args=(sheet, entry_code),
    )


def _running_total(sheet: SheetView, typed: dict[str, float | None], problems) -> float | None:
    missing = [k for k, v in typed.items() if v is None]
    maximum = sum(c.max_points for c in sheet.criteria)
    if missing or problems:
        st.metric(tr("score.total"), "—")
        if problems:
            st.caption(tr("sheet_safety.problem_hint"))
        else:
            st.caption(tr("score.total_pending", count=len(missing)))
        return None
    total = 100.0 * sum(v for v in typed.values() if v is not None) / maximum
    st.metric(tr("score.total"), f"{total:.2f}")
    return total


def _status(slot: DeltaGenerator, sheet_status: str) -> None:
    """The sheet's badge in ``slot`` (a placeholder): new, draft (not counted), or submitted."""
    key = {"new": "score.status_new", "draft": "score.status_draft"}.get(
        sheet_status, "score.status_submitted"
    )
    slot.badge(tr(key), color={"new": "gray", "draft": "blue"}.get(sheet_status, "green"))


def _progress(slot: DeltaGenerator) -> None:
    """The reviewer's progress bar in ``slot``: one element, as the bar was before it had one."""
    with slot:
        progress_bar(actor, campaign)


@st.fragment
def score_sheet(entry_code: str) -> None:
    """The sheet reruns alone while the reviewer types and saves: the images stay as they are.

    The reviewer's progress is drawn here too, so that a save or a submission shows in it
    without a run of the page. The badge and the progress sit in placeholders: a draft saved
    in this run is shown by drawing them again in place, instead of by a second run of the
    whole sheet after the save.
    """
    try:
        with context.database().read() as session:
            sheet = sheet_view(session, actor, campaign, entry_code)
    except ReviewDeskError as error:
        sign_out_if_inactive(error)  # deactivated meanwhile: the sign-in page, not a traceback
        raise
    keys = _keys(entry_code)
    generation = _load_into_widgets(sheet, entry_code)
    st.subheader(tr("score.panel", panel=component_label(sheet.panel, tr)))
    badge, progress = st.empty(), st.empty()
    _status(badge, sheet.status)
    _progress(progress)
    autosave_status = st.container()
    read_only = not sheet.editable
    confirming = st.session_state.get(keys["confirming"], False) and not read_only
    if sheet.finalised:
        st.info(tr("score.finalised"))
    elif sheet.locked:
        st.info(
            tr("score.locked", reason=sheet.lock_reason)
            if sheet.lock_reason
            else tr("score.locked_no_reason")
        )
    if sheet.spread:
        with st.container(border=True):
            st.markdown(f"**{tr('score.spread_title')}**")
            st.caption(tr("score.spread_caption", count=len(sheet.spread)))
            st.plotly_chart(
                charts.meeting_spread(sheet.spread, sheet.total, tr),
                width="stretch",
                config={"displayModeBar": False},
            )
    for criterion in sheet.criteria:
        _criterion_input(sheet, entry_code, generation, criterion, disabled=read_only or confirming)
    typed = _typed_points(sheet, entry_code)
    total = _running_total(sheet, typed, _problems(sheet, typed))
    comment = st.text_area(
        tr("score.comment"),
        value=sheet.comment,
        key=_comment_key(entry_code, generation),
        placeholder=tr("score.comment_hint"),
        disabled=read_only or confirming,
        max_chars=2000,
        on_change=_autosave,
        args=(sheet, entry_code),
    )
    draft_saved = not read_only and _actions(sheet, entry_code, typed, comment, total, confirming)
    # After the actions: a save refused in this very run offers the reload right away.
    if st.session_state.get(keys["stale"]) and st.button(
        tr("score.stale_reload"), key=f"reload_{entry_code}", icon=":material/sync:"
    ):
        _forget_widgets(sheet, entry_code)
        _rerun_sheet()
    if draft_saved:
        _status(badge, "draft")
        _progress(progress)  # read again, after the save
    changed = _changed(sheet, typed, comment, _typed_comments(sheet, entry_code))
    with autosave_status:
        _autosave_status(sheet, entry_code, changed)
    leave_guard(changed and not draft_saved)


def _actions(
    sheet: SheetView,
    entry_code: str,
    typed: dict,
    comment: str,
    total: float | None,
    confirming: bool,
) -> bool:
    """Save, submit or revise, or the question before a submission while it is open.

    True when a draft was saved in this run: nothing above the buttons but the badge and the
    progress changes with it (the boxes hold what was saved), so the sheet is not run again.
    """
    if confirming and total is not None:
        _confirmation(sheet, entry_code, total)
        return False
    if sheet.status == "submitted":
        _revision_buttons(sheet, entry_code, typed, comment, total)
        return False
    draft, submit = st.columns(2)
    saved = draft.button(
        tr("score.save_draft"), key=f"draft_{entry_code}", width="stretch"
    ) and _save(sheet, entry_code, submit=False)
    if submit.button(
        tr("score.submit"),
        key=f"submit_{entry_code}",
        type="primary",
        width="stretch",
        disabled=total is None,
    ):
        _ask_to_submit(entry_code)
    return saved


def _revision_buttons(
    sheet: SheetView, entry_code: str, typed: dict, comment: str, total: float | None
) -> None:
    """A submitted sheet offers its revision (confirmed like a submission) and no draft.

    A draft save there once turned the submission back into a draft, and the sheet stopped
    counting without anybody saying so; the service keeps a submitted sheet submitted, and
    the page does not offer what would look like a way back.
    """
    st.caption(tr("sheet_safety.submitted_note"))
    changed = _changed(sheet, typed, comment, _typed_comments(sheet, entry_code))
    resubmit, discard = st.columns(2)
    if resubmit.button(
        tr("score.resubmit"),
        key=f"submit_{entry_code}",
        type="primary",
        width="stretch",
        disabled=total is None or not changed,
    ):
        _ask_to_submit(entry_code)
    if discard.button(
        tr("sheet_safety.discard"),
        key=f"discard_{entry_code}",
        width="stretch",
        disabled=not changed,
        icon=":material/undo:",
    ):
        _forget_widgets(sheet, entry_code)
        _rerun_sheet()


def _next_entry(entry_code: str) -> None:
    if st.button(tr("entry_page.next_entry"), key="next_entry", type="secondary"):
        with context.database().read() as session:
            upcoming = next_to_score(session, actor, campaign, entry_code)
        if upcoming is None:
            st.toast(tr("entry_page.all_done"))
        else:
            st.switch_page(ENTRY_PAGE, query_params={"code": upcoming})


@st.dialog(" ")
def _confirm_conflict(entry_code: str, sheet_status: str) -> None:
    """Declaring a conflict withdraws the sheet and the entry: say so before it happens."""
    st.subheader(tr("conflict_confirm.title"))
    consequences = {
        "submitted": ["conflict_confirm.withdraw_submitted"],
        "draft": ["conflict_confirm.withdraw_draft"],
    }.get(sheet_status, [])
    consequences += ["conflict_confirm.leaves_list", "conflict_confirm.final"]
    st.write(tr("conflict_confirm.intro", code=entry_code))
    st.markdown("\n".join(f"- {tr(key)}" for key in consequences))
    reason = st.text_input(tr("conflict.reason"), key=f"conflict_reason_{entry_code}")
    confirm, cancel = st.columns(2)
    if confirm.button(
        tr("conflict_confirm.confirm"), type="primary", width="stretch", key="confirm_conflict"
    ):
        ok, _ = run_write(
            lambda session: declare_conflict(session, actor, campaign, entry_code, reason),
            "conflict.declared",
        )
        if ok:
            st.switch_page(GALLERY_PAGE)
    if cancel.button(tr("conflict_confirm.cancel"), width="stretch", key="cancel_conflict"):
        st.rerun()


def _conflict(entry_code: str) -> None:
    with st.expander(tr("conflict.title"), icon=":material/block:"):
        st.caption(tr("conflict.explain"))
        if st.button(tr("conflict_confirm.open"), key=f"conflict_{entry_code}"):
            with context.database().read() as session:
                status = sheet_view(session, actor, campaign, entry_code).status
            _confirm_conflict(entry_code, status)


# --- layout -----------------------------------------------------------------------------------

entry_style()
st.title(markdown_literal(f"{entry.code} · {entry.title}"))
if actor.is_reviewer:
    # The sheet's column comes second here and first on a narrow screen (pages/_entry_layout).
    left, right = st.columns([3, 2], gap="large")
    with left, st.container(key=MATERIAL_KEY):
        _details(entry)
        _images(entry)
        _materials(entry)
    with right, st.container(key=SHEET_KEY):
        _next_entry(entry.code)
        with st.container(border=True):
            score_sheet(entry.code)
        _conflict(entry.code)
else:
    entry_edit_link(entry.code, tr("entry_edit.edit_link"))
    _details(entry)
    _images(entry)
    _materials(entry)
