"""Pages in Streamlit's AppTest: what each role is shown, and refusals on the page itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.services.accounts import set_active
from scoring.settings import get_settings
from tests.factories import ORGANISER, assigned, make_account, make_campaign, make_entry

ROOT = Path(__file__).parents[2]


@pytest.fixture
def app_data(tmp_path, monkeypatch):
    """A data folder with one campaign, an organiser, an expert with one assigned entry."""
    monkeypatch.setenv("REVIEWDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REVIEWDESK_COOKIE_KEY", "test-cookie-key-" + "x" * 32)
    monkeypatch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    get_settings.cache_clear()

    def setup(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "T-001", title="测试作品")
        make_entry(session, campaign, "T-002", title="另一作品")
        make_account(session, "boss", "organiser")
        assigned(session, entry, make_account(session, "expert1", "expert"))

    context.database().write(setup)
    yield
    get_settings.cache_clear()


def _app(username: str, role: str, script: str = "app.py") -> AppTest:
    at = AppTest.from_file(str(ROOT / script), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username
    at.session_state["roles"] = [role]
    at.session_state["logout"] = False
    at.session_state["lang"] = "zh"
    return at.run()


def _texts(at: AppTest) -> str:
    parts = (
        [e.value for e in at.title]
        + [e.value for e in at.markdown]
        + [e.value for e in at.caption]
        + [e.value for e in at.error]
    )
    return "\n".join(str(p) for p in parts)


def test_organiser_lands_on_the_overview_of_the_campaign(app_data):
    at = _app("boss", "organiser")
    assert not at.exception
    assert [t.value for t in at.title] == ["测试评选"]
    assert [m.label for m in at.metric][:2] == ["作品总数", "入围作品"]
    assert [m.value for m in at.metric][:2] == ["2", "2"]


def test_expert_sees_only_assigned_entries(app_data):
    at = _app("expert1", "expert")
    assert not at.exception
    assert [t.value for t in at.title] == ["我的评审"]
    codes = list(at.dataframe[0].value.iloc[:, 0])
    assert codes == ["T-001"]


def test_expert_is_not_given_organiser_pages(app_data):
    at = _app("expert1", "expert")
    with pytest.raises(ValueError):
        at.switch_page("pages/standings.py")


@pytest.mark.parametrize(
    "page", ["pages/standings.py", "pages/users.py", "pages/audit.py", "pages/overview.py"]
)
def test_organiser_pages_refuse_a_reviewer_who_reaches_them(app_data, page):
    at = _app("expert1", "expert", page)
    assert [e.value for e in at.error] == ["您的角色无权访问此页面。"]
    assert len(at.dataframe) == 0


def test_a_role_change_applies_on_the_next_run_without_logging_in_again(app_data):
    from scoring.services.accounts import change_role

    context.database().write(lambda s: make_account(s, "deputy", "organiser"))
    at = _app("deputy", "organiser")
    assert [t.value for t in at.title] == ["测试评选"]
    context.database().write(lambda s: change_role(s, ORGANISER, "deputy", "expert"))
    at.run()
    assert [e.value for e in at.error] == ["您的角色无权访问此页面。"]
    assert [t.value for t in at.title] == []


def test_a_deactivated_user_is_signed_out_on_the_next_run(app_data):
    at = _app("expert1", "expert")
    context.database().write(lambda s: set_active(s, ORGANISER, "expert1", False))
    at.run()
    assert at.error and {e.value for e in at.error} <= {
        "该账号已停用，请联系组织者。",
        "请先登录。",
    }
    assert [t.value for t in at.title] == []
    assert len(at.dataframe) == 0  # none of the entries is shown any more


def test_standings_page_shows_coverage_and_filters_by_search(app_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/standings.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["实时排名"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["入围作品"] == "2"
    assert metrics["暂定"] == "2"  # nobody has scored yet
    assert any(label.startswith("专家评审：已评 0 份") for label in metrics)
    table = at.dataframe[0].value
    assert sorted(table["编号"]) == ["T-001", "T-002"]
    # Both at 0 with nothing in yet: tied across the cut line of a one-award group.
    assert list(table["标记"]) == ["获奖线上并列，待决定 · 暂定"] * 2

    at.text_input(key="standings_search").input("002").run()
    assert not at.exception
    assert [list(df.value["编号"]) for df in at.dataframe if "编号" in df.value] == [["T-002"]]
