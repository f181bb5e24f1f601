"""The standings page draws only the view picked; a refusal replaces it; a final list is frozen.

The live refresh reruns the page when the data version moved or the version was refused;
these are that rerun, in AppTest against a real database.
"""

from __future__ import annotations

import re

from scoring import context
from scoring.services.accounts import change_role
from scoring.services.campaigns import get_campaign
from scoring.services.finalise import decide_tie, finalise, set_panel_lock
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


def test_a_finalised_campaign_shows_the_frozen_list_without_a_timer(app_data):  # noqa: F811
    def freeze(session, campaign):
        for panel in ("expert", "media"):
            set_panel_lock(session, ORGANISER, campaign, panel, True, "结束")
        decide_tie(session, ORGANISER, campaign, "T-001", True, "评委会表决")
        decide_tie(session, ORGANISER, campaign, "T-002", False, "评委会表决")
        finalise(session, ORGANISER, campaign)

    context.database().write(lambda s: freeze(s, get_campaign(s, "test-2020")))
    at = _standings()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any(c.startswith("最终名单已于 ") for c in captions)
    assert not [c for c in captions if re.search(r"每 \d+ 秒自动刷新", c)]  # no live promise
    assert len(at.dataframe) == 1
