"""Pages in Streamlit's AppTest: what each role is shown, and refusals on the page itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.services.accounts import set_active
from tests.factories import ORGANISER, assigned, make_account, make_campaign, make_entry

ROOT = Path(__file__).parents[2]


@pytest.fixture
def app_data(app_env):
    """A data folder with one campaign, an organiser, an expert with one assigned entry."""

    def setup(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "T-001", title="测试作品")
        make_entry(session, campaign, "T-002", title="另一作品")
        make_account(session, "boss", "organiser")
        assigned(session, entry, make_account(session, "expert1", "expert"))

    context.database().write(setup)
    yield


def _app(username: str, role: str, script: str = "app.py", timeout: float = 30) -> AppTest:
    at = AppTest.from_file(str(ROOT / script), default_timeout=timeout)
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


def test_expert_lands_on_a_gallery_of_only_the_assigned_entries(app_data):
    at = _app("expert1", "expert")
    assert not at.exception
    assert [t.value for t in at.title] == ["作品库"]
    assert "显示 1 / 1 件" in [c.value for c in at.caption]
    assert [t.value for t in at.text] == ["T-001\n测试作品"]


def _entry_page(username: str, role: str, code: str) -> AppTest:
    at = _app(username, role)
    at.query_params["code"] = code
    return at.switch_page("pages/entry.py").run()


def test_an_entry_title_is_shown_as_typed_never_as_markdown(app_data):
    def rename(session):
        from sqlmodel import select

        from scoring.storage.models import Entry

        entry = session.exec(select(Entry).where(Entry.code == "T-001")).one()
        entry.title = "**赢** [点我](javascript:alert(1)) :smile: $x$"

    context.database().write(rename)
    at = _entry_page("expert1", "expert", "T-001")
    assert not at.exception
    title = at.title[0].value
    # Every Markdown character arrives escaped, so the browser shows the text itself.
    assert title.replace("\\", "") == "T-001 · **赢** [点我](javascript:alert(1)) :smile: $x$"
    assert "**赢**" not in title


def test_a_reviewer_cannot_open_an_entry_not_assigned_to_them(app_data):
    at = _entry_page("expert1", "expert", "T-002")
    # The action's name is escaped like any parameter; the browser shows "entry.view".
    assert [e.value for e in at.error] == ["没有权限执行此操作（entry\\.view），未做任何更改。"]
    assert len(at.number_input) == 0


def test_a_reviewer_scores_saves_a_draft_and_a_stale_save_keeps_what_was_typed(app_data):
    at = _entry_page("expert1", "expert", "T-001")
    assert [n.label for n in at.number_input] == ["0–60 分，步长 1", "0–40 分，步长 0.5"]
    at.number_input[0].set_value(45)
    at.number_input[1].set_value(30.5).run()
    assert [m.value for m in at.metric if m.label == "合计（折算百分制）"] == ["75.50"]
    at.button(key="draft_T-001").click().run()
    assert not at.exception and not at.error

    from scoring.services.accounts import actor_for
    from scoring.services.campaigns import get_campaign
    from scoring.services.review import sheet_view
    from scoring.services.sheets import save_own_sheet

    with context.database().read() as session:
        actor = actor_for(session, "expert1")
        campaign = get_campaign(session, "test-2020")
        saved = sheet_view(session, actor, campaign, "T-001")
    assert (saved.status, saved.points) == ("draft", {"innovation": 45.0, "impact": 30.5})

    # Another tab of the same reviewer saves in between: this tab is told, not overwritten.
    context.database().write(
        lambda s: save_own_sheet(
            s,
            actor,
            entry_id=saved.entry_id,
            points={"innovation": 10},
            comment="",
            submit=False,
            expected_version=saved.version,
        )
    )
    at.number_input[0].set_value(50).run()
    at.button(key="draft_T-001").click().run()
    assert any("已在其他页面修改" in e.value for e in at.error)
    assert at.number_input[0].value == 50  # what was typed is still on screen
    with context.database().read() as session:
        assert sheet_view(session, actor, campaign, "T-001").points["innovation"] == 10.0


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


def test_progress_lists_what_is_left_for_the_reviewer(app_data):
    at = _app("expert1", "expert")
    at.switch_page("pages/progress.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["我的进度"]
    assert {m.label: m.value for m in at.metric} == {"分配给我": "1", "已提交": "0", "草稿": "0"}
    assert [t.value for t in at.text] == ["T-001", "测试作品"]


def test_score_next_on_the_progress_page_opens_the_first_entry_left(app_data):
    at = _app("expert1", "expert")
    at.switch_page("pages/progress.py").run()
    next(b for b in at.button if b.label == "评下一件").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["T\\-001 · 测试作品"]  # the entry page, escaped


def test_organiser_opens_a_meeting_round_from_the_page(app_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/meeting.py").run()
    assert not at.exception
    assert "目前没有正在讨论的作品。" in [c.value for c in at.caption]
    at.multiselect(key="meeting_codes").set_value(["T-002"]).run()
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.text] == ["T-002  另一作品"]


def test_finalise_page_refuses_while_panels_are_open_and_offers_the_download(app_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/finalise.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["定稿与导出"]
    at.button(key="finalise").click().run()
    assert any("还有评审组未锁定" in e.value for e in at.error)
    assert at.get("download_button")  # the export is offered before and after finalising


def test_announcement_reveals_winners_one_at_a_time_from_the_last_place(app_data):
    from scoring.services.finalise import set_override

    def grant(session):
        from scoring.services.campaigns import get_campaign

        campaign = get_campaign(session, "test-2020")
        set_override(session, ORGANISER, campaign, "T-001", True, "评委会")
        set_override(session, ORGANISER, campaign, "T-002", True, "评委会")

    context.database().write(grant)
    at = _app("boss", "organiser")
    at.switch_page("pages/announce.py").run()
    assert not at.exception
    assert [t.value for t in at.text] == ["数字政府 · 2 个获奖"]
    at.button[0].click().run()  # start
    assert "即将揭晓" in "".join(m.value for m in at.markdown)
    at.button(key="announce_next").click().run()
    first = "".join(m.value for m in at.markdown)
    at.button(key="announce_next").click().run()
    second = "".join(m.value for m in at.markdown)
    # Both tie at 0 (rank 1); within a rank the reveal follows the code.
    assert (
        "<div class='rd-title'>测试作品</div>" in first and "<div class='rd-earlier'>" not in first
    )
    assert "<div class='rd-title'>另一作品</div>" in second
    assert "<div class='rd-earlier'>测试作品 · 某单位</div>" in second


def test_intake_shows_the_report_and_saves_nothing_from_a_bad_file(app_data):
    bad = (
        "编号,名称,申报主体,类别,领域\n"
        "N-1,新作品,某局,数字政府,政务服务\n"
        "N-2,另一个,某局,不存在的类别,政务服务\n"
    )
    at = _app("boss", "organiser")
    at.switch_page("pages/intake.py").run()
    assert not at.exception
    at.get("file_uploader")[0].upload("entries.csv", bad.encode("utf-8"), "text/csv")
    at.run()
    assert any("1 处问题" in e.value for e in at.error)
    report = at.dataframe[0].value
    assert list(report["行"]) == [3] and list(report["列"]) == ["类别"]
    assert not [b for b in at.button if b.key == "entries_confirm"]

    good = bad.replace("不存在的类别", "数字经济")
    at.get("file_uploader")[0].upload("entries.csv", good.encode("utf-8"), "text/csv")
    at.run()
    assert any("2 件作品" in s.value for s in at.success)
    at.button(key="entries_confirm").click().run()
    assert not at.error
    from scoring.services.campaigns import get_campaign
    from scoring.services.entries import entries_frame

    with context.database().read() as session:
        codes = set(entries_frame(session, ORGANISER, get_campaign(session, "test-2020"))["code"])
    assert {"N-1", "N-2"} <= codes


def test_setup_page_saves_a_setting(app_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/setup.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["活动设置"]
    at.toggle[0].set_value(True)
    at.button[-1].click().run()  # 保存修改
    assert not at.error, [e.value for e in at.error]
    from scoring.services.campaigns import get_campaign

    with context.database().read() as session:
        assert get_campaign(session, "test-2020").blind_review is True


def test_two_organisers_editing_set_up_cannot_undo_each_other(app_data):
    """One tab changes the quota; the other, opened before, saves blind review: refused."""
    from scoring.services.campaigns import get_campaign

    context.database().write(lambda s: make_account(s, "deputy", "organiser"))
    first, second = _app("boss", "organiser"), _app("deputy", "organiser")
    first.switch_page("pages/setup.py").run()
    second.switch_page("pages/setup.py").run()
    quota = next(n for n in first.number_input if n.label == "每组获奖名额")
    quota.set_value(2)
    first.button[-1].click().run()
    assert not first.error, [e.value for e in first.error]
    second.toggle[0].set_value(True)
    second.button[-1].click().run()
    assert any("已有人保存了本活动的设置" in e.value for e in second.error)
    with context.database().read() as session:
        campaign = get_campaign(session, "test-2020")
        assert campaign.award_quota == 2  # the first save stands
        assert campaign.blind_review is False  # the stale one changed nothing
    second.run()  # the next run offers to load the newer version
    reload = next(b for b in second.button if b.label == "载入最新版本")
    reload.click().run()
    assert next(n for n in second.number_input if n.label == "每组获奖名额").value == 2


def test_assignment_page_shows_coverage_and_assigns_automatically(app_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/assign.py").run()
    at.button[0].click().run()  # no media reviewer yet: refused, with the reason
    assert any(
        e.value.startswith("专家评审每件作品需要 2 位评审") and "本次未分配任何作品" in e.value
        for e in at.error
    )

    context.database().write(lambda s: make_account(s, "expert2", "expert"))
    context.database().write(lambda s: make_account(s, "media1", "media"))
    at.run()
    assert not at.exception
    short = [m.value for m in at.metric if m.label == "评审人数不足的作品"]
    assert short == ["2", "2"]  # media needs 1 per entry, experts 2 (one is in already)
    at.button[0].click().run()  # 自动分配
    assert not at.error, [e.value for e in at.error]
    assert any("已新增" in s.value for s in at.success)
    values = [m.value for m in at.metric if m.label == "评审人数不足的作品"]
    assert values == ["0", "0"]  # every panel covered now


def test_users_imported_in_the_page_show_their_initial_passwords_once(app_data):
    table = "用户名,姓名,角色,密码\nexpert9,专家九,专家,\nmedia9,媒体九,media,\n"
    at = _app("boss", "organiser")
    at.switch_page("pages/users.py").run()
    at.get("file_uploader")[0].upload("users.csv", table.encode("utf-8"), "text/csv")
    at.run()
    at.button(key="users_import").click().run()
    assert not at.error, [e.value for e in at.error]
    shown = at.dataframe[-1].value
    assert list(shown["用户名"]) == ["expert9", "media9"]
    assert list(shown["角色"]) == ["评审专家", "媒体评测"]
    assert all(len(p) >= 8 for p in shown["初始密码"])
    at.run()  # the next run no longer shows them
    assert "初始密码" not in at.dataframe[-1].value.columns


def test_reopening_an_entry_later_in_the_session_shows_the_stored_points(app_data):
    at = _entry_page("expert1", "expert", "T-001")
    at.number_input[0].set_value(45)
    at.number_input[1].set_value(30.5).run()
    at.button(key="draft_T-001").click().run()
    at.switch_page("pages/entries.py").run()  # away: Streamlit forgets the sheet's widgets
    at.query_params["code"] = "T-001"
    at.switch_page("pages/entry.py").run()
    assert not at.exception
    assert [n.value for n in at.number_input] == [45, 30.5]  # not zeros that a submit would save
    assert [m.value for m in at.metric if m.label == "合计（折算百分制）"] == ["75.50"]


def test_each_import_offers_its_template_beside_the_uploader(app_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/intake.py").run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("下载模板（含示例行与说明）") == 3  # entries, votes and scores tabs
    at.switch_page("pages/users.py").run()
    assert not at.exception
    assert "下载模板（含示例行与说明）" in [b.proto.label for b in at.get("download_button")]
