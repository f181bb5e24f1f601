"""The score sheet's guidance pieces on their own: the levels line and the comment box."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _sheet_piece(points, at_extremes, comment=""):
    from pages._guidance import criterion_comment, level_guide
    from scoring.services.review import CriterionView

    criterion = CriterionView(
        "innovation",
        "创新性",
        "",
        30,
        1,
        [
            {"label": "优", "low": 26, "high": 30},
            {"label": "良", "low": 20, "high": 25},
            {"label": "差", "low": 0, "high": 19},
        ],
    )
    level_guide(criterion, points)
    criterion_comment(criterion, key="c", value=comment, points=points, at_extremes=at_extremes)


def _run(points, at_extremes, comment=""):
    at = AppTest.from_function(_sheet_piece, args=(points, at_extremes, comment))
    at.session_state["lang"] = "zh"
    return at.run(timeout=30)


def test_the_levels_line_bolds_the_level_of_the_typed_score(app_env):
    at = _run(22, True)
    assert not at.exception
    assert at.caption[0].value == "评分档次：优 26–30 · **良 20–25** · 差 0–19"
    assert at.text_input[0].label == "“创新性”打分理由"  # 22 of 30 needs no comment
    assert at.text_input[0].placeholder == "可选"


def test_an_extreme_score_marks_its_comment_required(app_env):
    at = _run(28, True)
    assert at.text_input[0].label == "“创新性”打分理由（必填）"
    assert any("28 分在最高或最低的十分之一" in c.value for c in at.caption)
    at = _run(28, True, comment="全国首创")
    assert not any("十分之一" in c.value for c in at.caption)  # written: no reminder
    at = _run(28, False)  # the campaign does not ask for it
    assert at.text_input[0].label == "“创新性”打分理由"
