"""Each reviewer's progress for the organisers, and the list of who is behind (issue 14.9)."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlmodel import func, select

from scoring.errors import PermissionDenied
from scoring.services.progress import behind, behind_text, reviewer_progress, team_progress
from scoring.storage.models import ScoreSheet
from tests.factories import ORGANISER
from tests.services.reminder_scene import account, build, campaign_of


@pytest.fixture
def scene(database):
    return {"db": database, **build(database)}


def _rows(scene, actor=None):
    with scene["db"].read() as session:
        return team_progress(session, actor or scene["organiser"], campaign_of(session, scene))


def test_each_active_reviewer_gets_their_counts(scene):
    rows = {r.username: r for r in _rows(scene)}
    assert set(rows) == {"expert1", "expert2", "expert3", "media1"}  # expert4 is deactivated
    counts = {
        u: (r.name, r.email, r.assigned, r.drafts, r.submitted, r.conflicts, r.missing)
        for u, r in rows.items()
    }
    assert counts == {
        "expert1": ("张三", "zhangsan@example.org", 3, 1, 1, 0, 2),
        "expert2": ("李四", "lisi@refused.example", 3, 0, 0, 0, 3),
        "expert3": ("王五", "", 3, 0, 2, 0, 1),
        "media1": ("赵六", "zhaoliu@example.org", 1, 0, 1, 1, 0),
    }


def test_the_counts_are_the_ones_the_reviewer_sees_on_their_own_bar(scene):
    rows = {r.username: r for r in _rows(scene)}
    with scene["db"].read() as session:
        for username, actor in scene["actors"].items():
            if username == "expert4":
                continue
            own = reviewer_progress(session, actor, campaign_of(session, scene))
            row = rows[username]
            assert own == {
                "assigned": row.assigned,
                "submitted": row.submitted,
                "drafts": row.drafts,
            }


def test_last_activity_is_the_latest_save_of_the_reviewer_in_utc(scene):
    rows = {r.username: r for r in _rows(scene)}
    with scene["db"].read() as session:
        latest = session.exec(
            select(func.max(ScoreSheet.updated_at)).where(
                ScoreSheet.reviewer_id == account(session, "expert1").id
            )
        ).one()
    assert rows["expert1"].last_activity is not None
    assert rows["expert1"].last_activity.utcoffset() is not None
    assert rows["expert1"].last_activity == latest.replace(tzinfo=latest.tzinfo or UTC)
    assert rows["expert2"].last_activity is None  # assigned, never saved anything
    # media1's submission came after the conflict declaration: the later one counts
    assert rows["media1"].last_activity >= rows["expert3"].last_activity


def test_behind_lists_the_most_missing_first_and_copies_one_line_each(scene):
    rows = _rows(scene)
    assert [r.username for r in behind(rows)] == ["expert2", "expert1", "expert3"]
    assert behind_text(rows).splitlines() == [
        "李四，lisi@refused.example，未提交 3 件",
        "张三，zhangsan@example.org，未提交 2 件",
        "王五，无邮箱，未提交 1 件",
    ]
    assert behind_text(rows, "en").splitlines()[2] == "王五, no e-mail, 1 not submitted"


def test_a_submission_takes_a_reviewer_off_the_list(scene):
    from scoring.services.sheets import save_own_sheet
    from tests.services.reminder_scene import EXPERT

    scene["db"].write(
        lambda s: save_own_sheet(
            s,
            scene["actors"]["expert3"],
            entry_id=scene["ids"][2],
            points=EXPERT,
            comment="",
            submit=True,
            expected_version=None,
        )
    )
    assert [r.username for r in behind(_rows(scene))] == ["expert2", "expert1"]


def test_reviewers_may_not_read_each_others_progress(scene):
    with pytest.raises(PermissionDenied):
        _rows(scene, scene["actors"]["expert1"])


def test_the_command_line_reads_it_too(scene):
    assert len(_rows(scene, ORGANISER)) == 4
