"""The demo's generated images and PDF dossiers are real, valid and reproducible files."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from scoring.assets import JPEG, PDF, validate_image, validate_material
from scoring.demo import media
from scoring.demo.media import demo_image, demo_pdf

TITLE = "青岛市“一网通办”政务服务平台建设与应用"


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


@pytest.mark.parametrize("kind", ["case", "person"])
def test_demo_image_is_a_valid_jpeg_of_the_right_size(kind: str) -> None:
    data = demo_image("QD2020-017", TITLE, 2, kind=kind)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (1280, 800)
        im.load()
        colours = im.convert("RGB").resize((64, 40)).getcolors(64 * 40)
    assert colours is not None and len(colours) > 50  # a picture, not a flat fill
    assert validate_image("QD2020-017-2.jpg", data) == JPEG


def test_demo_image_is_deterministic_and_differs_per_entry_and_index() -> None:
    first = demo_image("QD2020-017", TITLE, 1)
    assert demo_image("QD2020-017", TITLE, 1) == first
    assert demo_image("QD2020-018", TITLE, 1) != first
    assert demo_image("QD2020-017", TITLE, 2) != first


def test_demo_image_without_cjk_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with no Chinese font still gets its images, with the ASCII label only."""
    monkeypatch.setattr(media, "_CJK_FONTS", ("/nonexistent/font.ttc",))
    media._cjk_font_file.cache_clear()
    media._font.cache_clear()
    try:
        assert media._font(40)[1] is False
        data = demo_image("P-003", "张晓明", 1, kind="person")
        assert validate_image("p.jpg", data) == JPEG
    finally:
        media._cjk_font_file.cache_clear()
        media._font.cache_clear()


def test_demo_pdf_is_a_two_page_dossier_in_stsong() -> None:
    summary = "平台整合全市 46 个部门 1200 余项服务事项，实现“一次登录、全网通办”。" * 3
    pdf = demo_pdf("QD2020-017", TITLE, "青岛市政务服务管理办公室", summary)
    assert pdf.startswith(b"%PDF")
    assert pages(pdf) == 2
    assert b"STSong-Light" in pdf
    assert validate_material("QD2020-017.pdf", pdf) == PDF
    assert demo_pdf("QD2020-017", TITLE, "青岛市政务服务管理办公室", summary) == pdf


@pytest.mark.parametrize(
    ("title", "summary", "kind"),
    [("<b>&未闭合", "含 <script> & 符号", "case"), ("长" * 90, "很长的简介。" * 400, "case"),
     ("张晓明", "", "person")],
)  # fmt: skip
def test_demo_pdf_stays_two_pages_for_awkward_text(title: str, summary: str, kind: str) -> None:
    pdf = demo_pdf("X-1", title, "某单位" * 20, summary, kind=kind)
    assert pages(pdf) == 2
