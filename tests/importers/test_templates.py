"""Template workbooks an organiser downloads import back as they are (issue 14 point 7).

A template whose example row the import refuses would teach the wrong format; a column the
notes sheet leaves out is a rule the organiser never reads.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scoring.errors import PermissionDenied
from scoring.importers.entries import plan_entries_import
from scoring.importers.scores import plan_scores_import
from scoring.importers.templates import KINDS, NOTES_SHEET, build_template
from scoring.importers.users import plan_users_import
from scoring.importers.votes import plan_votes_import
from scoring.services.campaigns import get_campaign
from tests.factories import ORGANISER, actor_of, make_account, make_campaign, make_entry


def _campaign(session) -> str:
    campaign = make_campaign(session)
    make_entry(session, campaign, "A001")  # the example entry code must then be new
    make_account(session, "expert001", "expert")  # the example username must then be new
    make_account(session, "judge", "expert")
    return campaign.slug


def _plan(kind: str, session, campaign, path: Path, store):
    if kind == "entries":
        return plan_entries_import(session, ORGANISER, campaign, path, store=store)
    if kind == "votes":
        return plan_votes_import(session, campaign, path)
    if kind == "scores":
        return plan_scores_import(session, campaign, path)
    return plan_users_import(session, path)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_template_imports_back_without_a_problem(kind, database, store, tmp_path):
    slug = database.write(_campaign)
    with database.read() as session:
        campaign = get_campaign(session, slug)
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(build_template(session, ORGANISER, kind, campaign))
        plan = _plan(kind, session, campaign, path, store)
    assert [p.key for p in plan.report.problems] == []
    assert [w.key for w in plan.report.warnings] == []  # every header is one it reads


def test_the_scores_example_uses_the_campaigns_own_names(database):
    slug = database.write(_campaign)
    with database.read() as session:
        data = build_template(session, ORGANISER, "scores", get_campaign(session, slug))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    example = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert example["评审人"] == "expert001"
    assert example["编号"] == "A001"
    assert example["指标"] == "innovation"
    assert example["分数"] == "30"  # half of 60, on the step


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_column_has_a_rule_in_both_languages(kind, sqlite_database):
    with sqlite_database.read() as session:
        data = build_template(session, ORGANISER, kind)
    notes = load_workbook(io.BytesIO(data))[NOTES_SHEET]
    documented = {row[1]: row for row in notes.iter_rows(min_row=2, values_only=True)}
    assert set(documented) == {column.name for column in KINDS[kind]}
    for name, row in documented.items():
        zh, en = row[4], row[5]
        assert not zh.startswith("templates.") and not en.startswith("templates."), name
        assert zh != en


def test_required_columns_are_marked_on_the_first_sheet(sqlite_database):
    with sqlite_database.read() as session:
        data = build_template(session, ORGANISER, "votes")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.font.b for c in sheet[1]] == [True, True]
    assert "required" in sheet["A1"].comment.text and "code" in sheet["A1"].comment.text


def test_a_reviewer_gets_no_template_naming_other_reviewers(sqlite_database):
    slug = sqlite_database.write(_campaign)
    with sqlite_database.read() as session:
        reviewer = actor_of(make_account(session, "media1", "media"))
        with pytest.raises(PermissionDenied):
            build_template(session, reviewer, "scores", get_campaign(session, slug))
