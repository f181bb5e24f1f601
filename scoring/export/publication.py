"""The printed result: honour certificates (荣誉证书) and the case collection (典型案例集).

Both are drawn from a `Publication`, which `scoring.services.publication` reads from the
finalised snapshot only, so a certificate printed today and one printed next month say the
same thing and carry the same SHA-256. No database here, only reportlab.

Chinese text is drawn with WenQuanYi Zen Hei (Debian ``fonts-wqy-zenhei``), embedded as a
subset: reportlab cannot embed the CFF outlines of Noto CJK, and its built-in CID fonts are
not embedded, so a print shop without the font would substitute another (docs/decisions.md
"Printed certificates and the case collection"). Text from the data is drawn as text: the
certificate uses ``drawString``; the casebook's paragraphs get it escaped, so a title
``<b>x</b>`` prints those characters instead of bold.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from scoring.errors import ValidationFailed

FONT = "ReviewDeskCJK"
MONO = "Courier"  # a standard PDF font: every reader has it, and the hash is plain ASCII
FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),
)
"""Where Debian (and Fedora) put WenQuanYi Zen Hei; its TrueType outlines can be embedded."""
RED = colors.HexColor("#a4161a")
GOLD = colors.HexColor("#b8860b")
INK = colors.HexColor("#222222")
MAX_IMAGES = 3
"""Images per case in the collection: the first ones, as the entry lists them."""

Text = Callable[..., str]
NO_LINE_START = frozenset("、，。；：？！）》」』”’·…")
"""Chinese typesetting keeps these at the end of a line, never at the start of the next."""


@dataclass(frozen=True)
class Award:
    """One awarded entry as the snapshot froze it, with its public fields for the collection."""

    number: str
    """The certificate number: campaign slug and the entry's place in the final list."""
    code: str
    title: str
    applicant: str
    category: str
    domain: str
    group: str
    summary: str = ""
    images: tuple[Path, ...] = ()
    """Image files already fitted for print (stored JPEG thumbnails), first ones first."""


@dataclass(frozen=True)
class Publication:
    """Everything both documents print: the campaign, the freeze and its awards in list order."""

    campaign_name: str
    finalised_at: datetime
    """The snapshot's time, already in the time zone printed on the documents."""
    sha256: str
    awards: tuple[Award, ...]

    @property
    def short_sha(self) -> str:
        """The first 12 hex digits: what the finalise page and the notice show."""
        return self.sha256[:12]

    def groups(self) -> list[tuple[str, list[Award]]]:
        """The ranking groups in the final list's order (the campaign's), with their awards."""
        grouped: dict[str, list[Award]] = {}
        for award in self.awards:
            grouped.setdefault(award.group, []).append(award)
        return list(grouped.items())


def font_file() -> Path:
    """The CJK font to embed; a one-line reason naming the package when it is missing."""
    for path in FONT_FILES:
        if path.is_file():
            return path
    raise ValidationFailed("publication.no_font", path=str(FONT_FILES[0]))


@cache
def _register(path: Path) -> str:
    pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    return FONT


def _font() -> str:
    return _register(font_file())


def _date(when: datetime, text: Text) -> str:
    return text("publication.date", year=when.year, month=when.month, day=when.day)


def wrap(line: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``line`` at most ``width`` wide: CJK breaks anywhere, Latin words stay whole."""
    lines: list[str] = []
    current = ""
    for piece in _pieces(line):
        trial = current + piece
        overflows = pdfmetrics.stringWidth(trial, font, size) > width
        if current and overflows and piece not in NO_LINE_START:
            lines.append(current.rstrip())
            current = piece.lstrip()
            while pdfmetrics.stringWidth(current, font, size) > width:  # one very long word
                cut = _fitting(current, font, size, width)
                lines.append(current[:cut])
                current = current[cut:]
        else:
            current = trial
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def _pieces(line: str) -> Iterator[str]:
    """Runs of Latin letters and digits (with a trailing space) or single other characters."""
    word = ""
    for char in line:
        if char.isascii() and (char.isalnum() or char in "-_.,;:!?'\"/()&=+%#@"):
            word += char
            continue
        if word:
            yield word
            word = ""
        yield char
    if word:
        yield word


def _fitting(text: str, font: str, size: float, width: float) -> int:
    cut = 1
    while cut < len(text) and pdfmetrics.stringWidth(text[: cut + 1], font, size) <= width:
        cut += 1
    return cut


def _fit(line: str, font: str, sizes: tuple[float, ...], width: float, most: int):
    """The largest size at which ``line`` wraps into at most ``most`` lines (else the smallest)."""
    for size in sizes:
        lines = wrap(line, font, size, width)
        if len(lines) <= most:
            return size, lines
    return sizes[-1], wrap(line, font, sizes[-1], width)


# --- certificates ---------------------------------------------------------------------------


def certificates_pdf(publication: Publication, text: Text) -> bytes:
    """One A4 landscape page per award, in final list order; one PDF."""
    font = _font()
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=landscape(A4), invariant=True)
    pdf.setTitle(text("publication.certificates_title", campaign=publication.campaign_name))
    pdf.setAuthor(publication.campaign_name)
    for award in publication.awards:
        _certificate(pdf, publication, award, text, font)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _centred(pdf: Canvas, lines: list[str], font: str, size: float, top: float, x: float):
    """Draw lines centred on ``x`` from ``top`` down; returns the baseline below the last."""
    pdf.setFont(font, size)
    y = top
    for line in lines:
        pdf.drawCentredString(x, y, line)
        y -= size * 1.45
    return y


def _certificate(
    pdf: Canvas, publication: Publication, award: Award, text: Text, font: str
) -> None:
    width, height = landscape(A4)
    middle = width / 2
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(4)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(1)
    pdf.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    pdf.setFillColor(RED)
    pdf.setFont(font, 46)
    pdf.drawCentredString(middle, height - 48 * mm, text("publication.certificate_heading"))

    body = text(
        "publication.certificate_body", campaign=publication.campaign_name, group=award.group
    )
    pdf.setFillColor(INK)
    y = height - 72 * mm
    for lines, size, gap in _certificate_blocks(award, body, font, width - 80 * mm):
        y = _centred(pdf, lines, font, size, y - gap, middle)
    pdf.setFont(font, 16)
    pdf.drawCentredString(middle, y - 4 * mm, text("publication.certificate_closing"))

    # The facts a reader checks, left; who issues it and when, right, where a seal goes.
    left, base, half = 30 * mm, 48 * mm, width / 2 - 40 * mm
    pdf.setFont(font, 11)
    pdf.drawString(left, base, text("publication.certificate_number", number=award.number))
    size, lines = _fit(text("publication.group", group=award.group), font, (11, 9, 8), half, 2)
    pdf.setFont(font, size)
    for number, line in enumerate(lines):
        pdf.drawString(left, base - (6 + 4 * number) * mm, line)
    issuer = width * 5 / 6 - 30 * mm
    size, lines = _fit(publication.campaign_name, font, (14, 12, 10), half, 2)
    y = _centred(pdf, lines, font, size, base, issuer)
    pdf.setFont(font, 13)
    pdf.drawCentredString(issuer, y - 1 * mm, _date(publication.finalised_at, text))

    pdf.setFillColor(colors.HexColor("#555555"))
    pdf.setFont(font, 8)
    check = text("publication.check", short=publication.short_sha)
    pdf.drawCentredString(middle, 25 * mm, check)
    pdf.setFont(MONO, 7.5)
    pdf.drawCentredString(middle, 21 * mm, f"SHA-256 {publication.sha256}")


CERTIFICATE_SIZES = ((24, 20, 16), (22, 18, 15, 12), (17, 15, 13))
"""Type sizes tried for the applicant, the title and the award line, largest first."""
LOWEST_CLOSING = 62 * mm
"""The closing line stays above the issuer's block and the facts at the bottom."""


def _certificate_blocks(award: Award, body: str, font: str, column: float):
    """(lines, size, gap above) of applicant, title and award line, shrunk until they fit.

    A 300-character title or a long organisation name must neither run into the closing
    line nor be cut: every block gets smaller together until the closing fits above
    ``LOWEST_CLOSING``.
    """
    texts = (award.applicant, f"《{award.title}》", body)
    most = (2, 3, 3)
    for scale in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5):
        blocks = []
        for line, sizes, lines_at_most, gap in zip(
            texts, CERTIFICATE_SIZES, most, (0, 6 * mm, 4 * mm), strict=True
        ):
            size, lines = _fit(line, font, tuple(s * scale for s in sizes), column, lines_at_most)
            blocks.append((lines, size, gap))
        used = sum(gap + len(lines) * size * 1.45 for lines, size, gap in blocks)
        if landscape(A4)[1] - 72 * mm - used - 4 * mm >= LOWEST_CLOSING:
            break
    return blocks


# --- the case collection --------------------------------------------------------------------


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "body": base,
        "cover_title": ParagraphStyle(
            "cover_title", base, fontSize=30, leading=42, alignment=TA_CENTER, textColor=RED
        ),
        "cover": ParagraphStyle("cover", base, fontSize=16, leading=24, alignment=TA_CENTER),
        "cover_small": ParagraphStyle(
            "cover_small", base, fontSize=9, leading=13, alignment=TA_CENTER
        ),
        "mono": ParagraphStyle(
            "mono", base, fontName=MONO, fontSize=8.5, leading=12, alignment=TA_CENTER
        ),
        "heading": ParagraphStyle("heading", base, fontSize=18, leading=26, spaceAfter=8),
        "group": ParagraphStyle(
            "group", base, fontSize=12, leading=18, textColor=RED, spaceBefore=4
        ),
        "title": ParagraphStyle("title", base, fontSize=16, leading=23, spaceAfter=6),
        "label": ParagraphStyle("label", base, textColor=colors.HexColor("#666666")),
        "toc0": ParagraphStyle("toc0", base, fontSize=12, leading=20, spaceBefore=6),
        "toc1": ParagraphStyle("toc1", base, fontSize=10.5, leading=16, leftIndent=14),
    }


def literal(value: str) -> str:
    """Data as a Paragraph shows it: markup characters escaped, line ends kept as breaks."""
    return escape(value or "").replace("\r\n", "\n").replace("\n", "<br/>")


class _Casebook(BaseDocTemplate):
    """A4 portrait with a footer of page number and short hash; notifies the contents."""

    def __init__(self, buffer: io.BytesIO, publication: Publication, text: Text, font: str):
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=22 * mm,
            rightMargin=22 * mm,
            topMargin=22 * mm,
            bottomMargin=22 * mm,
            title=text("publication.casebook_title", campaign=publication.campaign_name),
            author=publication.campaign_name,
            invariant=True,
        )
        self.publication, self.text, self.font = publication, text, font
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates(
            [
                PageTemplate("cover", [frame]),
                PageTemplate("page", [frame], onPage=self._footer),
            ]
        )

    def _footer(self, pdf: Canvas, doc: BaseDocTemplate) -> None:
        pdf.saveState()
        pdf.setFont(self.font, 8)
        pdf.setFillColor(colors.HexColor("#777777"))
        footer = self.text(
            "publication.casebook_footer",
            campaign=self.publication.campaign_name,
            short=self.publication.short_sha,
        )
        line = wrap(footer, self.font, 8, self.width - 12 * mm)[0]  # a long name: its start
        pdf.drawString(self.leftMargin, 12 * mm, line)
        pdf.drawRightString(A4[0] - self.rightMargin, 12 * mm, str(doc.page))
        pdf.restoreState()

    def afterFlowable(self, flowable) -> None:
        level = getattr(flowable, "toc_level", None)
        if level is not None:
            self.canv.bookmarkPage(flowable.toc_key)
            self.notify("TOCEntry", (level, flowable.toc_text, self.page, flowable.toc_key))


def _marked(paragraph: Paragraph, level: int, label: str, key: str) -> Paragraph:
    paragraph.toc_level, paragraph.toc_text, paragraph.toc_key = level, literal(label), key
    return paragraph


def _picture(path: Path, width: float, height: float) -> Image:
    picture = Image(str(path))
    scale = min(width / picture.imageWidth, height / picture.imageHeight)
    picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
    return picture


def casebook_pdf(publication: Publication, text: Text) -> bytes:
    """Cover, contents by ranking group, then one section per awarded entry; one PDF."""
    font = _font()
    style = _styles(font)
    buffer = io.BytesIO()
    doc = _Casebook(buffer, publication, text, font)
    story: list = [
        Spacer(1, 60 * mm),
        Paragraph(literal(publication.campaign_name), style["cover"]),
        Spacer(1, 8 * mm),
        Paragraph(literal(text("publication.casebook_heading")), style["cover_title"]),
        Spacer(1, 14 * mm),
        Paragraph(
            literal(text("publication.casebook_count", count=len(publication.awards))),
            style["cover"],
        ),
        Paragraph(literal(_date(publication.finalised_at, text)), style["cover"]),
        Spacer(1, 70 * mm),
        Paragraph(literal(text("publication.casebook_sha")), style["cover_small"]),
        Paragraph(publication.sha256, style["mono"]),
        Spacer(1, 3 * mm),
        Paragraph(literal(text("publication.casebook_check")), style["cover_small"]),
    ]
    contents = TableOfContents(levelStyles=[style["toc0"], style["toc1"]], dotsMinLevel=0)
    story += [NextPageTemplate("page"), PageBreak()]
    story += [Paragraph(literal(text("publication.contents")), style["heading"]), contents]
    width = doc.width
    for index, (group, awards) in enumerate(publication.groups()):
        for position, award in enumerate(awards):
            story.append(PageBreak())
            if position == 0:
                label = text("publication.group", group=group)
                story.append(
                    _marked(Paragraph(literal(label), style["group"]), 0, group, f"g{index}")
                )
            heading = Paragraph(literal(award.title), style["title"])
            story.append(_marked(heading, 1, award.title, f"e{award.code}"))
            story.append(_facts(award, text, style, width))
            story.append(Spacer(1, 5 * mm))
            if award.summary:
                story.append(Paragraph(literal(award.summary), style["body"]))
                story.append(Spacer(1, 5 * mm))
            for path in award.images[:MAX_IMAGES]:
                story.append(KeepTogether([_picture(path, width, 95 * mm), Spacer(1, 4 * mm)]))
    doc.multiBuild(story)
    return buffer.getvalue()


def _facts(award: Award, text: Text, style: dict[str, ParagraphStyle], width: float) -> Table:
    rows = [
        (text("publication.field_code"), award.code),
        (text("publication.field_applicant"), award.applicant),
        (text("publication.field_category"), award.category),
        (text("publication.field_domain"), award.domain),
        (text("publication.field_certificate"), award.number),
    ]
    cells = [
        [Paragraph(literal(label), style["label"]), Paragraph(literal(value), style["body"])]
        for label, value in rows
    ]
    table = Table(cells, colWidths=[34 * mm, width - 34 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table
