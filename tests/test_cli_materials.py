"""``reviewdesk materials`` and ``reviewdesk dossier``, end to end on real files."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from tests.test_cli import CAMPAIGN_TOML


def _pdf(path: Path, pages: int) -> None:
    canvas = Canvas(str(path))
    for number in range(pages):
        canvas.drawString(72, 720, f"page {number + 1}")
        canvas.showPage()
    canvas.save()


@pytest.fixture
def campaign(cli, tmp_path) -> Path:
    """city-2021 with G-1 (two images, a two-page PDF) and E-1 (one image); the assets folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "campaign.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    for name, colour in (("封面.png", "red"), ("现场.png", "blue"), ("e.png", "green")):
        Image.new("RGB", (64, 48), colour).save(folder / name, "PNG")
    _pdf(folder / "申报书.pdf", 2)
    with (folder / "entries.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "名称", "申报主体", "类别", "领域", "图片", "材料"])
        writer.writerow(
            ["G-1", "一网通办", "甲局", "数字政府", "政务服务", "封面.png;现场.png", "申报书.pdf"]
        )
        writer.writerow(["E-1", "数据工厂", "乙公司", "数字经济", "大数据", "e.png", ""])
    assert cli("campaign", "create", str(folder / "campaign.toml"))[0] == 0
    code, _, err = cli(
        "import-entries", "city-2021", str(folder / "entries.csv"), "--assets", str(folder)
    )
    assert code == 0, err
    return folder


def test_materials_writes_the_zip_of_the_codes_asked_for(cli, campaign, tmp_path):
    out = tmp_path / "out" / "bundle.zip"
    code, stdout, err = cli(
        "materials", "--campaign", "city-2021", "--codes", "G-1", "--out", str(out)
    )
    assert code == 0, err
    assert stdout.strip() == f"Wrote {out}: 1 entries, 3 files."
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == [
            "G-1/image-01-封面.png",
            "G-1/image-02-现场.png",
            "G-1/material-01-申报书.pdf",
            "index.csv",
        ]
        pdf = zf.read("G-1/material-01-申报书.pdf")
        rows = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode("utf-8-sig"))))
    original = (campaign / "申报书.pdf").read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == hashlib.sha256(original).hexdigest()
    assert [r["code"] for r in rows] == ["G-1"] * 3
    assert not out.with_name("bundle.zip.partial").exists()


def test_materials_takes_the_campaign_as_other_commands_do_and_every_entry_by_default(
    cli, campaign, tmp_path
):
    out = tmp_path / "all.zip"
    assert cli("materials", "city-2021", "--out", str(out))[0] == 0
    with zipfile.ZipFile(out) as zf:
        folders = sorted({n.split("/")[0] for n in zf.namelist() if "/" in n})
    assert folders == ["E-1", "G-1"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--campaign", "city-2021", "--codes", "NOPE"], "NOPE"),
        (["--campaign", "nowhere"], "nowhere"),
        (["--codes", "G-1"], "Name the campaign"),
        (["city-2021", "--campaign", "other"], "Name the campaign once"),
        (["--campaign", "city-2021", "--codes", ","], "No entry chosen"),
    ],
)
def test_materials_refuses_with_one_line_and_writes_nothing(cli, campaign, tmp_path, args, reason):
    out = tmp_path / "refused.zip"
    code, _, err = cli("materials", *args, "--out", str(out))
    assert code == 1
    assert reason in err and err.count("\n") == 1
    assert not out.exists() and not out.with_name("refused.zip.partial").exists()


def test_materials_wants_a_zip_file(cli, campaign, tmp_path):
    code, _, err = cli("materials", "city-2021", "--out", str(tmp_path / "x.tar"))
    assert code == 1 and ".zip" in err


def test_dossier_writes_cover_images_and_the_pdf_pages(cli, campaign, tmp_path):
    out = tmp_path / "g1.pdf"
    code, stdout, err = cli(
        "dossier", "--campaign", "city-2021", "--code", "G-1", "--out", str(out)
    )
    assert code == 0, err
    assert stdout.strip() == f"Wrote {out}: 5 pages."
    reader = PdfReader(out)
    assert len(reader.pages) == 1 + 2 + 2
    cover = "".join(reader.pages[0].extract_text().split())
    assert "G-1" in cover and "一网通办" in cover and "甲局" in cover
    assert "page 2" in reader.pages[4].extract_text()


def test_dossier_refuses_an_unknown_code_and_a_wrong_suffix(cli, campaign, tmp_path):
    out = tmp_path / "x.pdf"
    code, _, err = cli("dossier", "city-2021", "--code", "Z-9", "--out", str(out))
    assert code == 1 and "Z-9" in err and not out.exists()
    code, _, err = cli("dossier", "city-2021", "--code", "G-1", "--out", str(tmp_path / "x.zip"))
    assert code == 1 and ".pdf" in err
