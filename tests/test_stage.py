"""The announcement's steps: every key press lands on a step the projector can show."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from scoring.stage import move, slide_at, slides


@dataclass(frozen=True)
class Group:
    label: str
    winners: list[str]


TWO_GROUPS = [Group("数字政府", ["A-3", "A-1"]), Group("数字经济", ["B-2"])]
WITH_AN_EMPTY_GROUP = [
    Group("数字政府", ["A-1"]),
    Group("智慧城市", []),
    Group("数字经济", ["B-1"]),
]

# groups, requested step -> (kind, group label, winners shown)
STEPS = [
    pytest.param(TWO_GROUPS, 0, ("waiting", "数字政府", ()), id="first"),
    pytest.param(TWO_GROUPS, 1, ("winner", "数字政府", ("A-3",)), id="first-winner"),
    pytest.param(TWO_GROUPS, 2, ("winner", "数字政府", ("A-3", "A-1")), id="group-complete"),
    pytest.param(TWO_GROUPS, 3, ("waiting", "数字经济", ()), id="next-group"),
    pytest.param(TWO_GROUPS, 4, ("winner", "数字经济", ("B-2",)), id="last-winner"),
    pytest.param(TWO_GROUPS, 5, ("end", None, ()), id="last"),
    pytest.param(TWO_GROUPS, 6, ("end", None, ()), id="beyond-last"),
    pytest.param(TWO_GROUPS, 1000, ("end", None, ()), id="far-beyond-last"),
    pytest.param(TWO_GROUPS, -1, ("waiting", "数字政府", ()), id="before-first"),
    pytest.param(WITH_AN_EMPTY_GROUP, 2, ("waiting", "数字经济", ()), id="empty-group-skipped"),
    pytest.param(WITH_AN_EMPTY_GROUP, 4, ("end", None, ()), id="empty-group-last"),
    pytest.param([Group("数字政府", [])], 0, ("nothing", None, ()), id="no-winners"),
    pytest.param([Group("数字政府", [])], 3, ("nothing", None, ()), id="no-winners-beyond"),
    pytest.param([], 0, ("nothing", None, ()), id="no-shortlist"),
    pytest.param([], -5, ("nothing", None, ()), id="no-shortlist-back"),
]


@pytest.mark.parametrize(("groups", "step", "expected"), STEPS)
def test_each_step_shows_something_drawable(groups, step, expected):
    slide = slide_at(groups, step)
    assert (slide.kind, slide.label, slide.shown) == expected
    assert 0 <= slide.index <= slide.last


def test_the_latest_winner_is_shown_large_and_the_earlier_ones_most_recent_first():
    group = Group("数字政府", ["A-5", "A-4", "A-3"])
    slide = slide_at([group], 3)
    assert slide.latest == "A-3"
    assert slide.earlier == ("A-4", "A-5")
    assert slide_at([group], 0).latest is None


@pytest.mark.parametrize(
    ("groups", "step", "by", "expected"),
    [
        pytest.param(TWO_GROUPS, 5, 1, 5, id="forward-at-the-close-stays"),
        pytest.param(TWO_GROUPS, 9, -1, 4, id="back-from-beyond-is-the-last-winner"),
        pytest.param(TWO_GROUPS, 0, -1, 0, id="back-at-the-first-stays"),
        pytest.param(TWO_GROUPS, 3, -1, 2, id="back-into-the-previous-group"),
        pytest.param([], 0, 1, 0, id="forward-with-nothing"),
    ],
)
def test_a_key_press_never_leaves_the_ceremony(groups, step, by, expected):
    assert move(groups, step, by) == expected


def test_the_close_is_always_the_last_step():
    every = slides(TWO_GROUPS)
    assert [s.kind for s in every].count("end") == 1 and every[-1].kind == "end"
    assert all(s.last == len(every) - 1 for s in every)
