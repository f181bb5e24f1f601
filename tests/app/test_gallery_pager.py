"""The gallery draws one page of cards per run; filters and search apply to the whole list."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.services.gallery import CARDS_PER_PAGE, gallery_page
from tests.app.test_pages import _app
from tests.factories import assigned, make_account, make_campaign, make_entry

ROOT = Path(__file__).parents[2]
ENTRIES = CARDS_PER_PAGE + 12
PAGE = "gallery_page:"  # + the campaign's slug


@pytest.fixture
def big_gallery(app_env):
    """A campaign with more entries than one page holds; the expert is assigned all but two."""

    def setup(session):
        campaign = make_campaign(session)
        make_account(session, "boss", "organiser")
        expert = make_account(session, "expert1", "expert")
        for n in range(1, ENTRIES + 1):
            entry = make_entry(session, campaign, f"P-{n:03d}", title=f"作品 {n}")
            if n not in (1, 2):
                assigned(session, entry, expert)
        return campaign.slug

    slug = context.database().write(setup)
    yield slug


def _gallery(username: str, role: str) -> AppTest:
    return _app(username, role, timeout=60).switch_page("pages/entries.py").run()


def _codes(at: AppTest) -> list[str]:
    return [t.value.split("\n")[0] for t in at.text]


def _count(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("显示"))


def test_one_run_draws_one_page_and_the_next_page_shows_the_next_entries(big_gallery):
    at = _gallery("boss", "organiser")
    assert not at.exception
    assert _codes(at) == [f"P-{n:03d}" for n in range(1, CARDS_PER_PAGE + 1)]
    assert _count(at) == f"显示 {ENTRIES} / {ENTRIES} 件 · 第 1–{CARDS_PER_PAGE} 件 · 第 1 / 2 页"
    at.button[1].click().run()  # 下一页
    assert not at.exception
    assert _codes(at) == [f"P-{n:03d}" for n in range(CARDS_PER_PAGE + 1, ENTRIES + 1)]
    assert at.number_input(key=PAGE + big_gallery).value == 2
    assert at.button[1].disabled  # no page after the last
    at.button[0].click().run()  # 上一页
    assert _codes(at)[0] == "P-001"


def test_a_search_applies_to_the_whole_list_and_starts_again_on_its_first_page(big_gallery):
    at = _gallery("boss", "organiser")
    at.number_input(key=PAGE + big_gallery).set_value(2).run()
    assert _codes(at)[0] == f"P-{CARDS_PER_PAGE + 1:03d}"
    at.text_input(key="gallery_search").input("作品").run()  # still every entry, two pages
    assert _codes(at)[0] == "P-001"
    at.number_input(key=PAGE + big_gallery).set_value(2).run()
    at.text_input(key="gallery_search").input("P-00").run()  # P-001 … P-009, all on page 1
    assert not at.exception
    assert _codes(at) == [f"P-00{n}" for n in range(1, 10)]
    assert _count(at) == f"显示 9 / {ENTRIES} 件"  # one page: no pager
    assert not at.number_input


def test_a_reviewer_pages_through_their_own_entries_with_their_own_state(big_gallery):
    at = _gallery("expert1", "expert")
    assert not at.exception
    mine = [f"P-{n:03d}" for n in range(3, ENTRIES + 1)]
    assert _codes(at) == mine[:CARDS_PER_PAGE]
    at.button[1].click().run()  # 下一页
    assert _codes(at) == mine[CARDS_PER_PAGE:]
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert badges == [":orange-badge[待评分]"] * len(mine[CARDS_PER_PAGE:])


def test_a_page_number_past_the_end_shows_the_last_page():
    shown = pd.DataFrame({"code": [f"C{n}" for n in range(10)]})
    page = gallery_page(shown, 9, size=4)
    assert (page.number, page.pages, page.first, page.last) == (3, 3, 9, 10)
    assert list(page.entries["code"]) == ["C8", "C9"]
    empty = gallery_page(shown.iloc[:0], 2, size=4)
    assert (empty.number, empty.pages, empty.first, empty.last) == (1, 1, 0, 0)


def _page_links(at: AppTest) -> dict[str, str]:
    """The page links drawn, label → target page."""
    return {link.proto.label: link.proto.page for link in at.get("page_link")}


def test_organisers_get_a_link_to_add_an_entry_and_reviewers_do_not(big_gallery):
    """SPEC §2.2: one entry at a time, from where the organiser sees the entries."""
    organiser = _page_links(_gallery("boss", "organiser"))
    assert organiser.get("添加作品", "").endswith("entry_edit")
    assert "添加作品" not in _page_links(_gallery("expert1", "expert"))
