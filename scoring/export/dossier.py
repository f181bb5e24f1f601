"""One entry's dossier as one PDF: a cover with its fields, its images, its PDF materials.

What a reviewer or a committee member prints or reads offline: the cover (code, title,
applicant unless blind review hides it from the reader, category, domain, summary and a list
of what follows), one page per image fitted to the page, then every PDF material appended
page by page. A material PDF comes from outside and may be damaged, encrypted or not a PDF
at all: each one is copied on its own first, and one that fails gets a page saying so, naming
it, in its place; the dossier never fails because of one file. DOCX and XLSX materials
cannot be appended: the cover names them (they are in the materials zip).

Chinese text uses the same embedded font as the certificates (``scoring.export.publication``);
data is drawn as text, never as markup. No database here.
"""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader, PdfWriter
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from scoring.export.publication import INK, RED, _font, literal, wrap

PDF = "application/pdf"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MARGIN = 18 * mm
Text = Callable[..., str]


@dataclass(frozen=True)
class DossierFile:
    """An image or material of the entry, and where its bytes are."""

    filename: str
    mime: str
    path: Path
    """The stored file (materials) or a print-sized JPEG rendition (images); may not exist."""


@dataclass(frozen=True)
class Dossier:
    """What the dossier prints; ``applicant``/``recommender`` None when hidden from the reader."""

    campaign_name: str
    code: str
    title: str
    kind: str
    applicant: str | None
    recommender: str | None
    category: str
    domain: str
    summary: str
    images: tuple[DossierFile, ...]
    materials: tuple[DossierFile, ...]


@dataclass(frozen=True)
class DossierReport:
    """The page count and the files that got a note page instead of their pages."""

    pages: int
    cover_pages: int
    skipped: tuple[str, ...]


@dataclass
class _Part:
    """One material's fate: its copied pages, a picture page, a note page, or the cover only."""

    file: DossierFile
    fate: str  # "pages" | "picture" | "unreadable" | "not_appended"
    pages: int = 0
    copy: Path | None = None


def _probe(file: DossierFile, folder: Path, number: int) -> _Part:
    """Copy a PDF material on its own, so that a damaged one fails here, not in the dossier.

    pypdf reads lazily: a broken content stream or cross-reference often surfaces only when
    the pages are written, which would end the whole dossier. Writing each material to a
    file of its own first forces every object to be read; only a clean copy is appended.
    """
    if file.mime in IMAGE_TYPES:
        return _Part(file, "picture" if file.path.is_file() else "unreadable")
    if file.mime != PDF:
        return _Part(file, "not_appended")
    copy = folder / f"{number}.pdf"
    try:
        reader = PdfReader(file.path)
        if reader.is_encrypted and not reader.decrypt(""):
            return _Part(file, "unreadable")
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        if not writer.pages:
            return _Part(file, "unreadable")
        with copy.open("wb") as out:
            writer.write(out)
        pages = len(PdfReader(copy).pages)
    # A parser of files from outside fails in many ways (PdfReadError, KeyError, ValueError,
    # a missing crypto library, a missing file ...); each means "cannot append this one".
    except Exception:
        copy.unlink(missing_ok=True)
        return _Part(file, "unreadable")
    return _Part(file, "pages", pages=pages, copy=copy)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "body": base,
        "campaign": ParagraphStyle("campaign", base, fontSize=11, textColor=colors.grey),
        "title": ParagraphStyle("title", base, fontSize=20, leading=28, textColor=RED),
        "label": ParagraphStyle("label", base, textColor=colors.HexColor("#666666")),
        "heading": ParagraphStyle("heading", base, fontSize=13, leading=20, spaceBefore=8),
    }


def _cover(dossier: Dossier, parts: list[_Part], text: Text, font: str) -> bytes:
    style = _styles(font)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=text("materials.dossier_title", code=dossier.code, title=dossier.title),
        author=dossier.campaign_name,
        invariant=True,
    )
    hidden = text("materials.dossier_hidden")
    rows = [
        ("code", dossier.code),
        ("entry_title", dossier.title),
        ("applicant", hidden if dossier.applicant is None else dossier.applicant),
        ("recommender", hidden if dossier.recommender is None else (dossier.recommender or "—")),
        ("category", dossier.category),
        ("domain", dossier.domain),
        ("kind", text(f"kind.{dossier.kind}")),
    ]
    cells = [
        [
            Paragraph(literal(text(f"materials.field_{key}")), style["label"]),
            Paragraph(literal(value), style["body"]),
        ]
        for key, value in rows
    ]
    table = Table(cells, colWidths=[32 * mm, doc.width - 32 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
            ]
        )
    )
    story: list = [
        Paragraph(literal(dossier.campaign_name), style["campaign"]),
        Spacer(1, 3 * mm),
        Paragraph(literal(f"{dossier.code} · {dossier.title}"), style["title"]),
        Spacer(1, 5 * mm),
        table,
        Paragraph(literal(text("materials.field_summary")), style["heading"]),
        Paragraph(literal(dossier.summary or "—"), style["body"]),
        Paragraph(literal(text("materials.dossier_contents")), style["heading"]),
        Paragraph(
            literal(text("materials.dossier_images", count=len(dossier.images))), style["body"]
        ),
    ]
    for number, part in enumerate(parts, start=1):
        line = text(
            f"materials.fate_{part.fate}",
            number=number,
            name=part.file.filename,
            pages=part.pages,
        )
        story.append(Paragraph(literal(line), style["body"]))
    if not parts:
        story.append(Paragraph(literal(text("materials.dossier_no_materials")), style["body"]))
    doc.build(story)
    return buffer.getvalue()


_BINARY = threading.Lock()


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Embed a picture's JPEG bytes as they are instead of ASCII85-encoded.

    reportlab encodes each embedded JPEG in ASCII85 by default, in pure Python when its
    optional C accelerator is not installed: about 4 s per MB, so a dossier of four photos
    took over a minute (measured). The switch is global in reportlab and read when a
    picture is drawn, so it is flipped only around drawing one, under a lock; a PDF drawn
    meanwhile elsewhere at worst gets a binary stream too, which every PDF reader reads.
    """
    with _BINARY:
        before = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = before


def _fitted_picture(pdf: Canvas, path: Path, caption: str, font: str) -> None:
    """One image scaled to fit the page inside the margins, centred, with its caption."""
    width, height = A4
    pdf.setFont(font, 9)
    pdf.setFillColor(INK)
    pdf.drawString(MARGIN, height - MARGIN + 4 * mm, wrap(caption, font, 9, width - 2 * MARGIN)[0])
    box_w, box_h = width - 2 * MARGIN, height - 2 * MARGIN - 4 * mm
    with _binary_streams():
        pdf.drawImage(
            str(path),
            MARGIN,
            MARGIN,
            width=box_w,
            height=box_h,
            preserveAspectRatio=True,
            anchor="c",
        )


def _note(pdf: Canvas, lines: list[str], font: str) -> None:
    """A page that stands for a file that could not be printed, naming it."""
    width, height = A4
    y = height - 60 * mm
    pdf.setFillColor(RED)
    for number, line in enumerate(lines):
        size = 16 if number == 0 else 11
        pdf.setFont(font, size)
        for piece in wrap(line, font, size, width - 2 * MARGIN):
            pdf.drawString(MARGIN, y, piece)
            y -= size * 1.6
        pdf.setFillColor(INK)
        y -= 4 * mm


def _sheets(dossier: Dossier, parts: list[_Part], text: Text, font: str) -> bytes:
    """The image pages, then one page per material that is a picture or could not be read."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, invariant=True)
    count = len(dossier.images)
    for number, image in enumerate(dossier.images, start=1):
        caption = text("materials.image_caption", number=number, count=count, name=image.filename)
        try:
            _fitted_picture(pdf, image.path, caption, font)
        except Exception:  # reportlab/Pillow on a file it cannot read: say so on the page
            _note(pdf, [text("materials.note_title"), caption], font)
        pdf.showPage()
    for number, part in enumerate(parts, start=1):
        caption = text("materials.material_caption", number=number, name=part.file.filename)
        if part.fate == "picture":
            try:
                _fitted_picture(pdf, part.file.path, caption, font)
            except Exception:
                part.fate = "unreadable"
        if part.fate == "unreadable":
            _note(pdf, [text("materials.note_title"), caption, text("materials.note_text")], font)
        if part.fate in ("picture", "unreadable"):
            pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def write_dossier(dossier: Dossier, target: BinaryIO, text: Text) -> DossierReport:
    """Write the dossier PDF into ``target``; its page count and the files skipped."""
    font = _font()
    with tempfile.TemporaryDirectory(prefix="dossier-") as folder, ExitStack() as files:
        parts = [
            _probe(file, Path(folder), number) for number, file in enumerate(dossier.materials)
        ]
        sheets = PdfReader(io.BytesIO(_sheets(dossier, parts, text, font)))
        # The cover is drawn after the sheets: a picture material that failed to draw there
        # is listed on the cover as unreadable, as it is printed.
        cover = PdfReader(io.BytesIO(_cover(dossier, parts, text, font)))
        writer = PdfWriter()
        for page in cover.pages:
            writer.add_page(page)
        sheet = 0
        for _ in dossier.images:
            writer.add_page(sheets.pages[sheet])
            sheet += 1
        for part in parts:
            if part.fate == "pages" and part.copy is not None:
                reader = PdfReader(files.enter_context(part.copy.open("rb")))
                for page in reader.pages:
                    writer.add_page(page)
            elif part.fate in ("picture", "unreadable"):
                writer.add_page(sheets.pages[sheet])
                sheet += 1
        writer.add_metadata(
            {"/Title": text("materials.dossier_title", code=dossier.code, title=dossier.title)}
        )
        writer.write(target)
        return DossierReport(
            pages=len(writer.pages),
            cover_pages=len(cover.pages),
            skipped=tuple(p.file.filename for p in parts if p.fate == "unreadable"),
        )
