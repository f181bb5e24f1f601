"""The materials page in a real browser: the zip and the dossier are built on click and arrive.

AppTest cannot press a download button that builds its file on click; here Chromium does, and
the files that arrive are read back (zip members by demo entry code, the dossier's pages).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from browser_helpers import go_to, login, main_area, open_app, screenshot, wait_for_app
from playwright.sync_api import expect
from pypdf import PdfReader

SHOTS = Path("/tmp/shots/h6")
PHONE = {"width": 390, "height": 844}


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_organiser_downloads_a_zip_of_every_entry_shown_and_one_dossier(
    page, demo_server, tmp_path
):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    go_to(page, "材料下载")
    main = main_area(page)
    expect(main.get_by_role("heading", name="材料下载")).to_be_visible()
    _shot(page, "materials-desktop")

    main.get_by_text("全部", exact=False).first.click()
    wait_for_app(page)
    expect(main.get_by_text("已选", exact=False)).to_be_visible()
    _shot(page, "materials-desktop-all")
    with page.expect_download(timeout=120_000) as download_info:
        main.get_by_role("button", name="下载材料压缩包（zip）").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-materials.zip")
    bundle = tmp_path / "bundle.zip"
    download.save_as(bundle)
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
    assert "目录.csv" in names
    folders = {n.split("/")[0] for n in names if "/" in n}
    assert len(folders) >= 30  # the demo's main campaign: about 36 entries
    assert all(info.flag_bits & 0x800 for info in zipfile.ZipFile(bundle).infolist())

    with page.expect_download(timeout=120_000) as download_info:
        main.get_by_role("button", name="下载材料汇编（PDF）").click()
    dossier = tmp_path / "dossier.pdf"
    download_info.value.save_as(dossier)
    reader = PdfReader(dossier)
    assert len(reader.pages) >= 1 + 4 + 1  # cover, the demo's 4 images, its PDF material
    wait_for_app(page)
    screenshot(page, "materials-after-downloads")

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(500)
    _shot(page, "materials-phone")
