"""Materials in bulk: the zip read back with zipfile, the dossier read back with pypdf."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas
from sqlmodel import select

from scoring.errors import NotFound, PermissionDenied, ValidationFailed
from scoring.export.bundle import CHUNK, safe_part
from scoring.services.materials import (
    bundle_zip_bytes,
    materials_overview,
    plan_bundle,
    plan_dossier,
    write_bundle_zip,
    write_dossier_pdf,
)
from scoring.storage.models import Campaign, ConflictDeclaration, EntryAsset
from tests.factories import actor_of, assigned, make_account, make_campaign, make_entry

SHOTS = Path("/tmp/shots/h6")


def png(colour: str, size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def pdf(pages: int, label: str) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    for number in range(pages):
        canvas.drawString(72, 720, f"{label} page {number + 1}")
        canvas.showPage()
    canvas.save()
    return out.getvalue()


CORRUPT = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer garbage"


def _asset(session, store, entry, role, position, filename, data, mime):
    session.add(
        EntryAsset(
            entry_id=entry.id,
            role=role,
            position=position,
            filename=filename,
            sha256=store.put(data),
            mime=mime,
            size_bytes=len(data),
        )
    )


@pytest.fixture
def scene(database, store):
    def setup(session):
        campaign = make_campaign(session)
        one = make_entry(session, campaign, "QD-001", title="一网通办平台", applicant="青岛市某局")
        one.summary = "用一个平台办成群众的事。\n第二行"
        two = make_entry(session, campaign, "QD-002", title="工业互联网")
        other = make_entry(session, campaign, "QD-009", status="accepted")
        _asset(session, store, one, "image", 0, "封面.png", png("red"), "image/png")
        _asset(session, store, one, "image", 1, "现场.png", png("blue", (200, 400)), "image/png")
        _asset(session, store, one, "material", 0, "方案.pdf", pdf(2, "plan"), "application/pdf")
        _asset(session, store, one, "material", 1, "坏文件.pdf", CORRUPT, "application/pdf")
        _asset(session, store, one, "material", 2, "附表.xlsx", b"PK\x03\x04xlsx", "x/xlsx")
        _asset(session, store, one, "material", 3, "报告.pdf", pdf(3, "report"), "application/pdf")
        # Two names Windows and macOS take for one, and a name with Windows' forbidden marks.
        _asset(session, store, two, "material", 0, "Report.pdf", pdf(1, "A"), "application/pdf")
        _asset(session, store, two, "material", 1, "report.pdf", pdf(1, "B"), "application/pdf")
        _asset(session, store, two, "material", 2, 'a<b>"c".pdf', pdf(1, "C"), "application/pdf")
        _asset(session, store, other, "image", 0, "x.png", png("green"), "image/png")
        expert, conflicted = (
            make_account(session, "e1", "expert"),
            make_account(session, "e2", "expert"),
        )
        assigned(session, one, expert)
        assigned(session, one, conflicted)
        # A declaration beside a kept assignment: only the not_conflicted part refuses it.
        session.add(ConflictDeclaration(entry_id=one.id, reviewer_id=conflicted.id, reason="亲属"))
        return {
            "organiser": actor_of(make_account(session, "boss", "organiser")),
            "expert": actor_of(expert),
            "conflicted": actor_of(conflicted),
        }

    return database.write(setup)


def _campaign(session) -> Campaign:
    return session.exec(select(Campaign)).one()


def _stored(database, store) -> dict[tuple[str, str], str]:
    """(code, original name) -> SHA-256 of what the store holds, recomputed from the files."""
    from scoring.storage.models import Entry

    with database.read() as session:
        rows = session.exec(
            select(Entry.code, EntryAsset.filename, EntryAsset.sha256).join(EntryAsset)
        ).all()
    return {
        (code, name): hashlib.sha256(store.path(sha).read_bytes()).hexdigest()
        for code, name, sha in rows
    }


def test_the_zip_holds_each_file_by_code_with_utf8_names_equal_bytes_and_an_index(
    database, store, scene
):
    with database.read() as session:
        bundle = plan_bundle(session, scene["organiser"], _campaign(session), ["QD-002", "QD-001"])
    data = bundle_zip_bytes(bundle, store, "zh")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert names == [
            "QD-001/图片-01-封面.png",
            "QD-001/图片-02-现场.png",
            "QD-001/材料-01-方案.pdf",
            "QD-001/材料-02-坏文件.pdf",
            "QD-001/材料-03-附表.xlsx",
            "QD-001/材料-04-报告.pdf",
            "QD-002/材料-01-Report.pdf",
            "QD-002/材料-02-report.pdf",
            "QD-002/材料-03-a_b__c_.pdf",
            "目录.csv",
        ]
        for info in zf.infolist():  # the UTF-8 flag: Explorer and Archive Utility read it
            assert info.flag_bits & 0x800, info.filename
        expected = _stored(database, store)
        index = list(csv.reader(io.StringIO(zf.read("目录.csv").decode("utf-8-sig"))))
        assert index[0] == [
            "编号",
            "名称",
            "类型",
            "压缩包内路径",
            "原文件名",
            "字节数",
            "SHA-256",
            "状态",
        ]
        assert len(index) == 1 + 9
        for code, _title, _role, member, original, size, sha, status in index[1:]:
            content = zf.read(member)
            assert hashlib.sha256(content).hexdigest() == sha == expected[(code, original)]
            assert int(size) == len(content)
            assert status == "已收录"
            assert member.startswith(f"{code}/")
        assert index[1][:3] == ["QD-001", "一网通办平台", "图片"]
    assert bundle.codes == ("QD-001", "QD-002")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("C:\\x\\方案.pdf", "方案.pdf"),
        ("con.pdf", "_con.pdf"),
        ("  .hidden. ", "hidden"),
        ("a\x00b\u202e.pdf", "a_b_.pdf"),
        ("", "_"),
        ("..", "_"),
        ("方" * 60 + ".pdf", "方" * 38 + ".pdf"),  # 120 UTF-8 bytes at most, extension kept
    ],
)
def test_a_member_name_part_cannot_leave_its_folder_or_break_windows(name, safe):
    assert safe_part(name) == safe
    assert len(safe_part(name).encode("utf-8")) <= 120


def test_a_file_missing_from_the_store_is_listed_as_missing_not_a_failure(database, store, scene):
    with database.read() as session:
        bundle = plan_bundle(session, scene["organiser"], _campaign(session), ["QD-002"])
    gone = bundle.files[0]
    store.path(gone.sha256).unlink()
    out = io.BytesIO()
    report = write_bundle_zip(bundle, store, out, "en")
    assert [line.file.filename for line in report.missing] == ["Report.pdf"]
    with zipfile.ZipFile(out) as zf:
        assert "QD-002/material-01-Report.pdf" not in zf.namelist()
        rows = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode("utf-8-sig"))))
    assert [r["status"] for r in rows] == [
        "missing from the store, not included",
        "included",
        "included",
    ]


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable target (a socket, a pipe): the zip cannot go back.

    What arrives goes straight on to a file, so that the test itself holds none of it.
    """

    def __init__(self, path: Path) -> None:
        self.sink = path.open("wb")
        self.largest = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data) -> int:
        self.largest = max(self.largest, len(data))
        return self.sink.write(data)

    def close(self) -> None:
        self.sink.close()
        super().close()


def test_the_zip_streams_into_a_pipe_in_chunks_with_memory_far_below_its_size(
    database, store, scene, tmp_path
):
    def big(session):
        entry = make_entry(session, _campaign(session), "QD-100", title="大文件")
        for position in range(3):
            data = os.urandom(4 * 1024 * 1024)  # 12 MB that no compression shrinks
            _asset(session, store, entry, "material", position, f"{position}.pdf", data, "x/pdf")

    database.write(big)
    with database.read() as session:
        bundle = plan_bundle(session, scene["organiser"], _campaign(session), ["QD-100"])
    pipe = _Pipe(tmp_path / "piped.zip")
    tracemalloc.start()
    write_bundle_zip(bundle, store, pipe, "zh")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pipe.close()
    assert bundle.total_bytes == 12 * 1024 * 1024
    assert peak < 3 * CHUNK  # a chunk or two, not 12 MB
    assert pipe.largest <= CHUNK
    with zipfile.ZipFile(tmp_path / "piped.zip") as zf:
        assert zf.testzip() is None
        sizes = [i.file_size for i in zf.infolist() if i.filename.endswith(".pdf")]
        assert sizes == [4 * 2**20] * 3


def test_a_reviewer_gets_only_assigned_unconflicted_entries(database, store, scene):
    with database.read() as session:
        campaign = _campaign(session)
        with pytest.raises(PermissionDenied):
            plan_bundle(session, scene["expert"], campaign, ["QD-001", "QD-002"])
        with pytest.raises(PermissionDenied):
            plan_dossier(session, scene["expert"], campaign, "QD-002", store)
        with pytest.raises(PermissionDenied):
            plan_bundle(session, scene["conflicted"], campaign, ["QD-001"])
        with pytest.raises(PermissionDenied):
            plan_dossier(session, scene["conflicted"], campaign, "QD-001", store)
        with pytest.raises(NotFound):
            plan_bundle(session, scene["organiser"], campaign, ["QD-404"])
        with pytest.raises(ValidationFailed):
            plan_bundle(session, scene["organiser"], campaign, [" "])
        mine = plan_bundle(session, scene["expert"], campaign, ["QD-001"])
        everything_mine = plan_bundle(session, scene["expert"], campaign, None)
        nothing = scene["conflicted"]
        with pytest.raises(ValidationFailed):  # the one entry assigned is conflicted
            plan_bundle(session, nothing, campaign, None)
    assert mine.codes == everything_mine.codes == ("QD-001",)
    assert len(mine.files) == 6


def test_the_overview_filters_and_counts_files(database, store, scene):
    with database.read() as session:
        campaign = _campaign(session)
        every = materials_overview(session, scene["organiser"], campaign)
        accepted = materials_overview(session, scene["organiser"], campaign, statuses=["accepted"])
        reviewer = materials_overview(session, scene["expert"], campaign)
    assert list(every.entries["code"]) == ["QD-001", "QD-002", "QD-009"]
    assert list(every.entries["images"]) == [2, 0, 1]
    assert list(every.entries["materials"]) == [4, 3, 0]
    assert every.statuses == ["accepted", "shortlisted"]
    assert list(accepted.entries["code"]) == ["QD-009"]
    assert list(reviewer.entries["code"]) == ["QD-001"]


def _pdf_text(page) -> str:
    return "".join(page.extract_text().split())


def test_the_dossier_has_a_cover_its_images_and_its_pdf_pages_and_a_note_for_a_bad_one(
    database, store, scene, tmp_path
):
    with database.read() as session:
        dossier = plan_dossier(session, scene["organiser"], _campaign(session), "QD-001", store)
    out = tmp_path / "dossier.pdf"
    before = rl_config.useA85
    with out.open("wb") as handle:
        report = write_dossier_pdf(dossier, handle, "zh")
    reader = PdfReader(out)
    assert rl_config.useA85 == before  # pictures are embedded binary; reportlab's switch restored
    # cover + 2 images + 2 pages of 方案 + a note for 坏文件 + 3 pages of 报告 (xlsx: cover only)
    assert report.cover_pages == 1
    assert len(reader.pages) == report.pages == 1 + 2 + 2 + 1 + 3
    assert report.skipped == ("坏文件.pdf",)
    cover = _pdf_text(reader.pages[0])
    for shown in ("QD-001", "一网通办平台", "青岛市某局", "方案.pdf", "附表.xlsx", "第二行"):
        assert shown in cover
    assert "plan page 1" in reader.pages[3].extract_text()
    assert "坏文件.pdf" in _pdf_text(reader.pages[5])
    assert "report page 3" in reader.pages[8].extract_text()
    for number in (1, 2):  # each image page draws one picture
        assert len(reader.pages[number].images) == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    for page in (1, 3, 6):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                str(page),
                "-l",
                str(page),
                str(out),
                str(SHOTS / f"dossier-{page}"),
            ],
            check=True,
        )
    assert any(SHOTS.glob("dossier-1*.png"))


def test_blind_review_keeps_the_applicant_off_a_reviewers_dossier(database, store, scene):
    def blind(session):
        _campaign(session).blind_review = True

    database.write(blind)
    with database.read() as session:
        campaign = _campaign(session)
        theirs = plan_dossier(session, scene["expert"], campaign, "QD-001", store)
        organisers = plan_dossier(session, scene["organiser"], campaign, "QD-001", store)
    out = io.BytesIO()
    write_dossier_pdf(theirs, out, "zh")
    cover = _pdf_text(PdfReader(out).pages[0])
    assert "青岛市某局" not in cover
    assert "（盲评，不显示）" in cover
    assert organisers.applicant == "青岛市某局"
