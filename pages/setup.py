"""Campaign set-up: create from a campaign file or a form; edit groups, weights and rubric."""

from datetime import date

import pandas as pd
import streamlit as st

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
from scoring.errors import StaleEdit
from scoring.literal import markdown_literal
from scoring.permissions import can_manage
from scoring.services.campaigns import (
    STAGE_DATES,
    create_campaign,
    levels_text,
    parse_campaign_toml,
    parse_levels,
)
from scoring.services.setup import SetupView, setup_view, update_campaign
from scoring.storage.models import GROUPINGS

actor = current_actor()
require_page(can_manage(actor))
tr = t()

st.title(tr("setup.title"))

#: A new campaign starts from the weights and rubrics of the 2020 Qingdao selection.
STARTER = {
    "vote_group": "category",
    "rank_group": "category_domain",
    "tie_break": ["expert", "media", "votes"],
    "award_quota": 3,
    "components": [
        {"key": "votes", "kind": "votes", "weight": 55},
        {"key": "media", "kind": "panel", "weight": 15, "aggregate": "mean", "min_reviews": 3},
        {
            "key": "expert",
            "kind": "panel",
            "weight": 30,
            "aggregate": "trimmed",
            "trim": 1,
            "min_reviews": 5,
        },
    ],
    "criteria": [
        {"panel": "expert", "key": "innovation", "name": "创新性", "max_points": 30},
        {"panel": "expert", "key": "effectiveness", "name": "成效性", "max_points": 30},
        {"panel": "expert", "key": "practicality", "name": "实用性", "max_points": 20},
        {"panel": "expert", "key": "replicability", "name": "示范推广价值", "max_points": 20},
        {"panel": "media", "key": "reach", "name": "传播价值", "max_points": 40},
        {"panel": "media", "key": "response", "name": "社会反响", "max_points": 30},
        {"panel": "media", "key": "highlights", "name": "亮点特色", "max_points": 30},
    ],
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _create() -> None:
    from_file, from_form = st.tabs([tr("setup.from_file"), tr("setup.from_form")])
    with from_file:
        upload = st.file_uploader(tr("setup.campaign_file"), type=["toml"], key="campaign_toml")
        if upload is not None and st.button(tr("setup.create"), key="create_from_file"):
            try:
                data = parse_campaign_toml(upload.getvalue().decode("utf-8"))
            except UnicodeDecodeError:
                st.error(tr("setup.not_utf8"))
                return
            ok, created = run_write(lambda s: create_campaign(s, actor, data))
            if ok:
                st.session_state["campaign_slug"] = created.slug
                st.success(tr("cli.campaign_created", slug=created.slug, name=created.name))
    with from_form, st.form("new_campaign"):
        slug = st.text_input(tr("setup.slug"), help=tr("setup.slug_help"))
        name = st.text_input(tr("setup.name"))
        year = st.number_input(tr("setup.year"), min_value=1900, max_value=2999, value=2026)
        categories = st.text_area(tr("setup.categories"), help=tr("setup.lines_help"))
        domains = st.text_area(tr("setup.domains"), help=tr("setup.lines_help"))
        st.caption(tr("setup.starter_note"))
        if st.form_submit_button(tr("setup.create")):
            data = {
                **STARTER,
                "slug": slug.strip(),
                "name": name,
                "year": int(year),
                "categories": _lines(categories),
                "domains": _lines(domains),
            }
            ok, created = run_write(lambda s: create_campaign(s, actor, data))
            if ok:
                st.session_state["campaign_slug"] = created.slug
                st.success(tr("cli.campaign_created", slug=created.slug, name=created.name))


def _stage_dates(definition: dict, slug: str) -> dict[str, str | None]:
    """One date box per stage date, empty where none is set; ISO days back.

    ``slug`` carries the set-up version too: after a save the boxes show what was stored."""
    st.markdown(f"**{tr('guidance.stage_dates')}**")
    boxes = st.columns(len(STAGE_DATES))
    chosen = {}
    for box, field in zip(boxes, STAGE_DATES, strict=True):
        stored = definition.get(field)
        picked = box.date_input(
            tr(f"stage_date.{field}"),
            value=date.fromisoformat(stored) if stored else None,
            min_value=date(2000, 1, 1),
            max_value=date(2099, 12, 31),
            format="YYYY-MM-DD",
            key=f"{field}_{slug}",
        )
        chosen[field] = picked.isoformat() if picked else None
    return chosen


def _level_boxes(definition: dict, slug: str) -> dict[tuple[str, str], str]:
    """A text box per criterion for its levels (``优 26-30; 良 20-25``), read by scoring/.

    Boxes rather than a column of the rubric table: a phone shows them whole, and a
    criterion added in the table gets its box once it is saved.
    """
    st.markdown(f"**{tr('guidance.levels')}**")
    st.caption(tr("guidance.levels_help"))
    typed = {}
    criteria = definition["criteria"]
    # Two a row on a wide screen; a phone stacks each row, so the order stays the rubric's.
    rows = [st.columns(2) for _ in range(0, len(criteria), 2)]
    for number, crit in enumerate(criteria):
        panel = tr(f"panel.{crit['panel']}")
        label = f"{panel} · {markdown_literal(crit['name'])} (0–{crit['max_points']:g})"
        typed[(crit["panel"], str(crit["key"]))] = rows[number // 2][number % 2].text_input(
            label,
            value=levels_text(crit.get("levels")),
            key=f"levels_{slug}_{crit['panel']}_{crit['key']}",
            max_chars=300,
        )
    return typed


def _with_levels(criteria: list[dict], typed: dict[tuple[str, str], str]) -> list[dict]:
    """The rubric rows with their levels read from the boxes (a new row has none yet)."""
    return [
        {
            **crit,
            "levels": parse_levels(typed[key], str(crit.get("name") or crit["key"]))
            if (key := (crit["panel"], str(crit["key"]))) in typed
            else [],
        }
        for crit in criteria
    ]


def _loaded_view(campaign) -> SetupView:
    """The set-up as it was when this tab opened it: the form edits that version, not a newer
    one read on the submit rerun, so a concurrent save is detected instead of overwritten."""
    key = f"setup_view_{campaign.slug}"
    if key not in st.session_state:
        with context.database().read() as session:
            st.session_state[key] = setup_view(session, actor, campaign)
    return st.session_state[key]


def _forget_view(campaign) -> None:
    st.session_state.pop(f"setup_view_{campaign.slug}", None)


def _edit(campaign) -> None:
    view = _loaded_view(campaign)
    definition, started = view.definition, view.scoring_started
    st.subheader(tr("setup.edit", name=campaign.name))
    if view.finalised:
        st.info(tr("campaign_state.finalised", action=tr("setup.title")))
        _forget_view(campaign)
        return
    stale = st.session_state.get(f"setup_stale_{campaign.slug}")
    if stale and st.button(tr("setup.load_newer"), key=f"setup_reload_{campaign.slug}"):
        st.session_state.pop(f"setup_stale_{campaign.slug}", None)
        _forget_view(campaign)
        st.rerun()
    with st.form(f"edit_{campaign.slug}"):
        left, right = st.columns(2)
        name = left.text_input(tr("setup.name"), value=definition["name"])
        year = right.number_input(
            tr("setup.year"), min_value=1900, max_value=2999, value=int(definition["year"])
        )
        categories = left.text_area(
            tr("setup.categories"), value="\n".join(definition["categories"])
        )
        domains = right.text_area(tr("setup.domains"), value="\n".join(definition["domains"]))
        vote_group = left.selectbox(
            tr("setup.vote_group"),
            GROUPINGS,
            index=GROUPINGS.index(definition["vote_group"]),
            format_func=lambda g: tr(f"group.{g}"),
        )
        rank_group = right.selectbox(
            tr("setup.rank_group"),
            GROUPINGS,
            index=GROUPINGS.index(definition["rank_group"]),
            format_func=lambda g: tr(f"group.{g}"),
        )
        keys = [c["key"] for c in definition["components"]]
        tie_break = left.multiselect(
            tr("setup.tie_break"),
            keys,
            default=[k for k in definition["tie_break"] if k in keys],
            format_func=lambda k: tr(f"panel.{k}"),
        )
        award_quota = right.number_input(
            tr("setup.award_quota"), min_value=0, step=1, value=int(definition["award_quota"])
        )
        min_images = left.number_input(
            tr("setup.min_images"), min_value=0, step=1, value=int(definition["min_images"])
        )
        per_applicant = right.number_input(
            tr("setup.per_applicant"),
            min_value=1,
            step=1,
            value=int(definition["max_entries_per_applicant_per_domain"]),
        )
        blind = st.toggle(tr("setup.blind_review"), value=bool(definition["blind_review"]))
        extremes = st.toggle(
            tr("guidance.comment_at_extremes"),
            value=bool(definition.get("comment_at_extremes")),
            help=tr("guidance.comment_at_extremes_help"),
        )
        dates = _stage_dates(definition, f"{campaign.slug}_{view.version}")

        st.markdown(f"**{tr('setup.components')}**")
        components = st.data_editor(
            pd.DataFrame(definition["components"]),
            key=f"components_{campaign.slug}",
            hide_index=True,
            width="stretch",
            disabled=["key", "kind"],
            column_config={
                "key": st.column_config.TextColumn(tr("setup.key")),
                "kind": st.column_config.TextColumn(tr("setup.kind")),
                "weight": st.column_config.NumberColumn(
                    tr("setup.weight"), min_value=0, max_value=100, step=0.5
                ),
                "aggregate": st.column_config.SelectboxColumn(
                    tr("setup.aggregate"), options=["mean", "trimmed", "median"]
                ),
                "normalise": st.column_config.SelectboxColumn(
                    tr("setup.normalise"), options=["none", "zscore"]
                ),
                "trim": st.column_config.NumberColumn(tr("setup.trim"), min_value=0, step=1),
                "min_reviews": st.column_config.NumberColumn(
                    tr("setup.min_reviews"), min_value=0, step=1
                ),
            },
        )
        st.markdown(f"**{tr('setup.rubric')}**")
        criteria = st.data_editor(
            # Levels have their own boxes below: a list in a table cell is no way to edit them.
            pd.DataFrame(
                [{k: v for k, v in c.items() if k != "levels"} for c in definition["criteria"]],
                columns=["panel", "key", "name", "description", "max_points", "step"],
            ),
            key=f"criteria_{campaign.slug}",
            hide_index=True,
            width="stretch",
            num_rows="dynamic",
            column_config={
                "panel": st.column_config.SelectboxColumn(
                    tr("setup.panel"),
                    options=[c["key"] for c in definition["components"] if c["kind"] == "panel"],
                    required=True,
                ),
                "key": st.column_config.TextColumn(tr("setup.key"), required=True),
                "name": st.column_config.TextColumn(tr("setup.criterion_name"), required=True),
                "description": st.column_config.TextColumn(tr("setup.description"), width="large"),
                "max_points": st.column_config.NumberColumn(
                    tr("setup.max_points"), min_value=0.5, step=0.5, required=True
                ),
                "step": st.column_config.NumberColumn(
                    tr("setup.step"), min_value=0.5, step=0.5, default=1.0
                ),
            },
        )
        typed_levels = _level_boxes(definition, f"{campaign.slug}_{view.version}")
        confirmed = False
        if started:
            confirmed = st.checkbox(tr("setup.confirm"), help=tr("setup.confirm_help"))
        if st.form_submit_button(tr("setup.save"), type="primary"):
            component_rows = components.to_dict("records")
            data = {
                **definition,
                "name": name,
                "year": int(year),
                "categories": _lines(categories),
                "domains": _lines(domains),
                "vote_group": vote_group,
                "rank_group": rank_group,
                "tie_break": tie_break,
                "award_quota": int(award_quota),
                "min_images": int(min_images),
                "max_entries_per_applicant_per_domain": int(per_applicant),
                "blind_review": bool(blind),
                "comment_at_extremes": bool(extremes),
                **dates,
                "components": [
                    {
                        **row,
                        "weight": float(row["weight"]),
                        "trim": int(row.get("trim") or 0),
                        "min_reviews": int(row.get("min_reviews") or 0),
                    }
                    for row in component_rows
                ],
                "criteria": [
                    {
                        **row,
                        "description": row.get("description") or "",
                        "step": float(row.get("step") or 1),
                    }
                    for row in criteria.dropna(subset=["key", "name"]).to_dict("records")
                ],
            }

            def _on_error(error) -> None:
                if isinstance(error, StaleEdit):
                    st.session_state[f"setup_stale_{campaign.slug}"] = True

            def _work(session):
                # Read inside the write: a box that cannot be read is refused like any problem.
                edited = {**data, "criteria": _with_levels(data["criteria"], typed_levels)}
                return update_campaign(
                    session,
                    actor,
                    campaign,
                    edited,
                    expected_version=view.version,
                    confirmed=confirmed,
                )

            ok, changed = run_write(_work, on_error=_on_error)
            if ok:
                _forget_view(campaign)
                st.success(in_campaign(tr("setup.saved", count=len(changed or []))))
    weights = sum(c["weight"] for c in definition["components"])
    st.caption(tr("setup.weights_now", total=f"{weights:g}"))


with st.expander(tr("setup.new"), expanded=False):
    _create()
campaign = pick_campaign(actor)
final_banner(actor, campaign)
if campaign is not None:
    _edit(campaign)
