"""Public gallery and vote (网上展厅与投票): the hall's settings, votes over time, bursts, voids."""

from datetime import date, datetime, time
from urllib.parse import quote

import pandas as pd
import streamlit as st

from pages._banner import final_banner
from pages._shared import current_actor, in_campaign, pick_campaign, require_page, run_write, t
from scoring import charts, context
from scoring.literal import markdown_literal
from scoring.permissions import can_configure_public, can_void_votes
from scoring.services.guard import voting_window_holds
from scoring.services.public_settings import (
    as_utc,
    changes_voting_state,
    combine_local,
    configure_public,
    local_text,
    local_time,
)
from scoring.services.vote_watch import (
    BASELINE_FACTOR,
    BASELINE_MIN_VOTES,
    BURST_VOTES,
    BURST_WINDOW,
    BurstWarning,
    VoidRecord,
    cumulative,
    void_burst,
    watch_votes,
)
from scoring.storage.models import PUBLIC_FIELDS, utcnow

actor = current_actor()
require_page(can_configure_public(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("public_admin.title"))
st.caption(markdown_literal(campaign.name))
final_banner(actor, campaign)

with context.database().read() as session:
    watch = watch_votes(session, actor, campaign)
now = utcnow()
finalised = campaign.finalised_at is not None
may_void = can_void_votes(actor, finalised=finalised)


def _rerun_after(ok: bool) -> None:
    if ok:
        st.rerun()


# --- state and the public address ------------------------------------------------------------
def _voting_state() -> str:
    opens, closes = campaign.vote_opens_at, campaign.vote_closes_at
    if finalised:  # a finalised campaign refuses votes whatever its window says
        return tr("public_admin.state_finalised")
    if opens is None or closes is None:
        return tr("public_admin.state_no_window")
    if voting_window_holds(campaign, now):
        return tr("public_admin.state_voting_open", closes=local_text(closes))
    if now < opens:
        return tr(
            "public_admin.state_voting_scheduled",
            opens=local_text(opens),
            closes=local_text(closes),
        )
    return tr("public_admin.state_voting_over", closes=local_text(closes))


state, link = st.columns([3, 1], vertical_alignment="center")
state.markdown(
    tr(
        "public_admin.state_gallery_on"
        if campaign.public_gallery
        else "public_admin.state_gallery_off"
    )
    + " "
    + _voting_state()
)
# A relative address: the public hall sits next to this page, under any base path.
link.link_button(
    tr.plain("public_admin.open_hall"),
    f"hall?campaign={quote(campaign.slug)}",
    icon=":material/open_in_new:",
    width="stretch",
)


# --- settings ----------------------------------------------------------------------------------
def _save(settings: dict) -> None:
    ok, change = run_write(lambda s: configure_public(s, actor, campaign, **settings))
    if ok and change is not None:
        st.toast(
            in_campaign(tr("public_admin.saved" if change.changed else "public_admin.unchanged"))
        )
        st.rerun()


def _confirm_dialog(settings: dict, opening: bool) -> None:
    """Opening or closing voting now is what the public sees at once: say so, then save."""
    if opening:
        closes_at = local_text(as_utc(settings["vote_closes"]))
        st.warning(tr("public_admin.confirm_opens", campaign=campaign.name, closes=closes_at))
    else:
        st.warning(tr("public_admin.confirm_closes", campaign=campaign.name))
    go, cancel = st.columns(2)
    if go.button(
        tr("public_admin.confirm_save"), type="primary", key="public_confirm", width="stretch"
    ):
        _save(settings)
    if cancel.button(tr("confirm.cancel"), key="public_cancel", width="stretch"):
        st.rerun()


st.subheader(tr("public_admin.settings"))
opens, closes = local_time(campaign.vote_opens_at), local_time(campaign.vote_closes_at)


def _moment_inputs(end: str, moment: datetime | None) -> tuple[date | None, time | None]:
    """A date box and a time box for one end ("opens" / "closes") of the voting window.

    One row per end: on a phone each date sits above its time.
    """
    left, right = st.columns(2)
    day = left.date_input(
        tr(f"public_admin.{end}_day"),
        value=moment.date() if moment else None,
        format="YYYY-MM-DD",
        key=f"vote_{end}_day:{campaign.slug}",
    )
    clock = right.time_input(
        tr(f"public_admin.{end}_time"),
        value=moment.time() if moment else None,
        step=300,
        key=f"vote_{end}_time:{campaign.slug}",
    )
    return day, clock


with st.form("public_settings_form"):
    gallery = st.toggle(
        tr("public_admin.gallery"),
        value=campaign.public_gallery,
        help=tr.plain("public_admin.gallery_help"),
    )
    fields = st.multiselect(
        tr("public_admin.fields"),
        list(PUBLIC_FIELDS),
        default=[f for f in campaign.public_fields if f in PUBLIC_FIELDS],
        format_func=lambda f: tr.plain(f"public_settings.field_{f}"),
        key=f"public_fields:{campaign.slug}",
    )
    st.caption(tr("public_admin.fields_help"))
    opens_day, opens_clock = _moment_inputs("opens", opens)
    closes_day, closes_clock = _moment_inputs("closes", closes)
    st.caption(tr("public_admin.window_help"))
    submitted = st.form_submit_button(tr("public_admin.save"), type="primary")
if submitted:
    settings = {
        "gallery": gallery,
        "public_fields": fields,
        "vote_opens": combine_local(opens_day, opens_clock),
        "vote_closes": combine_local(closes_day, closes_clock),
    }
    changes = changes_voting_state(campaign, settings["vote_opens"], settings["vote_closes"], now)
    if changes:
        st.dialog(tr("public_admin.confirm_title"))(_confirm_dialog)(
            settings, not voting_window_holds(campaign, now)
        )
    else:
        _save(settings)


# --- votes over time ---------------------------------------------------------------------------
st.subheader(tr("public_admin.chart"))
hourly = watch.hourly
if hourly.empty:
    st.info(tr("public_admin.no_votes"))
else:
    st.caption(tr("public_admin.totals", total=watch.total, counted=watch.counted))
    by_votes = hourly.groupby("code")[["counted", "voided"]].sum().sum(axis=1)
    codes = list(by_votes.sort_values(ascending=False, kind="stable").index)
    titles = dict(zip(hourly["code"], hourly["title"], strict=False))
    flagged = list(dict.fromkeys(w.entry_code for w in watch.warnings))
    default = (flagged + [c for c in codes if c not in flagged])[:5]
    pick, running_box = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.multiselect(
        tr("public_admin.chart_entries"),
        codes,
        default=default,
        format_func=lambda c: f"{c} {titles.get(c, '')}",
        key=f"vote_chart_entries:{campaign.slug}",
    )
    running = running_box.toggle(tr("public_admin.cumulative"), key="vote_chart_running")
    shown = hourly[hourly["code"].isin(chosen)]
    figure = charts.votes_over_time(cumulative(shown) if running else shown, tr, running=running)
    st.plotly_chart(figure, width="stretch")

# --- burst warnings ----------------------------------------------------------------------------
st.subheader(tr("public_admin.warnings"))
st.caption(
    tr(
        "public_admin.rules",
        votes=BURST_VOTES,
        minutes=int(BURST_WINDOW.total_seconds() // 60),
        factor=f"{BASELINE_FACTOR:g}",
        min_votes=BASELINE_MIN_VOTES,
    )
)


def _window(record: BurstWarning | VoidRecord) -> str:
    """A burst's or a void's window in Beijing time, to the second."""
    start = local_text(record.window_start, seconds=True)
    return f"{start} – {local_text(record.window_end, seconds=True)}"


def _void_dialog(warning: BurstWarning) -> None:
    """Say exactly which votes stop counting and where the void is recorded; reason required."""
    st.warning(
        tr(
            "public_admin.void_body",
            count=warning.still_counted,
            code=warning.entry_code,
            title=warning.entry_title,
            campaign=campaign.name,
            network=warning.network,
            start=local_text(warning.window_start, seconds=True),
            end=local_text(warning.window_end, seconds=True),
        )
    )
    if warning.rule == "baseline":
        st.caption(
            tr(
                "public_admin.void_baseline_note",
                network_votes=warning.network_votes,
                votes=warning.votes,
            )
        )
    reason = st.text_input(tr("public_admin.reason"), key="void_reason")
    go, cancel = st.columns(2)
    if go.button(
        tr("public_admin.void_confirm", count=warning.still_counted),
        type="primary",
        key="void_confirm",
        width="stretch",
    ):
        ok, void = run_write(
            lambda s: void_burst(
                s,
                actor,
                campaign,
                warning.entry_code,
                warning.network_key,
                warning.window_start,
                warning.window_end,
                reason,
            )
        )
        if ok and void is not None:
            st.toast(in_campaign(tr("public_admin.voided", count=void.votes)))
            st.rerun()
    if cancel.button(tr("confirm.cancel"), key="void_cancel", width="stretch"):
        st.rerun()


if not watch.warnings:
    st.success(tr("public_admin.no_warnings"))
else:
    st.dataframe(
        pd.DataFrame(
            {
                tr.plain("public_admin.col_rule"): [
                    tr.plain(f"public_admin.rule_{w.rule}") for w in watch.warnings
                ],
                tr.plain("public_admin.col_code"): [w.entry_code for w in watch.warnings],
                tr.plain("public_admin.col_title"): [w.entry_title for w in watch.warnings],
                tr.plain("public_admin.col_votes"): [w.votes for w in watch.warnings],
                tr.plain("public_admin.col_counted"): [w.still_counted for w in watch.warnings],
                tr.plain("public_admin.col_share"): [f"{w.share:.0%}" for w in watch.warnings],
                tr.plain("public_admin.col_network"): [w.network for w in watch.warnings],
                tr.plain("public_admin.col_window"): [_window(w) for w in watch.warnings],
                tr.plain("public_admin.col_network_votes"): [
                    w.network_votes for w in watch.warnings
                ],
                tr.plain("public_admin.col_baseline"): [
                    "" if w.baseline is None else f"{w.baseline:g}" for w in watch.warnings
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    for index, warning in enumerate(watch.warnings):
        line, action = st.columns([5, 1], vertical_alignment="center")
        line.markdown(
            tr(
                "public_admin.warning_line",
                code=warning.entry_code,
                title=warning.entry_title,
                network=warning.network,
                start=local_text(warning.window_start, seconds=True),
                end=local_text(warning.window_end, seconds=True),
                counted=warning.still_counted,
                votes=warning.votes,
            )
        )
        if warning.still_counted == 0:
            action.caption(tr("public_admin.void_done"))
        elif action.button(
            tr("public_admin.void_open"),
            key=f"void_{index}",
            disabled=not may_void,
            width="stretch",
        ):
            st.dialog(tr("public_admin.void_title"))(_void_dialog)(warning)

# --- past voids --------------------------------------------------------------------------------
st.subheader(tr("public_admin.voids"))
if not watch.voids:
    st.caption(tr("public_admin.no_voids"))
else:
    st.dataframe(
        pd.DataFrame(
            {
                tr.plain("public_admin.col_at"): [
                    local_text(v.at, seconds=True) for v in watch.voids
                ],
                tr.plain("public_admin.col_code"): [v.entry_code for v in watch.voids],
                tr.plain("public_admin.col_title"): [v.entry_title for v in watch.voids],
                tr.plain("public_admin.col_voided"): [v.votes for v in watch.voids],
                tr.plain("public_admin.col_reason"): [v.reason for v in watch.voids],
                tr.plain("public_admin.col_by"): [v.actor for v in watch.voids],
                tr.plain("public_admin.col_network"): [v.network for v in watch.voids],
                tr.plain("public_admin.col_window"): [_window(v) for v in watch.voids],
            }
        ),
        hide_index=True,
        width="stretch",
    )
