"""Each organiser page computes the standings at most once per run (issue: speed as users feel it).

A page that computes the standings three times makes the organiser wait three times. The
pages run in AppTest against a real database; only the count of standings computations is
spied on, at the engine's first step, which every standings computation goes through.
"""

from __future__ import annotations

import pytest

import scoring.engine.analysis
import scoring.engine.standings
from scoring import context
from scoring.services import cache
from scoring.services.campaigns import get_campaign
from scoring.services.export import export_workbook
from scoring.services.finalise import finalise_view
from tests.app.test_pages import _app, app_data  # noqa: F401  (a fixture, used by name)
from tests.factories import ORGANISER

pytestmark = pytest.mark.usefixtures("app_data")


@pytest.fixture
def standings_computed(monkeypatch) -> list[str]:
    """A list that grows by one each time any standings computation starts."""
    calls: list[str] = []
    for module in (scoring.engine.standings, scoring.engine.analysis):
        real = module.component_table

        def counting(*args, _real=real, _name=module.__name__, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "component_table", counting)
    cache.clear()
    return calls


def test_the_finalise_page_computes_the_standings_once_per_run(standings_computed):
    at = _app("boss", "organiser")
    standings_computed.clear()
    at.switch_page("pages/finalise.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["定稿与导出"]
    assert len(standings_computed) == 1
    # Nothing changed: the next run (a widget, a refresh) computes nothing again.
    at.run()
    assert not at.exception
    assert len(standings_computed) == 1


@pytest.mark.parametrize(
    ("page", "computations"),
    [("pages/overview.py", 0), ("pages/meeting.py", 1), ("pages/entries.py", 0)],
)
def test_each_organiser_page_computes_the_standings_at_most_once(
    standings_computed, page, computations
):
    at = _app("boss", "organiser")
    standings_computed.clear()
    at.switch_page(page).run()
    assert not at.exception and not at.error
    assert len(standings_computed) == computations
    at.run()  # a rerun with no change in between
    assert len(standings_computed) == computations


def test_the_meeting_after_the_standings_computes_nothing_again(standings_computed):
    at = _app("boss", "organiser")
    at.switch_page("pages/standings.py").run()
    assert len(standings_computed) == 1
    at.switch_page("pages/meeting.py").run()
    assert not at.exception
    # Both tied across the one-award cut line with nothing scored: both suggested.
    assert at.multiselect(key="meeting_codes").value == ["T-001", "T-002"]
    assert len(standings_computed) == 1


def test_the_gallery_filters_what_the_one_read_returned(standings_computed):
    at = _app("boss", "organiser")
    at.switch_page("pages/entries.py").run()
    at.text_input(key="gallery_search").input("另一").run()
    assert not at.exception
    assert [t.value for t in at.text] == ["T-002\n另一作品"]
    assert "显示 1 / 2 件" in [c.value for c in at.caption]
    assert standings_computed == []


def test_the_export_reuses_the_standings_the_finalise_page_showed(standings_computed):
    database = context.database()
    with database.read() as session:
        campaign = get_campaign(session, "test-2020")
        view = finalise_view(session, ORGANISER, campaign)
    assert len(standings_computed) == 1
    workbook = database.write(lambda s: export_workbook(s, ORGANISER, campaign))
    assert workbook.startswith(b"PK")  # an .xlsx file, built from the same standings
    assert len(standings_computed) == 1
    assert sorted(view.preview.standings["code"]) == ["T-001", "T-002"]
