"""Progress: a reviewer's own (a bar, the counts, what is left, each one a click away), or,
for organisers, every reviewer's, who is behind, and reminders to them (issue 14.9)."""

import time

import pandas as pd
import streamlit as st

from pages._shared import (
    ENTRY_PAGE,
    current_actor,
    entry_link,
    in_campaign,
    pick_campaign,
    progress_bar,
    require_page,
    sign_out_if_inactive,
    t,
)
from scoring import context
from scoring.beijing_time import in_beijing
from scoring.errors import ReviewDeskError
from scoring.i18n import LANGUAGES
from scoring.literal import markdown_literal
from scoring.permissions import can_manage
from scoring.services.entries import entries_frame
from scoring.services.progress import ReviewerProgress, behind, behind_text, team_progress
from scoring.services.reminders import (
    RESEND_AFTER,
    plan_reminders,
    send_reminders,
    smtp_config,
)
from scoring.services.review import OPEN_STATES, next_to_score, own_conflicts

actor = current_actor()
require_page(actor.is_reviewer or can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

# Session keys (comments, not strings: Streamlit's magic would draw a bare string): when this
# tab started a sending (a click while it runs sends nothing more), and the outcome of the
# last sending(s), shown once after the dialog closes.
SENDING = "reminders_sending"
REPORTS = "reminders_reports"


def _table(rows: list[ReviewerProgress]) -> pd.DataFrame:
    """One row per reviewer, last activity in Beijing time (shown as text, never Markdown)."""
    return pd.DataFrame(
        [
            {
                # What a hurried organiser looks for first comes first: on a phone the
                # table scrolls sideways and the later columns are off screen.
                tr.plain("team_progress.col_name"): row.name,
                tr.plain("team_progress.col_missing"): row.missing,
                tr.plain("team_progress.col_assigned"): row.assigned,
                tr.plain("team_progress.col_submitted"): row.submitted,
                tr.plain("team_progress.col_drafts"): row.drafts,
                tr.plain("team_progress.col_conflicts"): row.conflicts,
                tr.plain("team_progress.col_last_activity"): (
                    f"{in_beijing(row.last_activity):%Y-%m-%d %H:%M}"
                    if row.last_activity
                    else tr.plain("team_progress.never")
                ),
                tr.plain("team_progress.col_panel"): tr.plain(f"panel.{row.panel}"),
                tr.plain("team_progress.col_email"): row.email
                or tr.plain("team_progress.no_email"),
            }
            for row in rows
        ]
    )


def _show_reports() -> None:
    for report in st.session_state.pop(REPORTS, []):
        if report.sent:
            st.success(in_campaign(tr("reminders.sent", count=len(report.sent))))
        if report.failed:
            st.error(tr("reminders.failed", count=len(report.failed)))
            for failure in report.failed:
                st.text(
                    tr.plain(
                        "reminders.failed_line",
                        name=failure.name or failure.username,
                        email=failure.email,
                        error=failure.error,
                    )
                )
        if report.recently_reminded:
            st.info(
                tr(
                    "reminders.recently",
                    minutes=int(RESEND_AFTER.total_seconds() // 60),
                    count=len(report.recently_reminded),
                    names=", ".join(r.name for r in report.recently_reminded),
                )
            )
        if not report.deliveries and not report.recently_reminded:
            st.info(tr("reminders.nothing_sent"))


def _send(usernames: tuple[str, ...], lang: str) -> None:
    """The confirmed sending; a second click while one runs in this tab sends nothing."""
    started = st.session_state.get(SENDING)
    if started and time.time() - started < 120:
        st.warning(tr("reminders.in_progress"))
        return
    st.session_state[SENDING] = time.time()
    try:
        with st.spinner(tr.plain("reminders.sending")):
            report = send_reminders(
                context.database(), actor, campaign, lang=lang, usernames=list(usernames)
            )
    except ReviewDeskError as error:
        sign_out_if_inactive(error)
        st.error(error.markdown(tr.lang))
        return
    finally:
        st.session_state.pop(SENDING, None)
    st.session_state.setdefault(REPORTS, []).append(report)
    st.rerun()


def _confirm(usernames: tuple[str, ...], lang: str) -> None:
    """Who will get a reminder, how many, and what the first one reads, before anything goes."""
    with context.database().read() as session:
        plan = plan_reminders(session, actor, campaign, lang=lang, usernames=list(usernames))
    if not plan.reminders:
        st.info(tr("reminders.nobody"))
        return
    st.warning(tr("reminders.confirm_body", count=len(plan.reminders), campaign=campaign.name))
    st.text(
        "\n".join(
            tr.plain("reminders.confirm_line", name=r.name, email=r.email, missing=r.missing)
            for r in plan.reminders
        )
    )
    with st.expander(tr("reminders.preview")):
        first = plan.reminders[0]
        st.text(f"{first.subject}\n\n{first.body}")
    go, cancel = st.columns(2)
    label = tr("reminders.confirm_go", count=len(plan.reminders))
    if go.button(label, type="primary", key="reminders_go", width="stretch"):
        _send(tuple(r.username for r in plan.reminders), lang)
    if cancel.button(tr("reminders.cancel"), key="reminders_cancel", width="stretch"):
        st.rerun()


def _reminders() -> None:
    """Reminder e-mails, or plainly why not and which settings would allow them."""
    st.subheader(tr("reminders.title"))
    _show_reports()
    if campaign.finalised_at is not None:
        st.info(tr("reminders.finalised"))
        return
    config = smtp_config()
    if config is None:
        st.warning(tr("reminders.not_configured"))
        return
    st.caption(
        tr("reminders.server", host=config.host, port=str(config.port), sender=config.sender)
    )
    lang = st.radio(
        tr("reminders.language"),
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        horizontal=True,
        key="reminders_lang",
    )
    with context.database().read() as session:
        plan = plan_reminders(session, actor, campaign, lang=lang)
    st.write(tr("reminders.recipients", count=len(plan.reminders)))
    if plan.without_email:
        names = ", ".join(r.name for r in plan.without_email)
        st.caption(tr("reminders.without_email", count=len(plan.without_email), names=names))
    if plan.recently_reminded:
        st.caption(
            tr(
                "reminders.recently",
                minutes=int(RESEND_AFTER.total_seconds() // 60),
                count=len(plan.recently_reminded),
                names=", ".join(r.name for r in plan.recently_reminded),
            )
        )
    if not plan.reminders:
        return
    if st.button(tr("reminders.open"), type="primary", icon=":material/mail:"):
        usernames = tuple(r.username for r in plan.reminders)
        st.dialog(tr("reminders.confirm_title"))(_confirm)(usernames, lang)


def _team() -> None:
    """The organisers' view: every reviewer, who is behind (to copy), reminders."""
    st.title(tr("team_progress.title"))
    st.caption(" · ".join((markdown_literal(campaign.name), tr("team_progress.caption"))))
    with context.database().read() as session:
        rows = team_progress(session, actor, campaign)
    if not rows:
        st.info(tr("team_progress.none_yet"))
        return
    st.subheader(tr("team_progress.per_reviewer"))
    st.dataframe(_table(rows), hide_index=True, width="stretch")
    late = behind(rows)
    st.subheader(tr("team_progress.behind_title", count=len(late)))
    if not late:
        st.success(tr("team_progress.all_done"))
    else:
        st.caption(tr("team_progress.copy_caption"))
        st.code(behind_text(rows, tr.lang), language=None, wrap_lines=True)
    _reminders()


if can_manage(actor):
    _team()
    st.stop()

st.title(tr("progress.title"))
st.caption(" · ".join((markdown_literal(campaign.name), tr(f"panel.{actor.role}"))))
counts = progress_bar(actor, campaign)
with context.database().read() as session:
    frame = entries_frame(session, actor, campaign)
    conflicts = own_conflicts(session, actor, campaign)
cells = st.columns(4 if conflicts else 3)
cells[0].metric(tr("my_entries.assigned"), counts["assigned"])
cells[1].metric(tr("my_entries.submitted"), counts["submitted"])
cells[2].metric(tr("my_entries.drafts"), counts["drafts"])
if conflicts:
    cells[3].metric(tr("my_conflicts.count"), len(conflicts))

left = frame[frame["state"].isin(OPEN_STATES)]


def _declared_conflicts() -> None:
    """Entries the reviewer declared a conflict on leave every list: show them here instead."""
    if not conflicts:
        return
    with st.container(border=True):
        st.subheader(tr("my_conflicts.title"))
        st.caption(tr("my_conflicts.caption"))
        for conflict in conflicts:
            code, about = st.columns([2, 7], vertical_alignment="center")
            code.text(conflict.code)
            about.text(conflict.title)
            about.caption(
                " · ".join(
                    (
                        tr("my_conflicts.reason", reason=conflict.reason),
                        tr("my_conflicts.declared_at", when=f"{conflict.declared_at:%Y-%m-%d}"),
                    )
                )
            )


st.subheader(tr("progress.left"))
if left.empty:
    st.success(tr("progress.nothing_left"))
    _declared_conflicts()
    st.stop()
if st.button(tr("progress.score_next"), type="primary", icon=":material/edit:"):
    # Looked up on the click only: every other run of the page would read the list twice.
    with context.database().read() as session:
        upcoming = next_to_score(session, actor, campaign, None)
    if upcoming:
        st.switch_page(ENTRY_PAGE, query_params={"code": upcoming})
    st.rerun()  # the last one was scored meanwhile (another tab): the list says so
for row in left.to_dict("records"):
    with st.container(border=True):
        code, title, state, link = st.columns([2, 5, 2, 2], vertical_alignment="center")
        code.text(row["code"])
        title.text(row["title"])
        state.badge(
            tr(f"state.{row['state']}"), color="blue" if row["state"] == "draft" else "orange"
        )
        with link:
            entry_link(row["code"], tr("gallery.score"))

_declared_conflicts()
