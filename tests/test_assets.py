"""scoring.assets on real files: Pillow images, reportlab PDFs, openpyxl workbooks, real zips."""

from __future__ import annotations

import io
import os
import re
import struct
import tomllib
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from scoring import assets
from scoring.assets import (
    DOCX,
    JPEG,
    PDF,
    PNG,
    WEBP,
    XLSX,
    AssetStore,
    check_file_name,
    open_asset_source,
    sniff_type,
    validate_image,
    validate_material,
)
from scoring.errors import AssetError
from scoring.i18n import catalogue

# --- real files ----------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), *, noisy: bool = False) -> bytes:
    im = Image.effect_noise(size, 60).convert("RGB") if noisy else Image.new("RGB", size, "teal")
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 720, "application dossier")
    canvas.save()
    return out.getvalue()


def docx_bytes() -> bytes:
    """The smallest real WordprocessingML package."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        zf.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>申报书</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


def xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active.append(["编号", "名称"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plain_zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("notes.txt", "hello")
    return out.getvalue()


def refusal(call, *args) -> AssetError:
    """The AssetError raised, checked to have a real message in both languages."""
    with pytest.raises(AssetError) as info:
        call(*args)
    err = info.value
    for lang in ("en", "zh"):
        assert err.key in catalogue(lang), err.key
        assert "{" not in err.message(lang), err.message(lang)
    return err


# --- sniffing and validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "mime"),
    [
        (lambda: image_bytes("JPEG"), JPEG),
        (lambda: image_bytes("PNG"), PNG),
        (lambda: image_bytes("WEBP"), WEBP),
        (pdf_bytes, PDF),
        (docx_bytes, DOCX),
        (xlsx_bytes, XLSX),
        (plain_zip_bytes, None),
        (lambda: "编号,名称\n1,案例\n".encode(), None),
        (lambda: image_bytes("GIF"), None),
        (lambda: b"", None),
    ],
)
def test_sniff_type_by_content(make, mime) -> None:
    assert sniff_type(make()) == mime


def test_each_image_type_validates() -> None:
    for fmt, mime in (("JPEG", JPEG), ("PNG", PNG), ("WEBP", WEBP)):
        assert validate_image(f"photo.{fmt.lower()}", image_bytes(fmt)) == mime


def test_text_named_png_is_refused_naming_file_and_real_content() -> None:
    err = refusal(validate_image, "photo.png", b"this is not a picture\n")
    assert err.key == "asset.not_an_image_text"
    assert "photo.png" in err.message("en") and "plain text" in err.message("en")
    assert "photo.png" in err.message("zh") and "纯文本" in err.message("zh")


def test_pdf_named_jpg_says_it_is_a_pdf() -> None:
    err = refusal(validate_image, "cover.jpg", pdf_bytes())
    assert err.key == "asset.not_an_image" and err.params["found"] == "PDF"
    assert "cover.jpg" in str(err) and "PDF" in str(err)


def test_gif_and_unknown_binary_are_named() -> None:
    assert refusal(validate_image, "a.jpg", image_bytes("GIF")).params["found"] == "GIF"
    assert refusal(validate_image, "a.jpg", bytes(range(256))).key == "asset.not_an_image_unknown"


def test_truncated_jpeg_is_unreadable() -> None:
    data = image_bytes("JPEG", (400, 300), noisy=True)
    err = refusal(validate_image, "cut.jpg", data[: len(data) // 2])
    assert err.key == "asset.unreadable" and err.params == {"name": "cut.jpg", "found": "JPEG"}


def test_corrupt_png_is_unreadable() -> None:
    data = bytearray(image_bytes("PNG", (200, 200), noisy=True))
    start = data.index(b"IDAT") + 20
    data[start : start + 200] = bytes(200)
    assert refusal(validate_image, "bad.png", bytes(data)).key == "asset.unreadable"


def test_too_many_pixels_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "MAX_IMAGE_PIXELS", 1000)
    assert refusal(validate_image, "big.png", image_bytes("PNG", (50, 50))).key == (
        "asset.too_many_pixels"
    )


def test_oversize_image_and_material_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = image_bytes("PNG", (300, 300), noisy=True)
    monkeypatch.setattr(assets, "MAX_IMAGE_BYTES", len(data) - 1)
    err = refusal(validate_image, "big.png", data)
    assert err.key == "asset.image_too_large" and "big.png" in str(err)
    monkeypatch.setattr(assets, "MAX_IMAGE_BYTES", len(data))
    assert validate_image("big.png", data) == PNG

    pdf = pdf_bytes()
    monkeypatch.setattr(assets, "MAX_MATERIAL_BYTES", len(pdf) - 1)
    assert refusal(validate_material, "a.pdf", pdf).key == "asset.material_too_large"


def test_empty_file_refused() -> None:
    assert refusal(validate_image, "a.jpg", b"").key == "asset.empty"


@pytest.mark.parametrize(
    ("make", "mime"),
    [(pdf_bytes, PDF), (docx_bytes, DOCX), (xlsx_bytes, XLSX), (lambda: image_bytes("PNG"), PNG)],
)
def test_materials_accepted(make, mime) -> None:
    assert validate_material("材料", make()) == mime


def test_material_refusals() -> None:
    assert refusal(validate_material, "a.docx", "正文".encode()).key == "asset.not_a_material_text"
    assert refusal(validate_material, "a.docx", plain_zip_bytes()).params["found"] == "ZIP"
    cut_pdf = pdf_bytes()[:-40]
    assert refusal(validate_material, "a.pdf", cut_pdf).key == "asset.unreadable"
    cut_docx = docx_bytes()[:-30]  # the zip directory is gone
    assert refusal(validate_material, "a.docx", cut_docx).key == "asset.unreadable"
    cut_jpeg = image_bytes("JPEG", (300, 300), noisy=True)[:2000]
    assert refusal(validate_material, "a.jpg", cut_jpeg).key == "asset.unreadable"


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../a.jpg", "a/../../b.jpg", "sub/a.jpg", "/etc/passwd", "a\\b.jpg", "..\\a.jpg",
     "C:a.jpg", "c:\\x.jpg", "..", ".", "..a.jpg", "a\x00.jpg", "a\n.jpg", "", "   "],
)  # fmt: skip
def test_names_with_path_parts_refused(name: str) -> None:
    assert refusal(check_file_name, name).key in {"asset.unsafe_name", "asset.empty_name"}
    with pytest.raises(AssetError):
        validate_image(name, image_bytes("PNG"))


def test_plain_names_pass_cleaned() -> None:
    assert check_file_name(" 图片 1.jpg ") == "图片 1.jpg"
    assert check_file_name("a.b.c.jpg") == "a.b.c.jpg"
    assert check_file_name("e\u0301.png") == "\u00e9.png"  # NFC
    assert refusal(check_file_name, "x" * 300).key == "asset.name_too_long"


# --- the store -----------------------------------------------------------------------------


def test_store_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    data = image_bytes("PNG")
    sha = store.put(data)
    assert re.fullmatch(r"[0-9a-f]{64}", sha)
    path = store.path(sha)
    assert path == tmp_path / "files" / sha[:2] / sha and path.read_bytes() == data
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    assert store.put(data) == sha
    assert path.stat().st_mtime_ns == before - 10**9  # not rewritten
    assert store.read(sha) == data
    assert store.put(b"other") != sha
    assert [p.name for p in (tmp_path / "files").rglob("*") if p.is_file()].count(sha) == 1
    assert not list((tmp_path / "files").rglob(".tmp-*"))


@pytest.mark.parametrize("sha", ["../../etc/passwd", "a" * 63, "A" * 64, "g" * 64, "", "a" * 65])
def test_store_refuses_bad_hashes(tmp_path: Path, sha: str) -> None:
    store = AssetStore(tmp_path)
    assert refusal(store.read, sha).key == "asset.bad_hash"
    assert refusal(store.thumbnail, sha).key == "asset.bad_hash"


def test_store_missing_file(tmp_path: Path) -> None:
    assert refusal(AssetStore(tmp_path).read, "0" * 64).key == "asset.not_stored"
    assert refusal(AssetStore(tmp_path).thumbnail, "0" * 64).key == "asset.not_stored"


def test_thumbnail_fits_box_and_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AssetStore(tmp_path)
    sha = store.put(image_bytes("PNG", (1600, 900), noisy=True))
    thumb = store.thumbnail(sha)
    assert thumb.parent.parent == tmp_path / "thumbs"
    with Image.open(thumb) as im:
        assert im.format == "JPEG" and im.size == (480, 270)
    mtime = thumb.stat().st_mtime_ns

    def no_encoding(*args, **kwargs) -> None:
        raise AssertionError("thumbnail re-encoded")

    monkeypatch.setattr(Image.Image, "save", no_encoding)
    assert store.thumbnail(sha) == thumb
    assert thumb.stat().st_mtime_ns == mtime
    monkeypatch.undo()

    small = store.thumbnail(sha, 100, 100)
    assert small != thumb
    with Image.open(small) as im:
        assert im.width <= 100 and im.height <= 100


def test_thumbnail_follows_exif_orientation_and_transparency(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    exif = Image.Exif()
    exif[0x0112] = 6  # camera held upright: rotate 90 degrees on display
    out = io.BytesIO()
    Image.new("RGB", (800, 400), "navy").save(out, "JPEG", exif=exif)
    with Image.open(store.thumbnail(store.put(out.getvalue()))) as im:
        assert im.height > im.width and im.height <= 320

    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (255, 0, 0, 0)).save(out, "PNG")
    with Image.open(store.thumbnail(store.put(out.getvalue()))) as im:
        assert im.mode == "RGB" and im.getpixel((10, 10))[0] > 240  # on white, not black


def test_thumbnail_of_a_pdf_is_refused(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    assert refusal(store.thumbnail, store.put(pdf_bytes())).key == "asset.no_thumbnail"


# --- folders and zips ----------------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_source_matches_base_names(tmp_path: Path) -> None:
    jpeg, pdf = image_bytes("JPEG"), pdf_bytes()
    members = {
        "assets/QD-01/图1.jpg": jpeg,
        "assets/申报书.pdf": pdf,
        "__MACOSX/assets/._图1.jpg": b"junk",
        "assets/.DS_Store": b"junk",
    }
    path = make_zip(tmp_path / "assets.zip", members)
    with open_asset_source(path) as source:
        assert source.names() == ["图1.jpg", "申报书.pdf"]
        assert source.read("图1.jpg") == jpeg
        assert source.read(" 申报书.pdf") == pdf
        assert source.read("图1.JPG") == jpeg  # unique case-insensitive match
        err = refusal(source.read, "missing.jpg")
        assert err.key == "asset.missing" and err.params["name"] == "missing.jpg"
        assert refusal(source.read, "../图1.jpg").key == "asset.unsafe_name"
        zf = source._zip
    assert zf.fp is None  # closed by the with block


def test_duplicate_base_name_is_ambiguous(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", {"x/1.jpg": b"a", "y/1.jpg": b"b", "y/2.jpg": b"c"})
    with open_asset_source(path) as source:
        assert refusal(source.read, "1.jpg").key == "asset.ambiguous"
        assert source.read("2.jpg") == b"c"


@pytest.mark.parametrize(
    "member", ["../evil.jpg", "assets/../../evil.jpg", "/abs/evil.jpg", "..\\evil.jpg", "C:/e.jpg"]
)
def test_zip_with_escaping_member_is_refused_whole(tmp_path: Path, member: str) -> None:
    path = make_zip(tmp_path / "evil.zip", {"good.jpg": b"x", member: b"y"})
    err = refusal(open_asset_source, path)
    assert err.key == "asset.zip_unsafe_member" and err.params["source"] == "evil.zip"


def test_zip_bomb_is_refused_without_expanding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cover.jpg", image_bytes("JPEG"))
        with zf.open("zeros.jpg", "w", force_zip64=True) as fh:
            for _ in range(200):  # 200 MB of zeros, about 200 KB packed
                fh.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    tracemalloc.start()
    try:
        err = refusal(open_asset_source, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.key == "asset.zip_bomb" and err.params["member"] == "zeros.jpg"
    assert peak < 5 * 1024 * 1024


def test_zip_limits_on_members_and_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_zip(tmp_path / "many.zip", {f"{i}.jpg": bytes(2000) for i in range(5)})
    monkeypatch.setattr(assets, "MAX_ZIP_MEMBERS", 4)
    assert refusal(open_asset_source, path).key == "asset.zip_too_many_members"
    monkeypatch.setattr(assets, "MAX_ZIP_MEMBERS", 5)
    monkeypatch.setattr(assets, "MAX_ZIP_TOTAL_BYTES", 9999)
    assert refusal(open_asset_source, path).key == "asset.zip_too_large"
    monkeypatch.setattr(assets, "MAX_ZIP_TOTAL_BYTES", 10000)
    with open_asset_source(path) as source:
        assert len(source.names()) == 5


def test_zip_reading_stops_at_the_running_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_zip(tmp_path / "two.zip", {"a.pdf": os.urandom(6000), "b.pdf": os.urandom(6000)})
    with open_asset_source(path) as source:
        monkeypatch.setattr(assets, "MAX_ZIP_TOTAL_BYTES", 10000)
        assert len(source.read("a.pdf")) == 6000
        assert refusal(source.read, "b.pdf").key == "asset.zip_bomb_read"


def test_zip_member_lying_about_its_size_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "liar.zip", {"big.pdf": bytes(5 * 1024 * 1024)})
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 22, 1000)  # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)  # central directory: same
    path.write_bytes(bytes(data))
    with open_asset_source(path) as source:
        tracemalloc.start()
        try:
            err = refusal(source.read, "big.pdf")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert err.key in {"asset.zip_corrupt", "asset.zip_bomb_read"}
    assert peak < 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("图片.jpg", "gbk"),
        ("申报材料（终稿）.pdf", "gbk"),
        ("图片.jpg", "utf-8"),
        ("café.jpg", "utf-8"),
    ],
)
def test_zip_names_without_utf8_flag(tmp_path: Path, name: str, encoding: str) -> None:
    """Windows' own zip writes GBK names, a Mac writes UTF-8, neither sets the UTF-8 flag."""
    raw = name.encode(encoding)
    placeholder = b"Q" * len(raw)
    path = make_zip(tmp_path / "win.zip", {placeholder.decode(): b"data"})
    path.write_bytes(path.read_bytes().replace(placeholder, raw))
    with open_asset_source(path) as source:
        assert source.names() == [name]
        assert source.read(name) == b"data"


def test_folder_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "assets"
    (root / "QD-01").mkdir(parents=True)
    (root / "QD-01" / "1.png").write_bytes(b"png")
    (root / "a.pdf").write_bytes(b"pdf")
    (root / ".hidden.jpg").write_bytes(b"no")
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    (root / "link.txt").symlink_to(outside)
    with open_asset_source(root) as source:
        assert source.names() == ["1.png", "a.pdf"]
        assert source.read("1.png") == b"png"
        assert refusal(source.read, "link.txt").key == "asset.missing"
        assert refusal(source.read, "../secret.txt").key == "asset.unsafe_name"
        monkeypatch.setattr(assets, "MAX_MATERIAL_BYTES", 2)
        assert refusal(source.read, "a.pdf").key == "asset.material_too_large"


def test_bad_sources(tmp_path: Path) -> None:
    assert refusal(open_asset_source, tmp_path / "nope.zip").key == "asset.source_missing"
    text = tmp_path / "a.zip"
    text.write_text("not a zip")
    assert refusal(open_asset_source, text).key == "asset.source_not_zip"


# --- catalogues ----------------------------------------------------------------------------


def test_asset_messages_exist_in_both_languages_with_same_placeholders() -> None:
    root = Path(assets.__file__).parent / "locales"
    tables = {
        lang: tomllib.loads((root / lang / "assets.toml").read_text("utf-8"))["asset"]
        for lang in ("en", "zh")
    }
    assert tables["en"].keys() == tables["zh"].keys()
    for key, text in tables["en"].items():
        holes = set(re.findall(r"{(\w+)}", text))
        assert holes == set(re.findall(r"{(\w+)}", tables["zh"][key])), key
    source = Path(assets.__file__).read_text("utf-8")
    used = set(re.findall(r'"asset\.(\w+)"', source))
    assert used and used <= tables["en"].keys()


# --- the pixel budget: one check or thumbnail costs under 200 MB ---------------------------

_PEAK_SCRIPT = """
import sys
from pathlib import Path
from scoring.assets import AssetStore, validate_image
def kib(field):  # VmHWM is this process's own peak; ru_maxrss would include the parent's
    line = next(l for l in open("/proc/self/status") if l.startswith(field))
    return int(line.split()[1]) * 1024
path, root = Path(sys.argv[1]), Path(sys.argv[2])
data = path.read_bytes()
store = AssetStore(root)
sha = store.put(data)
base = kib("VmRSS")
validate_image(path.name, data)
store.thumbnail(sha)
print(kib("VmHWM") - base)
"""


@pytest.mark.parametrize(
    ("name", "mode", "size"),
    [
        ("poster.png", "RGBA", (4000, 4000)),  # 16 MP with alpha: the PNG limit
        ("phone.jpg", "RGB", (12000, 9000)),  # 108 MP: decoded at 1/8 scale
    ],
)
def test_checking_and_thumbnailing_the_largest_allowed_image_costs_under_200_mb(
    tmp_path: Path, name: str, mode: str, size: tuple[int, int]
) -> None:
    import subprocess
    import sys

    path = tmp_path / name
    Image.new(mode, size, (10, 200, 30, 128)[: len(mode)]).save(path, compress_level=1)
    run = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(path), str(tmp_path / "store")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert int(run.stdout) < 200 * 1024 * 1024


def test_a_huge_png_is_refused_from_its_header(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (4001, 4000)).save(out, "PNG", compress_level=1)  # just over 16 MP
    error = refusal(validate_image, "huge.png", out.getvalue())
    assert (error.key, error.params["limit"]) == ("asset.too_many_pixels", 16)
    store = AssetStore(tmp_path)
    with pytest.raises(AssetError) as refused:  # stored before the limit: still refused
        store.thumbnail(store.put(out.getvalue()))
    assert refused.value.key == "asset.too_many_pixels"
