"""Every use case through every campaign state and every kind of actor (SPEC §1).

Four campaigns are built once per database: open, one panel (expert) locked, finalised, and
finalised then withdrawn. Eight actors (seven accounts and the public visitor, who is not
signed in and may pass only the public rules of SPEC §8) call each public use case of
``scoring/services`` and ``scoring/importers`` holding what a page would hold: an ``Actor``
and a ``Campaign`` read while the campaign was still open (a stale tab). The expected outcome
is written out below as data, not derived from ``scoring.permissions``, so breaking one
predicate fails this test:

* allowed: the call is not refused (a business rule may still say no, e.g. "panels open");
* refused: it raises the role's ``PermissionDenied`` or the state's ``StateRefused`` with the
  state's one key, and every table is exactly as before, read in the same transaction.
"""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select

import scoring.importers
import scoring.services
from scoring.assets import AssetStore
from scoring.errors import PermissionDenied, ReviewDeskError, StateRefused
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.importers.scores import apply_scores_import, plan_scores_import
from scoring.importers.templates import build_template
from scoring.importers.users import apply_users_import, plan_users_import
from scoring.importers.votes import apply_votes_import, plan_votes_import
from scoring.permissions import Actor
from scoring.services import (
    accounts,
    announce,
    assignments,
    audit,
    campaigns,
    entries,
    entry_edit,
    export,
    finalise,
    gallery,
    materials,
    meeting,
    my_scores,
    notice,
    overview,
    precheck,
    progress,
    public_gallery,
    public_settings,
    publication,
    reminders,
    review,
    setup,
    sheets,
    stages,
    standings,
    vote_watch,
    voting,
)
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from scoring.storage.models import Account, Campaign, Entry, utcnow
from tests.conftest import PG_ENV, skip_or_fail
from tests.factories import (
    ORGANISER,
    actor_of,
    assigned,
    cast_votes,
    make_account,
    make_campaign,
    make_entry,
)

STATES = ("open", "panel_locked", "finalised", "withdrawn")
ACTORS = (
    "organiser",
    "expert",
    "media",
    "deactivated",
    "demoted",
    "unassigned",
    "conflicted",
    "public",
)
ALL = frozenset(STATES)
CHANGEABLE = frozenset({"open", "panel_locked", "withdrawn"})

# Who may, in which states. Anything not listed is refused.
ORGANISER_READ = {"organiser": ALL}
ORGANISER_CHANGE = {"organiser": CHANGEABLE}
ORGANISER_ANY_STATE = {"organiser": ALL}
WITHDRAW = {"organiser": frozenset({"finalised"})}
PUBLISH = {"organiser": frozenset({"finalised"})}
LIST = {a: ALL for a in ("organiser", "expert", "media", "demoted", "unassigned", "conflicted")}
READ_ENTRY = {a: ALL for a in ("organiser", "expert", "media")}
READ_OWN_SHEET = {a: ALL for a in ("expert", "media")}
OWN_WORK = {a: ALL for a in ("expert", "media", "demoted", "unassigned", "conflicted")}
# Finalising needs every panel locked, and withdrawing leaves them locked.
WRITE_OWN_SHEET = {"expert": frozenset({"open"}), "media": frozenset({"open", "panel_locked"})}
SIGNED_IN = {a: ALL for a in ACTORS if a not in ("deactivated", "public")}
# The public pages (SPEC §8): anybody, signed in or not, but not a deactivated account.
PUBLIC_READ = {a: ALL for a in ACTORS if a != "deactivated"}
PUBLIC_VOTE = {a: CHANGEABLE for a in ACTORS if a != "deactivated"}
NOTICE_READ = {a: frozenset({"finalised"}) for a in ACTORS if a != "deactivated"}


@dataclass
class Scene:
    """One built campaign in one state, and what a stale page would hold about it."""

    database: Database
    state: str
    actors: dict[str, Actor]
    stale_campaign: Campaign
    ids: dict[str, int]
    files: Path
    store: AssetStore
    tables: dict[str, list[tuple]] | None = None
    """Every row of every table as built; every call is rolled back, so it stays this."""


# --- building the four campaigns -------------------------------------------------------------


BURST_NETWORK = "b" * 64
BURST_START = utcnow() - timedelta(hours=2)
BURST_VOTES = 25


def _build(session: Session) -> dict[str, int]:
    campaign = make_campaign(session)
    first = make_entry(session, campaign, "M-1")
    second = make_entry(session, campaign, "M-2")
    third = make_entry(session, campaign, "M-3", status="accepted")
    # The hall is public and voting open; a burst on M-3, which no tally import touches.
    campaign.public_gallery = True
    campaign.vote_opens_at, campaign.vote_closes_at = BURST_START, utcnow() + timedelta(days=30)
    session.add(campaign)
    cast_votes(session, third, BURST_VOTES, network_key=BURST_NETWORK, start=BURST_START)
    people = {
        "organiser": make_account(session, "org1", "organiser"),
        "demoted": make_account(session, "org2", "organiser"),
        "expert": make_account(session, "expert1", "expert"),
        "media": make_account(session, "media1", "media"),
        "deactivated": make_account(session, "expert2", "expert"),
        "unassigned": make_account(session, "expert3", "expert"),
        "conflicted": make_account(session, "expert4", "expert"),
    }
    for key in ("expert", "media", "deactivated", "conflicted"):
        assigned(session, first, people[key])
        assigned(session, second, people[key])
    ids = {f"account:{k}": a.id for k, a in people.items()}
    ids.update({"M-1": first.id, "M-2": second.id, "campaign": campaign.id})
    return ids


def _import_votes(session: Session, files: Path, campaign: Campaign) -> None:
    path = files / "votes.csv"
    path.write_text("code,votes\nM-1,100\nM-2,50\n", "utf-8")
    apply_votes_import(session, ORGANISER, plan_votes_import(session, campaign, path))


def _campaign(session: Session) -> Campaign:
    return session.exec(select(Campaign)).one()


def _reach_state(db: Database, state: str, ids: dict[str, int], files: Path) -> None:
    def scored(session: Session) -> None:
        campaign = _campaign(session)
        _import_votes(session, files, campaign)
        expert = session.get(Account, ids["account:expert"])
        media = session.get(Account, ids["account:media"])
        sheets.save_own_sheet(
            session,
            actor_of(expert),
            entry_id=ids["M-1"],
            points={"innovation": 50, "impact": 30},
            comment="",
            submit=True,
            expected_version=None,
        )
        sheets.save_own_sheet(
            session,
            actor_of(expert),
            entry_id=ids["M-2"],
            points={"innovation": 20},
            comment="",
            submit=False,
            expected_version=None,
        )
        sheets.save_own_sheet(
            session,
            actor_of(media),
            entry_id=ids["M-1"],
            points={"story": 80},
            comment="",
            submit=True,
            expected_version=None,
        )
        conflicted = session.get(Account, ids["account:conflicted"])
        review.declare_conflict(session, actor_of(conflicted), campaign, "M-1", "同一单位")

    db.write(scored)
    if state == "panel_locked":
        db.write(
            lambda s: finalise.set_panel_lock(
                s, ORGANISER, _campaign(s), "expert", True, "评审结束"
            )
        )
    if state in ("finalised", "withdrawn"):
        for panel in ("expert", "media"):
            db.write(
                lambda s, p=panel: finalise.set_panel_lock(
                    s, ORGANISER, _campaign(s), p, True, "结束"
                )
            )

        def freeze(session: Session) -> None:
            campaign = _campaign(session)
            pending = finalise.pending_decisions(session, ORGANISER, campaign)
            provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
            finalise.finalise(
                session, ORGANISER, campaign, {code: "评审会确认" for code in provisional}
            )

        db.write(freeze)
        db.write(lambda s: notice.publish_notice(s, ORGANISER, _campaign(s)))
    if state == "withdrawn":
        db.write(lambda s: finalise.unfinalise(s, ORGANISER, _campaign(s), "更正票数"))

    def accounts_change(session: Session) -> None:
        accounts.set_active(session, ORGANISER, "expert2", False)
        accounts.change_role(session, ORGANISER, "org2", "expert")

    db.write(accounts_change)


def _stale_actors(ids: dict[str, int]) -> dict[str, Actor]:
    """What each page holds: the role the account had when the tab signed in."""
    roles = {
        "organiser": ("org1", "organiser"),
        "demoted": ("org2", "organiser"),
        "expert": ("expert1", "expert"),
        "media": ("media1", "media"),
        "deactivated": ("expert2", "expert"),
        "unassigned": ("expert3", "expert"),
        "conflicted": ("expert4", "expert"),
    }
    actors = {
        key: Actor(username=name, role=role, account_id=ids[f"account:{key}"])
        for key, (name, role) in roles.items()
    }
    return {**actors, "public": Actor.public_visitor()}


def _pg_database(base: str) -> Iterator[str]:
    url = make_url(base)
    name = f"reviewdesk_matrix_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def scenes(request, tmp_path_factory) -> Iterator[dict[str, Scene]]:
    """The four campaigns on one backend, built once for the whole module."""
    built: dict[str, Scene] = {}
    cleanups: list[Iterator[str]] = []
    if request.param == "postgres" and not os.environ.get(PG_ENV):
        skip_or_fail(f"PostgreSQL tests need {PG_ENV}")
    for state in STATES:
        folder = tmp_path_factory.mktemp(f"matrix-{request.param}-{state}")
        if request.param == "sqlite":
            url = f"sqlite:///{folder / 'reviewdesk.db'}"
        else:
            generator = _pg_database(os.environ[PG_ENV])
            url = next(generator)
            cleanups.append(generator)
        db = Database(url)
        upgrade(db)
        ids = db.write(_build)
        with db.read() as session:
            row = _campaign(session)
            stale = Campaign(**row.model_dump())
        _reach_state(db, state, ids, folder)
        built[state] = Scene(
            db, state, _stale_actors(ids), stale, ids, folder, AssetStore(folder / "store")
        )
    yield built
    for scene in built.values():
        scene.database.dispose()
    for generator in cleanups:
        next(generator, None)


# --- the use cases, each called as a page or the CLI would ----------------------------------


def _entry(s: Session, scene: Scene, code: str) -> Entry:
    return s.get(Entry, scene.ids[code])


def _account(s: Session, scene: Scene, key: str) -> Account:
    return s.get(Account, scene.ids[f"account:{key}"])


ENTRY_ROW = (
    "code,title,applicant,category,domain,votes,status\n"
    "M-9,新作品,某单位,数字政府,政务服务,99999,shortlisted\n"
)


def _file(scene: Scene, name: str, content: str) -> Path:
    path = scene.files / f"{uuid.uuid4().hex[:6]}-{name}"
    path.write_text(content, "utf-8")
    return path


def _update_campaign(s: Session, a: Actor, c: Campaign, scene: Scene) -> Any:
    view = setup.setup_view(s, ORGANISER, c)
    data = {**view.definition, "name": "改名后的评选"}
    return setup.update_campaign(s, a, c, data, expected_version=view.version, confirmed=True)


Call = Callable[[Session, Actor, Campaign, Scene], Any]

USE_CASES: dict[Callable[..., Any], tuple[dict[str, frozenset[str]], Call]] = {
    # accounts: not campaign data, organisers in any state
    accounts.list_accounts: (ORGANISER_ANY_STATE, lambda s, a, c, sc: accounts.list_accounts(s, a)),
    accounts.create_account: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: accounts.create_account(
            s, a, username="new1", display_name="新人", role="expert"
        ),
    ),
    accounts.set_active: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: accounts.set_active(s, a, "expert3", False),
    ),
    accounts.change_role: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: accounts.change_role(s, a, "expert3", "media"),
    ),
    accounts.reset_password: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: accounts.reset_password(s, a, "expert3"),
    ),
    accounts.change_own_password: (
        SIGNED_IN,
        lambda s, a, c, sc: accounts.change_own_password(s, a, "secret-pass", "another-pass"),
    ),
    campaigns.create_campaign: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: make_campaign_as(s, a),
    ),
    campaigns.campaigns_for: (LIST, lambda s, a, c, sc: campaigns.campaigns_for(s, a)),
    apply_users_import: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: apply_users_import(
            s,
            a,
            plan_users_import(
                s, _file(sc, "users.csv", "username,display_name,role\nnew2,新人,media\n")
            ),
        ),
    ),
    # organiser reads, in every state
    announce.announcement: (ORGANISER_READ, lambda s, a, c, sc: announce.announcement(s, a, c)),
    announce.stage: (ORGANISER_READ, lambda s, a, c, sc: announce.stage(s, a, c)),
    assignments.coverage_matrix: (
        ORGANISER_READ,
        lambda s, a, c, sc: assignments.coverage_matrix(s, a, c, "expert"),
    ),
    audit.list_events: (
        ORGANISER_READ,
        lambda s, a, c, sc: audit.list_events(s, a, campaign_id=c.id),
    ),
    audit.events_csv: (
        ORGANISER_READ,
        lambda s, a, c, sc: audit.events_csv(s, a, "zh", campaign_id=c.id),
    ),
    audit.check_chain: (ORGANISER_READ, lambda s, a, c, sc: audit.check_chain(s, a)),
    export.live_export_data: (
        ORGANISER_READ,
        lambda s, a, c, sc: export.live_export_data(s, a, c),
    ),
    export.frozen_snapshot: (
        ORGANISER_READ,
        lambda s, a, c, sc: export.frozen_snapshot(s, a, c),
    ),
    entries.campaign_counts: (ORGANISER_READ, lambda s, a, c, sc: entries.campaign_counts(s, a, c)),
    entries.top_by_votes: (ORGANISER_READ, lambda s, a, c, sc: entries.top_by_votes(s, a, c, 1)),
    export.export_data: (ORGANISER_READ, lambda s, a, c, sc: export.export_data(s, a, c)),
    export.export_workbook: (ORGANISER_READ, lambda s, a, c, sc: export.export_workbook(s, a, c)),
    export.organisation_results: (
        ORGANISER_READ,
        lambda s, a, c, sc: export.organisation_results(s, a, c),
    ),
    finalise.pending_decisions: (
        ORGANISER_READ,
        lambda s, a, c, sc: finalise.pending_decisions(s, a, c),
    ),
    finalise.finalise_preview: (
        ORGANISER_READ,
        lambda s, a, c, sc: finalise.finalise_preview(s, a, c),
    ),
    overview.overview_view: (ORGANISER_READ, lambda s, a, c, sc: overview.overview_view(s, a, c)),
    meeting.meeting_view: (ORGANISER_READ, lambda s, a, c, sc: meeting.meeting_view(s, a, c)),
    finalise.finalise_view: (
        ORGANISER_READ,
        lambda s, a, c, sc: finalise.finalise_view(s, a, c),
    ),
    finalise.final_state: (ORGANISER_READ, lambda s, a, c, sc: finalise.final_state(s, a, c)),
    finalise.final_content: (ORGANISER_READ, lambda s, a, c, sc: finalise.final_content(s, a, c)),
    finalise.final_records: (ORGANISER_READ, lambda s, a, c, sc: finalise.final_records(s, a, c)),
    meeting.revisions: (ORGANISER_READ, lambda s, a, c, sc: meeting.revisions(s, a, c)),
    precheck.precheck_flags: (
        ORGANISER_READ,
        lambda s, a, c, sc: precheck.precheck_flags(s, a, c, sc.store),
    ),
    precheck.applicant_links: (
        ORGANISER_READ,
        lambda s, a, c, sc: precheck.applicant_links(s, a, c),
    ),
    progress.panel_progress: (ORGANISER_READ, lambda s, a, c, sc: progress.panel_progress(s, a, c)),
    progress.team_progress: (ORGANISER_READ, lambda s, a, c, sc: progress.team_progress(s, a, c)),
    stages.stage_report: (ORGANISER_READ, lambda s, a, c, sc: stages.stage_report(s, a, c)),
    # reminders: planned and claimed while sheets can still change; the outcome of mail
    # already sent is recorded in any state
    reminders.plan_reminders: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: reminders.plan_reminders(s, a, c),
    ),
    reminders.claim_reminders: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: reminders.claim_reminders(s, a, c, smtp_host="mail.example.org"),
    ),
    reminders.record_deliveries: (
        ORGANISER_READ,
        lambda s, a, c, sc: reminders.record_deliveries(
            s, a, c, [reminders.Delivery("expert1", "e1@example.org", ok=True)]
        ),
    ),
    setup.setup_view: (ORGANISER_READ, lambda s, a, c, sc: setup.setup_view(s, a, c)),
    standings.standings_frame: (
        ORGANISER_READ,
        lambda s, a, c, sc: standings.standings_frame(s, a, c),
    ),
    standings.live_standings: (
        ORGANISER_READ,
        lambda s, a, c, sc: standings.live_standings(s, a, c),
    ),
    standings.standings_json_records: (
        ORGANISER_READ,
        lambda s, a, c, sc: standings.standings_json_records(s, a, c),
    ),
    standings.last_change: (ORGANISER_READ, lambda s, a, c, sc: standings.last_change(s, a, c)),
    # changes of what feeds the result: organisers, not once finalised
    assignments.assign: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: assignments.assign(
            s, a, entry=_entry(s, sc, "M-1"), reviewer=_account(s, sc, "unassigned")
        ),
    ),
    assignments.unassign: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: assignments.unassign(
            s, a, entry=_entry(s, sc, "M-2"), reviewer=_account(s, sc, "conflicted")
        ),
    ),
    assignments.auto_assign: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: assignments.auto_assign(s, a, c),
    ),
    entries.shortlist: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: entries.shortlist(s, a, c, codes=["M-3"]),
    ),
    entries.unshortlist: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: entries.unshortlist(s, a, c, ["M-3"]),
    ),
    finalise.decide_tie: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: finalise.decide_tie(s, a, c, "M-1", True, "评审会决定"),
    ),
    finalise.set_override: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: finalise.set_override(s, a, c, "M-2", True, "委员会决定"),
    ),
    finalise.clear_override: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: finalise.clear_override(s, a, c, "M-2", "撤回"),
    ),
    finalise.set_group_quota: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: finalise.set_group_quota(s, a, c, "数字政府", 2, "增加名额"),
    ),
    finalise.set_panel_lock: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: finalise.set_panel_lock(s, a, c, "media", True, "结束"),
    ),
    finalise.finalise: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: finalise.finalise(s, a, c, {"M-1": "确认"}),
    ),
    finalise.unfinalise: (WITHDRAW, lambda s, a, c, sc: finalise.unfinalise(s, a, c, "更正")),
    # the printed result: organisers, only from the snapshot in force
    publication.certificates: (
        PUBLISH,
        lambda s, a, c, sc: publication.certificates(s, a, c),
    ),
    publication.casebook: (
        PUBLISH,
        lambda s, a, c, sc: publication.casebook(s, a, c, sc.store),
    ),
    build_template: (
        ORGANISER_READ,
        lambda s, a, c, sc: build_template(s, a, "scores", c),
    ),
    # the public gallery, its vote and the results notice (SPEC §8)
    public_gallery.public_campaigns: (
        PUBLIC_READ,
        lambda s, a, c, sc: public_gallery.public_campaigns(s, a),
    ),
    public_gallery.hall_view: (PUBLIC_READ, lambda s, a, c, sc: public_gallery.hall_view(s, a, c)),
    public_gallery.public_entry: (
        PUBLIC_READ,
        lambda s, a, c, sc: public_gallery.public_entry(s, a, c, "M-1"),
    ),
    voting.public_vote_status: (
        PUBLIC_READ,
        lambda s, a, c, sc: voting.public_vote_status(s, a, c, "198.51.100.7"),
    ),
    voting.cast_vote: (
        PUBLIC_VOTE,
        lambda s, a, c, sc: voting.cast_vote(s, a, c, "M-1", "198.51.100.7"),
    ),
    public_settings.configure_public: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: public_settings.configure_public(
            s, a, c, gallery=True, public_fields=["code"], vote_opens=None, vote_closes=None
        ),
    ),
    vote_watch.watch_votes: (ORGANISER_READ, lambda s, a, c, sc: vote_watch.watch_votes(s, a, c)),
    vote_watch.void_burst: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: vote_watch.void_burst(
            s,
            a,
            c,
            "M-3",
            BURST_NETWORK,
            BURST_START,
            BURST_START + timedelta(minutes=1),
            "同一网段刷票",
        ),
    ),
    notice.notice_state: (ORGANISER_READ, lambda s, a, c, sc: notice.notice_state(s, a, c)),
    notice.publish_notice: (PUBLISH, lambda s, a, c, sc: notice.publish_notice(s, a, c)),
    notice.notice_preview: (PUBLISH, lambda s, a, c, sc: notice.notice_preview(s, a, c)),
    notice.withdraw_notice: (
        ORGANISER_ANY_STATE,
        lambda s, a, c, sc: notice.withdraw_notice(s, a, c, "公示有误"),
    ),
    notice.results_notice: (
        NOTICE_READ,
        lambda s, a, c, sc: notice.results_notice(s, a, c.slug),
    ),
    notice.published_notices: (PUBLIC_READ, lambda s, a, c, sc: notice.published_notices(s, a)),
    meeting.open_rounds: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: meeting.open_rounds(s, a, c, ["M-1"]),
    ),
    meeting.close_rounds: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: meeting.close_rounds(s, a, c, ["M-1"]),
    ),
    precheck.decide: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: precheck.decide(s, a, c, ["M-3"], "rejected", "材料不全"),
    ),
    precheck.link_applicants: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: precheck.link_applicants(s, a, c, "某集团", ["某单位"]),
    ),
    precheck.unlink_applicants: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: precheck.unlink_applicants(s, a, c, ["某单位"]),
    ),
    setup.update_campaign: (ORGANISER_CHANGE, _update_campaign),
    apply_votes_import: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: apply_votes_import(
            s, a, plan_votes_import(s, c, _file(sc, "v.csv", "code,votes\nM-1,99999\n"))
        ),
    ),
    apply_scores_import: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: apply_scores_import(
            s,
            a,
            plan_scores_import(
                s,
                c,
                _file(sc, "s.csv", "reviewer,code,criterion,score\nmedia1,M-2,story,70\n"),
                submit=True,
            ),
        ),
    ),
    plan_entries_import: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: plan_entries_import(
            s, a, c, _file(sc, "p.csv", ENTRY_ROW), store=sc.store
        ),
    ),
    apply_entries_import: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: apply_entries_import(
            s,
            a,
            plan_entries_import(
                s,
                a,
                c,
                _file(
                    sc,
                    "e.csv",
                    "code,title,applicant,category,domain,votes,status\n"
                    "M-9,新作品,某单位,数字政府,政务服务,99999,shortlisted\n",
                ),
                store=sc.store,
            ),
        ),
    ),
    # one entry at a time (SPEC §2.2): the import's rights
    entry_edit.entry_edit_view: (
        ORGANISER_READ,
        lambda s, a, c, sc: entry_edit.entry_edit_view(s, a, c, "M-1"),
    ),
    entry_edit.save_entry: (
        ORGANISER_CHANGE,
        lambda s, a, c, sc: entry_edit.save_entry(
            s,
            a,
            c,
            {
                "code": "M-8",
                "title": "逐个添加的作品",
                "applicant": "某单位",
                "category": "数字政府",
                "domain": "政务服务",
            },
            store=sc.store,
            confirmed=True,  # 某单位 has entries enough in the domain already: a warning
        ),
    ),
    # reviewers' own work
    entries.entries_frame: (LIST, lambda s, a, c, sc: entries.entries_frame(s, a, c)),
    review.gallery: (LIST, lambda s, a, c, sc: review.gallery(s, a, c)),
    gallery.gallery_view: (LIST, lambda s, a, c, sc: gallery.gallery_view(s, a, c)),
    review.next_to_score: (LIST, lambda s, a, c, sc: review.next_to_score(s, a, c, None)),
    review.entry_view: (READ_ENTRY, lambda s, a, c, sc: review.entry_view(s, a, c, "M-1")),
    # materials in bulk: the entry page's readers, in every state
    materials.materials_overview: (
        LIST,
        lambda s, a, c, sc: materials.materials_overview(s, a, c),
    ),
    materials.plan_bundle: (
        READ_ENTRY,
        lambda s, a, c, sc: materials.plan_bundle(s, a, c, ["M-1"]),
    ),
    materials.plan_dossier: (
        READ_ENTRY,
        lambda s, a, c, sc: materials.plan_dossier(s, a, c, "M-1", sc.store),
    ),
    review.sheet_view: (READ_OWN_SHEET, lambda s, a, c, sc: review.sheet_view(s, a, c, "M-1")),
    progress.reviewer_progress: (
        OWN_WORK,
        lambda s, a, c, sc: progress.reviewer_progress(s, a, c),
    ),
    sheets.save_own_sheet: (
        WRITE_OWN_SHEET,
        lambda s, a, c, sc: sheets.save_own_sheet(
            s,
            a,
            entry_id=sc.ids["M-1"],
            points={},
            comment="改一下",
            submit=False,
            expected_version=None,
        ),
    ),
    review.own_conflicts: (OWN_WORK, lambda s, a, c, sc: review.own_conflicts(s, a, c)),
    my_scores.my_scores: (OWN_WORK, lambda s, a, c, sc: my_scores.my_scores(s, a, c)),
    review.declare_conflict: (
        WRITE_OWN_SHEET,
        lambda s, a, c, sc: review.declare_conflict(s, a, c, "M-1", "亲属关系"),
    ),
}


def make_campaign_as(session: Session, actor: Actor) -> Campaign:
    from tests.factories import campaign_data

    return campaigns.create_campaign(session, actor, campaign_data(slug="another-2021"))


# Public functions that are not use cases of a signed-in actor, and why.
NOT_USE_CASES = {
    "actor_for": "turns a signed-in username into an Actor: it is the re-read itself",
    "login_credentials": "the login form's input, before anybody is signed in",
    "record_failed_login": "the login form's lockout counter, before anybody is signed in",
    "record_successful_login": "the login form's counter reset, before anybody is signed in",
    "write_sheet": "the sheet writer under save_own_sheet and import_scores; checks states itself",
    "authorise": "the guard every use case calls",
    "fresh_actor": "the guard's re-read of the acting account",
    "authorise_campaign": "the guard every use case calls",
    "record": "appends to the audit log inside a use case's transaction",
    "event": "builds an audit row for record; writes nothing",
    "send_reminders": "opens its own transactions around the mail; calls the three above",
}


def _public_functions_taking_an_actor() -> set[str]:
    found = set()
    for package in (scoring.services, scoring.importers):
        folder = Path(package.__file__).parent
        for module_path in folder.glob("*.py"):
            if module_path.name.startswith("_"):
                continue
            module = __import__(f"{package.__name__}.{module_path.stem}", fromlist=["*"])
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("_") or function.__module__ != module.__name__:
                    continue
                if "actor" in inspect.signature(function).parameters:
                    found.add(f"{module.__name__}.{name}")
    return found


def test_every_use_case_taking_an_actor_is_in_the_matrix():
    covered = {f"{f.__module__}.{f.__name__}" for f in USE_CASES}
    missing = {
        name
        for name in _public_functions_taking_an_actor() - covered
        if name.rsplit(".", 1)[1] not in NOT_USE_CASES
    }
    assert sorted(missing) == []


def _dump(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order, read in the caller's transaction."""
    session.flush()
    rows = {}
    for table in SQLModel.metadata.sorted_tables:
        order = ", ".join(c.name for c in table.primary_key.columns) or "1"
        rows[table.name] = [
            tuple(r) for r in session.execute(text(f"SELECT * FROM {table.name} ORDER BY {order}"))
        ]
    return rows


# Allowed by role and state, refused by what the scene holds: M-1 is no tie at a cut line,
# finalising needs every panel locked, and after a withdrawal both panels stay locked, so a
# score row is refused naming its panel. Reaching that check is the proof the guard let the
# call through; any other error in an allowed cell fails the test.
REFUSED_BY_DATA = {
    (finalise.decide_tie, "open"): "final.not_a_cutline_tie",
    (finalise.decide_tie, "panel_locked"): "final.not_a_cutline_tie",
    (finalise.decide_tie, "withdrawn"): "final.not_a_cutline_tie",
    (finalise.finalise, "open"): "final.panels_open",
    (finalise.finalise, "panel_locked"): "final.panels_open",  # one panel of two locked
    (apply_scores_import, "withdrawn"): "import.rejected",
}

NEEDS_FINALISED = {
    finalise.unfinalise,
    publication.certificates,
    publication.casebook,
    notice.publish_notice,
    notice.notice_preview,
}
# The public learns only that no notice is published, whatever the campaign's state.
STATE_KEY = {notice.results_notice: "public_state.no_notice"}


def _expected_error(allowed: dict[str, frozenset[str]], actor: str, state: str, function) -> tuple:
    if actor not in allowed:
        return PermissionDenied, None
    if function in STATE_KEY:
        return StateRefused, STATE_KEY[function]
    if function in NEEDS_FINALISED:
        return StateRefused, "campaign_state.not_finalised"
    if state == "finalised":
        return StateRefused, "campaign_state.finalised"
    return StateRefused, "campaign_state.panel_locked"


def _run(scene: Scene, actor_key: str, function, call: Call) -> tuple[Exception | None, bool]:
    """Call once in a write transaction that is always rolled back; (error, tables unchanged)."""
    engine = scene.database._write_engine
    with Session(engine, expire_on_commit=False) as session:
        transaction = session.begin()
        try:
            if scene.tables is None:
                scene.tables = _dump(session)
            before = scene.tables
            try:
                call(session, scene.actors[actor_key], scene.stale_campaign, scene)
                error = None
            except ReviewDeskError as raised:
                error = raised
            unchanged = error is None or _dump(session) == before
        finally:
            transaction.rollback()
    return error, unchanged


@pytest.mark.parametrize(
    "function",
    list(USE_CASES),
    ids=[f"{f.__module__.rsplit('.', 1)[1]}.{f.__name__}" for f in USE_CASES],
)
def test_each_use_case_obeys_role_and_state(scenes, function):
    allowed, call = USE_CASES[function]
    wrong = []
    for state in STATES:
        scene = scenes[state]
        for actor in ACTORS:
            error, unchanged = _run(scene, actor, function, call)
            refused = isinstance(error, PermissionDenied | StateRefused)
            if state in allowed.get(actor, ()):
                if refused:
                    wrong.append(f"{state}/{actor}: refused ({error.key}) but should be allowed")
                elif error is not None and getattr(error, "key", None) != REFUSED_BY_DATA.get(
                    (function, state)
                ):
                    wrong.append(f"{state}/{actor}: allowed, but failed: {error!r}")
                continue
            kind, key = _expected_error(allowed, actor, state, function)
            if not isinstance(error, kind) or (key is not None and error.key != key):
                got = f"{type(error).__name__}({getattr(error, 'key', '')})" if error else "allowed"
                wrong.append(f"{state}/{actor}: {got}, expected {kind.__name__}({key or ''})")
            elif not unchanged:
                wrong.append(f"{state}/{actor}: refused but a table changed")
    assert wrong == []


def test_an_import_planned_before_finalising_cannot_land_after_it(scenes):
    """The entries import that raced finalise (and took an award with 99,999 votes): the plan
    was made while the campaign was open, the write comes after the freeze — refused."""
    scene = scenes["open"]
    db = scene.database
    csv = _file(
        scene,
        "late.csv",
        "code,title,applicant,category,domain,votes,status\n"
        "M-9,迟到的作品,某单位,数字政府,政务服务,99999,shortlisted\n",
    )
    with db.read() as session:
        plan = plan_entries_import(session, ORGANISER, _campaign(session), csv, store=scene.store)

    def freeze(session: Session) -> None:
        for panel in ("expert", "media"):
            finalise.set_panel_lock(session, ORGANISER, _campaign(session), panel, True, "结束")
        campaign = _campaign(session)
        pending = finalise.pending_decisions(session, ORGANISER, campaign)
        provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
        finalise.finalise(session, ORGANISER, campaign, {c: "确认" for c in provisional})

    engine = db._write_engine
    with Session(engine, expire_on_commit=False) as session:
        transaction = session.begin()
        try:
            freeze(session)
            with pytest.raises(StateRefused) as refused:
                apply_entries_import(session, scene.actors["organiser"], plan)
            assert refused.value.key == "campaign_state.finalised"
            codes = set(session.exec(select(Entry.code)))
            assert "M-9" not in codes
        finally:
            transaction.rollback()  # the module's open campaign stays open for the others


@pytest.mark.parametrize(("state", "actor"), [("finalised", "organiser"), ("open", "expert")])
def test_a_refused_entries_import_stores_no_file(scenes, state, actor, tmp_path):
    """Planning stores the images it checks: a refused import must be refused before the
    first one reaches the data folder, where it would travel into every backup."""
    scene = scenes[state]
    folder = tmp_path / "assets"
    folder.mkdir()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(folder / "a.png")
    sheet = tmp_path / "entries.csv"
    sheet.write_text(
        "code,title,applicant,category,domain,votes,status,images\n"
        "M-8,带图的作品,某单位,数字政府,政务服务,10,shortlisted,a.png\n",
        "utf-8",
    )
    store = AssetStore(tmp_path / "store")
    with scene.database.read() as session, pytest.raises((PermissionDenied, StateRefused)):
        plan_entries_import(
            session, scene.actors[actor], _campaign(session), sheet, folder, store=store
        )
    stored = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert stored == []
