"""The public results notice page, run without any sign-in, and its controls on 定稿与导出."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.i18n import translate
from scoring.literal import markdown_literal
from scoring.services.campaigns import get_campaign
from scoring.services.finalise import active_snapshot
from scoring.services.notice import publish_notice
from tests.app.test_pages import _app, app_data  # noqa: F401 (the fixture)
from tests.factories import ORGANISER
from tests.services.test_notice import SECRET_APPLICANT, SLUG, _freeze, _scene
from tests.test_publication import freeze

ROOT = Path(__file__).parents[2]


def _anonymous(lang: str = "zh", campaign: str | None = None) -> AppTest:
    """The page as a visitor who never signed in opens it: no session state at all but the
    language the sidebar switch would hold."""
    at = AppTest.from_file(str(ROOT / "pages/notice.py"), default_timeout=30)
    at.session_state["lang"] = lang
    at.session_state["gate_ready"] = True  # app.py's first run in the session is behind it
    if campaign:
        at.query_params["campaign"] = campaign
    return at.run()


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.caption, *at.info)]
    return "\n".join(str(p) for p in parts)


def _published() -> str:
    """The scene of the service tests, finalised and published; returns the snapshot hash."""
    db = context.database()
    db.write(_scene)
    db.write(_freeze)
    db.write(lambda s: publish_notice(s, ORGANISER, get_campaign(s, SLUG)))
    with db.read() as session:
        return active_snapshot(session, get_campaign(session, SLUG)).sha256


def test_a_visitor_reads_the_winners_per_group_and_the_full_hash(app_env):
    sha = _published()
    at = _anonymous(campaign=SLUG)
    assert not at.exception
    assert [t.value for t in at.title] == ["结果公示"]
    assert [s.value for s in at.subheader] == ["数字政府", "数字经济"]
    texts = _texts(at)
    for line in ("**第 1 名** · **作品A\\-1**", "编号：A\\-1", "类别：数字经济"):
        assert line in texts
    assert SECRET_APPLICANT not in texts and "作品A\\-2" not in texts
    assert [c.value for c in at.code] == [sha]
    assert "（北京时间）" in texts


def test_the_notice_reads_in_english(app_env):
    _published()
    at = _anonymous("en", SLUG)
    assert not at.exception
    assert [t.value for t in at.title] == ["Results notice"]
    assert "Code: A\\-1" in _texts(at)


def test_nothing_published_says_so_clearly(app_env):
    context.database().write(_scene)
    at = _anonymous(campaign=SLUG)
    assert not at.exception
    assert [i.value for i in at.info] == [markdown_literal(translate("public_state.no_notice"))]
    assert list(at.code) == []
    landing = _anonymous()
    assert [i.value for i in landing.info] == ["目前没有已发布的结果公示。"]


def test_the_landing_list_opens_a_published_notice(app_env):
    sha = _published()
    at = _anonymous()
    assert not at.exception
    assert [b.label for b in at.button] == ["测试评选（2020）"]
    at.button(key=f"notice_open_{SLUG}").click().run()
    assert at.query_params["campaign"] == SLUG
    assert [c.value for c in at.code] == [sha]
    at.button(key="notice_back").click().run()
    assert "campaign" not in at.query_params and list(at.code) == []


def _section(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in (*at.caption, *at.info, *at.success))


def test_the_finalise_page_offers_the_notice_once_finalised_and_shows_its_state(
    app_data,  # noqa: F811
):
    """The dialogs' own buttons rerun as fragments, which AppTest does not drive: the browser
    test presses them; here the confirmation's content and each state are checked."""
    at = _app("boss", "organiser")
    at.switch_page("pages/finalise.py").run()
    assert not at.exception
    assert "结果公示" in [s.value for s in at.subheader]
    assert "定稿后可在此发布结果公示" in _section(at)
    assert not [b for b in at.button if b.key == "notice_publish"]
    context.database().write(lambda s: freeze(s, get_campaign(s, "test-2020"), {"T-002": False}))
    at.run()
    assert "尚未公示" in _section(at)
    at.button(key="notice_publish").click().run()
    assert not at.exception
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert "公开的字段：名称、图片、编号、申报单位／个人、类别、领域、简介" in shown
    assert "**数字政府** — 1\\. 测试作品" in shown
    context.database().write(lambda s: publish_notice(s, ORGANISER, get_campaign(s, "test-2020")))
    at.run()
    assert "已公示" in _section(at)
    assert [b.proto.url for b in at.get("link_button")] == ["notice?campaign=test-2020"]
    at.button(key="notice_withdraw").click().run()
    assert not at.exception
    assert [i.label for i in at.text_input][-1:] == ["撤回原因"]


HOSTILE = "**大奖** [点此领奖](http://evil.example) <b>x</b>"


def test_a_hostile_title_shows_as_typed_never_as_markdown(app_env):
    def rename(session):
        from sqlmodel import select

        from scoring.storage.models import Entry

        entry = session.exec(select(Entry).where(Entry.code == "A-1")).one()
        entry.title = HOSTILE
        session.add(entry)

    db = context.database()
    db.write(_scene)
    db.write(rename)
    db.write(_freeze)
    db.write(lambda s: publish_notice(s, ORGANISER, get_campaign(s, SLUG)))
    at = _anonymous(campaign=SLUG)
    assert not at.exception
    winners = [
        str(m.value).splitlines()[0].rstrip() for m in at.markdown if "第 1 名" in str(m.value)
    ]
    assert winners[0] == f"**第 1 名** · **{markdown_literal(HOSTILE)}**"
