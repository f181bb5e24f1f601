"""The finalise page offers the certificates and the case collection once finalised."""

from __future__ import annotations

from scoring import context
from scoring.services.campaigns import get_campaign
from tests.app.test_pages import _app, app_data  # noqa: F401 (the fixture)
from tests.test_publication import freeze


def _downloads(at) -> list[str]:
    return [element.proto.label for element in at.get("download_button")]


def test_the_pdfs_are_offered_only_once_finalised(app_data):  # noqa: F811
    at = _app("boss", "organiser")
    at.switch_page("pages/finalise.py").run()
    assert not at.exception
    assert _downloads(at) == ["下载导出工作簿（.xlsx）"]
    context.database().write(lambda s: freeze(s, get_campaign(s, "test-2020"), {"T-002": False}))
    at.run()
    assert not at.exception
    assert _downloads(at) == [
        "下载导出工作簿（.xlsx）",
        "下载荣誉证书（PDF）",
        "下载典型案例集（PDF）",
    ]
