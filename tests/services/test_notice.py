"""The public results notice (结果公示): only a finalised, published result, public fields only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from scoring import context
from scoring.errors import PermissionDenied, StateRefused, ValidationFailed
from scoring.permissions import Actor
from scoring.services.campaigns import get_campaign
from scoring.services.finalise import (
    active_snapshot,
    decide_tie,
    finalise,
    pending_decisions,
    set_panel_lock,
    unfinalise,
)
from scoring.services.notice import (
    notice_preview,
    notice_state,
    publish_notice,
    published_notices,
    results_notice,
    withdraw_notice,
)
from scoring.storage.models import AuditEvent, Campaign, Category, EntryAsset
from tests.factories import ORGANISER, actor_of, make_account, make_campaign, make_entry

SLUG = "test-2020"
SECRET_APPLICANT = "不公开的申报单位"
PUBLIC = Actor.public_visitor()
SHANGHAI = timedelta(hours=8)


def _scene(session: Session) -> None:
    """Two groups (categories, quota 1): 数字政府 A-1 over A-2 by a tie decision, 数字经济 B-1.

    Only code and category are public; every applicant is the secret one.
    """
    campaign = make_campaign(session)
    campaign.public_fields = ["category", "code"]
    economy = session.exec(
        select(Category).where(Category.campaign_id == campaign.id, Category.name == "数字经济")
    ).one()
    for code in ("A-1", "A-2", "B-1"):
        entry = make_entry(session, campaign, code, title=f"作品{code}", applicant=SECRET_APPLICANT)
        entry.summary = f"{code} 的简介"
        if code == "B-1":
            entry.category_id = economy.id
        session.add(entry)
        session.flush()
        if code == "A-1":
            for position, sha in enumerate(("1" * 64, "2" * 64)):
                session.add(
                    EntryAsset(
                        entry_id=entry.id,
                        role="image",
                        position=position,
                        filename=f"{position}.png",
                        sha256=sha,
                        mime="image/png",
                        size_bytes=10,
                    )
                )
    session.add(campaign)
    for panel in ("expert", "media"):
        set_panel_lock(session, ORGANISER, campaign, panel, True, "评审结束")
    decide_tie(session, ORGANISER, campaign, "A-1", True, "评委会表决")
    decide_tie(session, ORGANISER, campaign, "A-2", False, "评委会表决")


def _freeze(session: Session) -> None:
    campaign = get_campaign(session, SLUG)
    pending = pending_decisions(session, ORGANISER, campaign)
    provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
    finalise(session, ORGANISER, campaign, {code: "委员会确认" for code in provisional})


@pytest.fixture
def finalised(database):
    database.write(_scene)
    database.write(_freeze)
    return database


def _on(database, work):
    return database.write(lambda s: work(s, get_campaign(s, SLUG)))


def _public(database):
    with database.read() as session:
        return results_notice(session, PUBLIC, SLUG)


def _refused_publicly(database) -> str:
    with pytest.raises(StateRefused) as refused:
        _public(database)
    return refused.value.key


def _audited(database) -> list[tuple[str, dict | None, dict | None]]:
    with database.read() as session:
        return [
            (a, old, new)
            for a, old, new in session.exec(
                select(AuditEvent.action, AuditEvent.old_value, AuditEvent.new_value)
                .where(col(AuditEvent.action).like("campaign.notice%"))
                .order_by(AuditEvent.id)
            )
        ]


def test_the_public_reads_the_winners_per_group_with_public_fields_and_the_hash(finalised):
    _on(finalised, lambda s, c: publish_notice(s, ORGANISER, c))
    notice = _public(finalised)
    with finalised.read() as session:
        snapshot = active_snapshot(session, get_campaign(session, SLUG))
    assert notice.sha256 == snapshot.sha256
    assert [(g.label, [(w.rank, w.title) for w in g.winners]) for g in notice.groups] == [
        ("数字政府", [(1, "作品A-1")]),
        ("数字经济", [(1, "作品B-1")]),
    ]
    first = notice.groups[0].winners[0]
    assert first.fields == (("code", "A-1"), ("category", "数字政府"))
    assert first.image == "1" * 64  # the first image, by position
    assert notice.groups[1].winners[0].image is None
    # The losing entry and the applicant are nowhere in what the public page receives.
    assert SECRET_APPLICANT not in repr(notice) and "A-2" not in repr(notice)
    assert notice.finalised_at.utcoffset() == SHANGHAI
    assert notice.published_at.utcoffset() == SHANGHAI
    assert notice.published_at >= notice.finalised_at
    with finalised.read() as session:
        assert [n.slug for n in published_notices(session, PUBLIC)] == [SLUG]


def test_the_summary_shows_only_when_the_campaign_makes_it_public(finalised):
    def show_summary(session, campaign):
        campaign.public_fields = ["summary"]
        session.add(campaign)

    _on(finalised, show_summary)
    _on(finalised, lambda s, c: publish_notice(s, ORGANISER, c))
    assert [w.fields for g in _public(finalised).groups for w in g.winners] == [
        (("summary", "A-1 的简介"),),
        (("summary", "B-1 的简介"),),
    ]


def test_an_unfinalised_result_cannot_be_published_nor_read(database):
    database.write(_scene)
    with pytest.raises(StateRefused) as refused:
        _on(database, lambda s, c: publish_notice(s, ORGANISER, c))
    assert refused.value.key == "campaign_state.not_finalised"
    with pytest.raises(StateRefused) as refused:
        _on(database, lambda s, c: notice_preview(s, ORGANISER, c))
    assert refused.value.key == "campaign_state.not_finalised"
    assert _refused_publicly(database) == "public_state.no_notice"
    assert _audited(database) == []


def test_a_finalised_result_is_not_public_until_published(finalised):
    assert _refused_publicly(finalised) == "public_state.no_notice"
    preview = _on(finalised, lambda s, c: notice_preview(s, ORGANISER, c))
    assert preview.published_at is None
    assert [[w.title for w in g.winners] for g in preview.groups] == [["作品A-1"], ["作品B-1"]]
    with finalised.read() as session:
        assert published_notices(session, PUBLIC) == []
        state = notice_state(session, ORGANISER, get_campaign(session, SLUG))
    assert state.finalised and state.published_at is None


def test_withdrawing_the_finalisation_takes_the_notice_down_and_refinalising_keeps_it_down(
    finalised,
):
    _on(finalised, lambda s, c: publish_notice(s, ORGANISER, c))
    _on(finalised, lambda s, c: unfinalise(s, ORGANISER, c, "票数更正"))
    with finalised.read() as session:
        campaign = get_campaign(session, SLUG)
        assert (campaign.notice_snapshot_id, campaign.notice_published_at) == (None, None)
    assert _refused_publicly(finalised) == "public_state.no_notice"
    finalised.write(_freeze)
    assert _refused_publicly(finalised) == "public_state.no_notice"
    with finalised.read() as session:
        assert published_notices(session, PUBLIC) == []
    actions = [(a, new.get("reason")) for a, _, new in _audited(finalised)]
    assert actions == [("campaign.notice_publish", None), ("campaign.notice_withdraw", "票数更正")]


def test_withdrawing_the_notice_needs_a_reason_and_both_steps_are_audited(finalised):
    published = _on(finalised, lambda s, c: publish_notice(s, ORGANISER, c))
    again = _on(finalised, lambda s, c: publish_notice(s, ORGANISER, c))
    assert again.published_at == published.published_at  # a second press is no new notice
    with pytest.raises(ValidationFailed) as refused:
        _on(finalised, lambda s, c: withdraw_notice(s, ORGANISER, c, "  "))
    assert refused.value.key == "notice.reason_required"
    assert _public(finalised).sha256 == published.sha256  # still public
    _on(finalised, lambda s, c: withdraw_notice(s, ORGANISER, c, "名单有误，待核实"))
    assert _refused_publicly(finalised) == "public_state.no_notice"
    (publish, old, new), (withdraw, old_w, new_w) = _audited(finalised)
    assert (publish, old, new) == (
        "campaign.notice_publish",
        None,
        {"snapshot_sha256": published.sha256, "public_fields": ["code", "category"]},
    )
    assert withdraw == "campaign.notice_withdraw" and new_w == {"reason": "名单有误，待核实"}
    assert old_w["notice_snapshot_id"] is not None


def test_reviewers_and_the_public_may_neither_publish_nor_withdraw(finalised):
    expert = finalised.write(lambda s: actor_of(make_account(s, "expert9", "expert")))
    for actor in (expert, PUBLIC):
        for work in (
            lambda s, c, a=actor: publish_notice(s, a, c),
            lambda s, c, a=actor: withdraw_notice(s, a, c, "x"),
            lambda s, c, a=actor: notice_state(s, a, c),
            lambda s, c, a=actor: notice_preview(s, a, c),
        ):
            with pytest.raises(PermissionDenied):
                _on(finalised, work)
    assert _audited(finalised) == []
    with finalised.read() as session:
        assert get_campaign(session, SLUG).notice_snapshot_id is None


def test_the_command_line_publishes_and_withdraws_with_a_reason(cli):
    context.database().write(_scene)
    code, _, err = cli("notice", SLUG, "--publish")
    assert code == 1
    assert err.strip() == "reviewdesk: The campaign is not finalised (notice.publish)."
    context.database().write(_freeze)
    code, out, _ = cli("notice", SLUG, "--publish")
    with context.database().read() as session:
        campaign: Campaign = get_campaign(session, SLUG)
        sha = active_snapshot(session, campaign).sha256
        assert campaign.notice_published_at is not None
    assert code == 0 and sha in out
    code, _, err = cli("notice", SLUG, "--withdraw")
    assert code == 1
    assert err.strip() == "reviewdesk: Withdrawing the results notice needs a reason."
    assert cli("notice", SLUG, "--withdraw", "--reason", "更正")[0] == 0
    with context.database().read() as session:
        assert get_campaign(session, SLUG).notice_published_at is None
