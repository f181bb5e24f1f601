"""The standings page draws only the view picked, and a refusal replaces the standings.

The live refresh reruns the page when the data version moved or the version was refused;
these are that rerun, in AppTest against a real database.
"""

from __future__ import annotations

from scoring import context
from scoring.services.accounts import change_role
from tests.app.test_pages import _app, app_data  # noqa: F401
from tests.factories import ORGANISER, make_account


def _standings(username: str = "boss"):
    at = _app(username, "organiser")
    return at.switch_page("pages/standings.py").run()


def test_only_the_table_is_drawn_until_the_charts_are_picked(app_data):  # noqa: F811
    at = _standings()
    assert not at.exception
    assert len(at.dataframe) == 1
    assert at.get("plotly_chart") == []  # neither computed nor sent

    at.session_state["standings_show"] = "charts"
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2  # the composite charts, the one view picked
    assert len(at.dataframe) == 0

    at.session_state["standings_chart"] = "stability"
    at.run()
    assert len(at.get("plotly_chart")) == 1


def test_an_organiser_demoted_meanwhile_is_refused_on_the_next_run(app_data):  # noqa: F811
    context.database().write(lambda s: make_account(s, "deputy", "organiser"))
    at = _standings("deputy")
    assert len(at.dataframe) == 1
    context.database().write(lambda s: change_role(s, ORGANISER, "deputy", "expert"))
    at.run()
    assert [e.value for e in at.error] == ["您的角色无权访问此页面。"]
    assert len(at.dataframe) == 0
    assert len(at.metric) == 0
