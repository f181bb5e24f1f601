"""Materials in bulk: chosen entries' files as one zip, one entry's dossier as one PDF.

Filters in, one overview call, the list; each file is built only when its button is pressed
(``download_button(data=callable)``), from a plan the service authorises again then.
"""

from __future__ import annotations

import streamlit as st

from pages._banner import final_banner
from pages._dossier import dossier_button
from pages._shared import current_actor, pick_campaign, require_page, t
from scoring import context
from scoring.errors import ReviewDeskError
from scoring.permissions import can_manage
from scoring.services.materials import (
    MB,
    bundle_zip_bytes,
    check_download_size,
    download_name,
    materials_overview,
    plan_bundle,
)

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()
st.title(tr("materials.title"))
final_banner(actor, campaign)
st.caption(tr("materials.caption"))


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < MB else f"{size / MB:.1f} MB"


FILTERS = ("materials_category", "materials_domain", "materials_status")
# The filters' values as the widgets below hold them: one overview call gives the list and
# the choices (the choices span every entry, whatever the filters).
wanted = [st.session_state.get(key) or [] for key in FILTERS]
with context.database().read() as session:
    view = materials_overview(
        session, actor, campaign, categories=wanted[0], domains=wanted[1], statuses=wanted[2]
    )
left, middle, right = st.columns(3)
anything = tr.plain("gallery.any")
categories = left.multiselect(
    tr("materials.filter_category"), view.categories, key=FILTERS[0], placeholder=anything
)
domains = middle.multiselect(
    tr("materials.filter_domain"), view.domains, key=FILTERS[1], placeholder=anything
)
statuses = right.multiselect(
    tr("materials.filter_status"),
    view.statuses,
    format_func=lambda s: tr.plain(f"status.{s}"),
    key=FILTERS[2],
    placeholder=anything,
)
shown = view.entries
if shown.empty:
    st.info(tr("materials.no_entries_shown"))
    st.stop()

st.dataframe(
    shown.assign(
        status=shown["status"].map(lambda s: tr.plain(f"status.{s}")),
        bytes=shown["bytes"].map(_size),
    ).rename(
        columns={c: tr.plain(f"materials.col_{c}") for c in shown.columns}
        | {"bytes": tr.plain("materials.col_size")}
    ),
    hide_index=True,
    width="stretch",
    height=280,  # the downloads below stay in sight on a laptop
)
labels = {c: f"{c} · {title}" for c, title in zip(shown["code"], shown["title"], strict=True)}
# The filters are part of the key: a selection belongs to the list it was made from.
filtered = "|".join(map(str, (categories, domains, statuses)))

st.subheader(tr("materials.zip_heading"))
every = st.checkbox(tr("materials.all_shown", count=len(shown)), key=f"all_{filtered}")
picked = st.multiselect(
    tr("materials.pick_entries"),
    list(labels),
    format_func=labels.get,
    disabled=every,
    key=f"pick_{filtered}",
    placeholder=tr.plain("materials.pick_placeholder"),
)
codes = list(shown["code"]) if every else picked
refused = None
if codes:
    chosen = shown[shown["code"].isin(codes)]
    size = int(chosen["bytes"].sum())
    files = int(chosen["images"].sum() + chosen["materials"].sum())
    st.write(tr("materials.summary", entries=len(codes), files=files, size=_size(size)))
    try:
        check_download_size(size)
    except ReviewDeskError as error:
        refused = error
        st.error(error.markdown(tr.lang))
else:
    st.caption(tr("materials.pick_first"))


def _zip() -> bytes:
    """Built on click only, from a plan authorised again now."""
    with context.database().read() as session:
        plan = plan_bundle(session, actor, campaign, codes)
    return bundle_zip_bytes(plan, context.asset_store(), tr.lang)


st.download_button(
    tr("materials.zip_button"),
    data=_zip,
    file_name=download_name(campaign.slug, "materials.zip"),
    mime="application/zip",
    icon=":material/folder_zip:",
    disabled=not codes or refused is not None,
    key="download_materials_zip",
)
st.caption(tr("materials.zip_note"))

st.subheader(tr("materials.dossier_heading"))
code = st.selectbox(tr("materials.dossier_pick"), list(labels), format_func=labels.get)
dossier_button(actor, campaign, code, key="download_dossier")
st.caption(tr("materials.dossier_note"))
