"""One entry: its images large, its materials to read or download, and the reviewer's sheet."""

from __future__ import annotations

import streamlit as st

from pages._shared import (
    DISPLAY_SIZE,
    ENTRY_PAGE,
    current_actor,
    pick_campaign,
    plain,
    run_write,
    t,
    thumbnail,
)
from scoring import charts, context
from scoring.errors import ReviewDeskError, StaleEdit
from scoring.services.review import (
    AssetView,
    EntryView,
    SheetView,
    declare_conflict,
    entry_view,
    next_to_score,
    sheet_view,
)
from scoring.services.sheets import save_own_sheet
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
    st.error(error.message(tr.lang))
    st.stop()


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
    steps[1].markdown(
        f"<div style='text-align:center'>{tr('entry_page.image_of', index=index + 1, count=count)}"
        f"</div>",
        unsafe_allow_html=True,
    )
    steps[2].button(
        tr("entry_page.next"), key=f"next_{entry.code}", width="stretch", on_click=step, args=(1,)
    )


def _materials(entry: EntryView) -> None:
    st.subheader(tr("entry_page.materials"))
    if not entry.materials:
        st.caption(tr("entry_page.no_materials"))
        return
    store = context.asset_store()
    for number, asset in enumerate(entry.materials):
        with st.container(border=True):
            name, kind, size, action = st.columns([5, 1, 1, 2], vertical_alignment="center")
            name.text(asset.filename)
            kind.caption(_file_type(asset))
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
        " · ".join(plain(part) for part in (entry.category, entry.domain))
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


def _points_key(entry_code: str, criterion: str) -> str:
    return f"points_{entry_code}_{criterion}"


def _keys(entry_code: str) -> dict[str, str]:
    return {
        "version": f"sheet_version_{entry_code}",
        "comment": f"sheet_comment_{entry_code}",
        "stale": f"sheet_stale_{entry_code}",
    }


def _load_into_widgets(sheet: SheetView, entry_code: str) -> None:
    """Put the stored sheet into the widgets when they hold nothing of it yet.

    Streamlit forgets a widget's value once a run no longer draws it (the reviewer went to
    another page), so the stored sheet is loaded whenever any criterion's value is gone, and
    its version is taken with it. While the reviewer stays on the page, what they typed is
    kept, even across a failed save.
    """
    keys = _keys(entry_code)
    widgets = [_points_key(entry_code, c.key) for c in sheet.criteria]
    if keys["version"] in st.session_state and all(w in st.session_state for w in widgets):
        return
    for criterion, widget in zip(sheet.criteria, widgets, strict=True):
        value = sheet.points.get(criterion.key)
        if value is not None and _integral(criterion.step, criterion.max_points):
            value = int(value)
        st.session_state[widget] = value
    st.session_state[keys["comment"]] = sheet.comment
    st.session_state[keys["version"]] = sheet.version
    st.session_state.pop(keys["stale"], None)


def _forget_widgets(sheet: SheetView, entry_code: str) -> None:
    for criterion in sheet.criteria:
        st.session_state.pop(_points_key(entry_code, criterion.key), None)
    for key in _keys(entry_code).values():
        st.session_state.pop(key, None)


def _integral(step: float, maximum: float) -> bool:
    return float(step).is_integer() and float(maximum).is_integer()


def _snap(widget: str, name: str, step: float, maximum: float) -> None:
    """Keep a typed value on the criterion's grid: 0..max in multiples of step."""
    value = st.session_state.get(widget)
    if value is None:
        return
    snapped = min(max(round(value / step) * step, 0.0), maximum)
    if abs(snapped - value) > 1e-9:
        st.session_state[widget] = snapped
        st.toast(tr("score.snapped", criterion=name, step=f"{step:g}", value=f"{snapped:g}"))


def _typed_points(sheet: SheetView, entry_code: str) -> dict[str, float | None]:
    typed = {}
    for criterion in sheet.criteria:
        value = st.session_state.get(_points_key(entry_code, criterion.key))
        typed[criterion.key] = None if value is None else float(value)
    return typed


def _save(sheet: SheetView, entry_code: str, submit: bool) -> bool:
    keys = _keys(entry_code)
    points = _typed_points(sheet, entry_code)
    comment = st.session_state.get(keys["comment"], "")
    expected = st.session_state.get(keys["version"], sheet.version)

    def work(session):
        saved = save_own_sheet(
            session,
            actor,
            entry_id=sheet.entry_id,
            points=points,
            comment=comment,
            submit=submit,
            expected_version=expected,
        )
        return saved.version

    def remember_stale(error: ReviewDeskError) -> None:
        if isinstance(error, StaleEdit):
            st.session_state[keys["stale"]] = True

    ok, version = run_write(
        work, "score.submitted" if submit else "score.saved_draft", on_error=remember_stale
    )
    if ok:
        st.session_state[keys["version"]] = version
        st.session_state.pop(keys["stale"], None)
    return ok


@st.dialog(" ")
def _confirm_submit(sheet: SheetView, entry_code: str, total: float) -> None:
    st.subheader(tr("score.confirm_title"))
    st.write(tr("score.confirm_text", code=plain(entry_code), total=f"{total:.2f}"))
    confirm, cancel = st.columns(2)
    pressed = confirm.button(
        tr("score.confirm"), type="primary", width="stretch", key="confirm_submit"
    )
    if pressed and _save(sheet, entry_code, submit=True):
        st.rerun()
    if cancel.button(tr("score.cancel"), width="stretch", key="cancel_submit"):
        st.rerun()


def _criterion_input(sheet: SheetView, entry_code: str, criterion, disabled: bool) -> None:
    widget = _points_key(entry_code, criterion.key)
    st.markdown(f"**{plain(criterion.name)}**")
    if criterion.description:
        st.caption(plain(criterion.description))
    label = tr("score.range", maximum=f"{criterion.max_points:g}", step=f"{criterion.step:g}")
    if _integral(criterion.step, criterion.max_points):
        st.number_input(
            label,
            min_value=0,
            max_value=int(criterion.max_points),
            step=int(criterion.step),
            key=widget,
            placeholder=tr("score.unscored"),
            disabled=disabled,
        )
    else:
        st.number_input(
            label,
            min_value=0.0,
            max_value=float(criterion.max_points),
            step=float(criterion.step),
            format="%g",
            key=widget,
            placeholder=tr("score.unscored"),
            disabled=disabled,
            on_change=_snap,
            args=(widget, criterion.name, criterion.step, criterion.max_points),
        )


def _running_total(sheet: SheetView, entry_code: str) -> float | None:
    typed = _typed_points(sheet, entry_code)
    missing = [k for k, v in typed.items() if v is None]
    maximum = sum(c.max_points for c in sheet.criteria)
    if missing:
        st.metric(tr("score.total"), "—")
        st.caption(tr("score.total_pending", count=len(missing)))
        return None
    total = 100.0 * sum(v for v in typed.values() if v is not None) / maximum
    st.metric(tr("score.total"), f"{total:.2f}")
    return total


@st.fragment
def score_sheet(entry_code: str) -> None:
    """The sheet reruns alone while the reviewer types: the images above stay as they are."""
    with context.database().read() as session:
        sheet = sheet_view(session, actor, campaign, entry_code)
    keys = _keys(entry_code)
    _load_into_widgets(sheet, entry_code)
    st.subheader(tr("score.panel", panel=component_label(sheet.panel, tr)))
    status = {"new": "score.status_new", "draft": "score.status_draft"}.get(
        sheet.status, "score.status_submitted"
    )
    st.badge(
        tr(status),
        color={"new": "gray", "draft": "blue"}.get(sheet.status, "green"),
    )
    read_only = not sheet.editable
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
        _criterion_input(sheet, entry_code, criterion, disabled=read_only)
    total = _running_total(sheet, entry_code)
    st.text_area(
        tr("score.comment"),
        key=keys["comment"],
        placeholder=tr("score.comment_hint"),
        disabled=read_only,
        max_chars=2000,
    )
    if st.session_state.get(keys["stale"]) and st.button(
        tr("score.stale_reload"), key=f"reload_{entry_code}", icon=":material/sync:"
    ):
        _forget_widgets(sheet, entry_code)
        st.rerun()
    if read_only:
        return
    draft, submit = st.columns(2)
    if draft.button(tr("score.save_draft"), key=f"draft_{entry_code}", width="stretch") and _save(
        sheet, entry_code, submit=False
    ):
        st.rerun()
    submit_label = "score.resubmit" if sheet.status == "submitted" else "score.submit"
    if submit.button(
        tr(submit_label),
        key=f"submit_{entry_code}",
        type="primary",
        width="stretch",
        disabled=total is None,
    ):
        _confirm_submit(sheet, entry_code, total)
    if sheet.status == "submitted":
        st.caption(tr("score.reopen_note"))


def _next_entry(entry_code: str) -> None:
    if st.button(tr("entry_page.next_entry"), key="next_entry", type="secondary"):
        with context.database().read() as session:
            upcoming = next_to_score(session, actor, campaign, entry_code)
        if upcoming is None:
            st.toast(tr("entry_page.all_done"))
        else:
            st.switch_page(ENTRY_PAGE, query_params={"code": upcoming})


def _conflict(entry_code: str) -> None:
    with st.expander(tr("conflict.title"), icon=":material/block:"):
        st.caption(tr("conflict.explain"))
        reason = st.text_input(tr("conflict.reason"), key=f"conflict_reason_{entry_code}")
        if st.button(tr("conflict.declare"), key=f"conflict_{entry_code}"):
            ok, _ = run_write(
                lambda session: declare_conflict(session, actor, campaign, entry_code, reason),
                "conflict.declared",
            )
            if ok:
                st.switch_page(GALLERY_PAGE)


# --- layout -----------------------------------------------------------------------------------

st.title(plain(f"{entry.code} · {entry.title}"))
_details(entry)
if actor.is_reviewer:
    left, right = st.columns([3, 2], gap="large")
    with left:
        _images(entry)
        _materials(entry)
    with right:
        _next_entry(entry.code)
        with st.container(border=True):
            score_sheet(entry.code)
        _conflict(entry.code)
else:
    _images(entry)
    _materials(entry)
