"""添加/编辑作品: one entry's fields, images and materials, checked as the import checks them.

The form is drawn from the entry as it was when this tab opened it (kept in the session), so
a save made meanwhile in another tab is reported (``StaleEdit``), never overwritten. Uploads
are checked by content before the save and stored only by a save that succeeds. A save that
removes files or has another consequence asks first; the confirmation covers exactly the
notes shown (the page asks the service again and saves only if they are unchanged).
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from pages._banner import final_banner
from pages._shared import (
    current_actor,
    entry_link,
    in_campaign,
    pick_campaign,
    require_page,
    sign_out_if_inactive,
    t,
    thumbnail,
)
from scoring import context
from scoring.assets import MAX_IMAGE_BYTES, MAX_MATERIAL_BYTES, MB
from scoring.errors import AssetError, NotFound, ReviewDeskError, StaleEdit, ValidationFailed
from scoring.errors import rendered as rendered_params
from scoring.importers.entries import MAX_IMAGES
from scoring.importers.report import Problem
from scoring.permissions import can_manage
from scoring.services.entry_edit import (
    EntryEditView,
    Upload,
    check_upload,
    entry_edit_view,
    save_entry,
)
from scoring.storage.models import ENTRY_KINDS

GALLERY_PAGE = "pages/entries.py"
IMAGE_TYPES = ["jpg", "jpeg", "png", "webp"]
MATERIAL_TYPES = ["pdf", "docx", "xlsx", *IMAGE_TYPES]

actor = current_actor()
require_page(can_manage(actor))
tr = t()

st.title(tr("entry_edit.title"))
st.caption(tr("entry_edit.intro"))
campaign = pick_campaign(actor)
final_banner(actor, campaign)
if campaign is None:
    st.stop()

VIEW_KEY = f"entry_edit_view_{campaign.slug}"
PENDING_KEY = f"entry_edit_pending_{campaign.slug}"
FLASH_KEY = "entry_edit_flash"
#: The last save of this tab: its entry, the submission it saved, the message it gave.
LAST_SAVE_KEY = f"entry_edit_last_save_{campaign.slug}"
REPEAT_WINDOW_S = 10  # a second click within this is the same save; later, a new one


def _forget() -> None:
    """Draw the form again from the database: after a save, a reload or another entry."""
    st.session_state.pop(VIEW_KEY, None)
    st.session_state.pop(PENDING_KEY, None)
    st.session_state.pop(f"{PENDING_KEY}_notes", None)
    st.session_state.pop(f"entry_edit_stale_{campaign.slug}", None)


def _loaded(code: str | None) -> EntryEditView:
    """The view this tab's form edits, read once: a submit is judged against it."""
    held = st.session_state.get(VIEW_KEY)
    if held is not None and held.code == code:
        return held
    _forget()
    try:
        with context.database().read() as session:
            view = entry_edit_view(session, actor, campaign, code)
    except NotFound as error:
        st.error(error.markdown(tr.lang))
        with context.database().read() as session:
            view = entry_edit_view(session, actor, campaign, None)
    st.session_state[VIEW_KEY] = view
    return view


def _message(problem: Problem) -> str:
    return tr(problem.key, **rendered_params(problem.params, tr.lang))


def _pick(codes: tuple[str, ...], code: str | None) -> None:
    options = ["", *codes]

    def _chosen() -> None:
        chosen = st.session_state["entry_edit_pick"]
        if chosen:
            st.query_params["code"] = chosen
        else:
            st.query_params.pop("code", None)
        _forget()

    st.session_state["entry_edit_pick"] = code if code in codes else ""
    st.selectbox(
        tr("entry_edit.pick"),
        options,
        format_func=lambda c: c or tr.plain("entry_edit.new_entry"),
        key="entry_edit_pick",
        on_change=_chosen,
    )


def _uploads(files: list[Any], role: str, column: str, errors: dict[str, list[str]]) -> list:
    """Each uploaded file checked by content; refusals go under the field, naming the file."""
    checked: list[Upload] = []
    for file in files or []:
        try:
            checked.append(check_upload(role, file.name, file.getvalue()))
        except AssetError as error:
            errors.setdefault(column, []).append(error.markdown(tr.lang))
    return checked


def _save(view: EntryEditView, values: dict, keep: list[int], uploads: list, confirmed: bool):
    def work(session, really: bool):
        return save_entry(
            session,
            actor,
            campaign,
            values,
            store=context.asset_store(),
            code=view.code,
            expected_version=view.version,
            keep=keep,
            uploads=uploads,
            confirmed=really,
        )

    shown = st.session_state.get(PENDING_KEY)
    try:
        return context.database().write(lambda s: work(s, False))
    except ValidationFailed as error:
        notes = [p.key + repr(sorted(p.params.items())) for p in error.problems]
        if error.key != "entry_edit.confirm_needed" or not confirmed or shown != notes:
            raise
    # The organiser confirmed exactly these notes: save with them.
    return context.database().write(lambda s: work(s, True))


def _submission(view: EntryEditView, values: dict, keep: list[int], uploads: list) -> str:
    """What one click on 保存 asked: the same form sent twice gives the same string."""
    files = [u.sha256 for u in uploads]
    return repr((view.code, view.version, sorted(values.items()), keep, files))


def _last_save() -> dict | None:
    """This tab's last save, while a second click of the same hurried user may still come."""
    last = st.session_state.get(LAST_SAVE_KEY)
    return last if last is not None and time.monotonic() - last["at"] < REPEAT_WINDOW_S else None


def _repeated(submission: str) -> dict | None:
    """This tab's last save when this click only sends the form it saved again.

    A hurried double click sends the form twice; the second arrives on the form the first
    was made on, which the first save has made stale (or whose code it has taken or
    changed). All mean "saved", so the page says what the save said instead of a refusal.
    """
    last = _last_save()
    return last if last is not None and last["submission"] == submission else None


def _already_saved(code: str) -> str | None:
    """The last save's message when a save that changed nothing follows it at once on
    ``code``: the second click arrived on the redrawn form."""
    last = _last_save()
    return last["message"] if last is not None and last["code"] == code else None


def _said_again(last: dict) -> None:
    """Show the repeated save's own message, on the entry it saved."""
    _forget()
    st.session_state[FLASH_KEY] = last["message"]
    st.query_params["code"] = last["code"]
    st.rerun()


def _files(view: EntryEditView, role: str, prefix: str) -> tuple[list[int], list[Any]]:
    """The stored files of a role with order and remove boxes, then an uploader."""
    lines = view.of_role(role)
    column = f"{role}s"
    heading = "entry_edit.images" if role == "image" else "entry_edit.materials"
    st.markdown(f"**{tr(heading, maximum=MAX_IMAGES)}**")
    if not lines:
        st.caption(tr("entry_edit.no_files"))
    order: list[tuple[float, int, int]] = []
    for index, line in enumerate(lines):
        cells = st.columns([1, 3, 1, 2], vertical_alignment="center")
        if role == "image" and (picture := thumbnail(line.sha256, 160, 120)) is not None:
            cells[0].image(str(picture), width=96)
        cells[1].text(f"{line.filename} · {line.size_bytes / 1024:,.0f} KB")
        rank = float(index + 1)
        if role == "image":
            rank = cells[2].number_input(
                tr("entry_edit.order"),
                min_value=1,
                max_value=MAX_IMAGES,
                step=1,
                value=index + 1,
                key=f"{prefix}_order_{line.id}",
            )
        removed = cells[3].checkbox(
            tr("entry_edit.remove", name=line.filename), key=f"{prefix}_remove_{line.id}"
        )
        if not removed:
            order.append((rank, index, line.id))
    upload_label = "entry_edit.upload_images" if role == "image" else "entry_edit.upload_materials"
    files = st.file_uploader(
        tr(upload_label),
        type=IMAGE_TYPES if role == "image" else MATERIAL_TYPES,
        accept_multiple_files=True,
        # The browser says and refuses the store's own limit before sending a byte.
        max_upload_size=(MAX_IMAGE_BYTES if role == "image" else MAX_MATERIAL_BYTES) // MB,
        key=f"{prefix}_upload_{column}",
    )
    slots[column] = st.empty()
    return [i for _, _, i in sorted(order)], list(files or [])


if flash := st.session_state.pop(FLASH_KEY, None):
    st.success(flash)
    st.toast(flash)  # the form may be scrolled far below the message

code = st.query_params.get("code") or None
view = _loaded(code)
_pick(view.codes, view.code)
if view.finalised:
    st.info(tr("entry_edit.finalised"))
    st.stop()
if not view.categories or not view.domains:
    st.warning(tr("entry_edit.no_campaign_categories"))
    st.stop()

if view.code is None:
    st.subheader(tr("entry_edit.heading_new"))
else:
    st.subheader(tr("entry_edit.heading_edit", code=view.code))
    st.caption(tr("entry_edit.status_now", status=tr(f"status.{view.status}")))
    entry_link(view.code, tr("entry_edit.open_entry"))
st.page_link(GALLERY_PAGE, label=tr("entry_edit.to_gallery"), icon=":material/photo_library:")

if st.session_state.get(f"entry_edit_stale_{campaign.slug}"):
    st.error(tr("entry_edit.stale", code=view.code or ""))
    if st.button(tr("entry_edit.reload"), key="entry_edit_reload"):
        _forget()
        st.rerun()

round_ = st.session_state.get("ee_round", 0)  # a new, empty form after each added entry
prefix = f"ee_{campaign.slug}_{view.code or ''}_{view.version[:10]}_{round_}"
slots: dict[str, Any] = {}
v = view.values
with st.form(f"{prefix}_form", border=True):
    top = st.container()  # the summary of a refused save, above the first field
    left, right = st.columns(2)
    typed: dict[str, Any] = {}
    typed["code"] = left.text_input(
        tr("entry_edit.field.code"),
        value=v["code"],
        max_chars=40,
        disabled=view.code_fixed,
        help=tr.plain("entry_edit.code_fixed_help") if view.code_fixed else None,
        key=f"{prefix}_code",
    )
    slots["code"] = left.empty()
    typed["kind"] = right.selectbox(
        tr("entry_edit.field.kind"),
        ENTRY_KINDS,
        index=ENTRY_KINDS.index(v["kind"]) if v["kind"] in ENTRY_KINDS else 0,
        format_func=lambda k: tr.plain(f"kind.{k}"),
        key=f"{prefix}_kind",
    )
    slots["kind"] = right.empty()
    typed["title"] = st.text_input(
        tr("entry_edit.field.title"), value=v["title"], max_chars=300, key=f"{prefix}_title"
    )
    slots["title"] = st.empty()
    left, right = st.columns(2)
    typed["applicant"] = left.text_input(
        tr("entry_edit.field.applicant"),
        value=v["applicant"],
        max_chars=200,
        key=f"{prefix}_applicant",
    )
    slots["applicant"] = left.empty()
    typed["recommender"] = right.text_input(
        tr("entry_edit.field.recommender"),
        value=v["recommender"],
        max_chars=200,
        key=f"{prefix}_recommender",
    )
    slots["recommender"] = right.empty()
    for column, options, box in (
        ("category", view.categories, left),
        ("domain", view.domains, right),
    ):
        typed[column] = box.selectbox(
            tr(f"entry_edit.field.{column}"),
            options,
            index=options.index(v[column]) if v[column] in options else None,
            placeholder=tr.plain(f"entry_edit.field.{column}"),
            key=f"{prefix}_{column}",
        )
        slots[column] = box.empty()
    typed["summary"] = st.text_area(
        tr("entry_edit.field.summary"), value=v["summary"], height=140, key=f"{prefix}_summary"
    )
    slots["summary"] = st.empty()
    st.divider()
    keep_images, image_files = _files(view, "image", prefix)
    st.divider()
    keep_materials, material_files = _files(view, "material", prefix)
    near_save = st.container()  # the notes to confirm, beside the box and the button
    confirmed = False
    pending = st.session_state.get(PENDING_KEY)
    if pending:
        near_save.warning(tr("entry_edit.confirm_needed"))
        # Keyed by the notes: other notes must be confirmed again, not by an old tick.
        confirmed = st.checkbox(
            tr("entry_edit.confirm"), key=f"{prefix}_confirm_{hash(tuple(pending))}"
        )
    submitted = st.form_submit_button(tr("entry_edit.save"), type="primary")

if submitted:
    errors: dict[str, list[str]] = {}
    uploads = _uploads(image_files, "image", "images", errors) + _uploads(
        material_files, "material", "materials", errors
    )
    values = {**typed, "category": typed["category"] or "", "domain": typed["domain"] or ""}
    if view.code_fixed:
        values["code"] = view.code or ""
    result = None
    keep = keep_images + keep_materials
    submission = _submission(view, values, keep, uploads)
    if not errors:
        try:
            try:
                result = _save(view, values, keep, uploads, confirmed)
            except ReviewDeskError:
                if (last := _repeated(submission)) is None:
                    raise
                _said_again(last)
        except StaleEdit:
            st.session_state[f"entry_edit_stale_{campaign.slug}"] = True
            st.rerun()
        except ValidationFailed as error:
            if error.key == "entry_edit.confirm_needed":
                st.session_state[PENDING_KEY] = [
                    p.key + repr(sorted(p.params.items())) for p in error.problems
                ]
                st.session_state[f"{PENDING_KEY}_notes"] = [_message(p) for p in error.problems]
                st.rerun()
            if not error.problems:
                top.error(error.markdown(tr.lang))
            for problem in error.problems:
                column = problem.column if problem.column in slots else "top"
                errors.setdefault(column, []).append(_message(problem))
        except ReviewDeskError as error:
            sign_out_if_inactive(error)
            top.error(error.markdown(tr.lang))
    if errors:
        named = [tr(f"entry_edit.field.{c}") for c in errors if c in slots]
        # Beside the button too: the field in trouble may be scrolled out of sight.
        near_save.error(tr("entry_edit.problems", fields="、".join(named) or "—"))
        for column, reasons in errors.items():
            field = tr(f"entry_edit.field.{column}") if column in slots else ""
            lines = [tr("entry_edit.field_error", field=field, reason=r) for r in reasons]
            (slots.get(column) or top).error("  \n".join(lines) if field else "  \n".join(reasons))
    elif result is not None:
        _forget()
        if result.created:
            message = in_campaign(tr("entry_edit.saved_new", code=result.code))
        elif result.changes:
            message = in_campaign(tr("entry_edit.saved", code=result.code, count=result.changes))
        else:
            message = _already_saved(result.code) or in_campaign(tr("entry_edit.nothing_changed"))
        st.session_state[LAST_SAVE_KEY] = {
            "code": result.code,
            "submission": submission,
            "message": message,
            "at": time.monotonic(),
        }
        st.session_state[FLASH_KEY] = message
        st.session_state["ee_round"] = st.session_state.get("ee_round", 0) + 1
        st.query_params["code"] = result.code
        st.rerun()

if notes := (st.session_state.get(f"{PENDING_KEY}_notes") if pending else None):
    with near_save:
        for note in notes:
            st.warning(note)
