"""The demo's images and PDF materials, drawn by code so the repository ships no binaries.

Everything is derived from the entry's code (and the image index) through SHA-256, so a demo
built twice on the same machine produces the same bytes, and each entry still looks different
from its neighbours in the gallery. The images go through the same validation and store as
uploads do, which is why they are real JPEGs and real PDFs rather than placeholders.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
from functools import cache, partial
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageChops, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

WIDTH, HEIGHT = 1280, 800

_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _seed(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()


@cache
def _cjk_font_file() -> tuple[str, int] | None:
    """The first CJK font on this machine, with the face index of its Simplified Chinese face."""
    for candidate in _CJK_FONTS:
        if not Path(candidate).is_file():
            continue
        for index in range(6):
            try:
                face = ImageFont.truetype(candidate, 20, index=index)
            except (OSError, ImportError):  # no such face, or Pillow without FreeType
                break
            family = face.getname()[0] or ""
            if family.endswith(" SC") or "WenQuanYi" in family:
                return candidate, index
        return candidate, 0
    return None


@cache
def _font(size: int) -> tuple[Font, bool]:
    """A font of about ``size`` px and whether it can draw Chinese (never raises)."""
    found = _cjk_font_file()
    if found is not None:
        try:
            return ImageFont.truetype(found[0], size, index=found[1]), True
        except (OSError, ImportError):
            pass
    return ImageFont.load_default(size=size), False


# (deep, light) pairs that read well under white text: navy, teal, indigo, plum, slate ...
_PALETTES: tuple[tuple[str, str], ...] = (
    ("#0b2a5b", "#2f80ed"),
    ("#053b3f", "#17a2a8"),
    ("#1e1b4b", "#6d5dfc"),
    ("#3b0a45", "#c2410c"),
    ("#0f3d2e", "#2fa36b"),
    ("#1f2937", "#3b82f6"),
    ("#4a0d1f", "#e11d48"),
    ("#102a43", "#14b8a6"),
    ("#2d1b69", "#db2777"),
    ("#1c3144", "#f59e0b"),
)


def _palette(code: str, index: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A curated colour pair picked by hash, its light end nudged so no two images match."""
    digest = _seed(code, index)
    deep, light = _PALETTES[digest[0] % len(_PALETTES)]
    r, g, b = (int(light[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, lightness, sat = colorsys.rgb_to_hls(r, g, b)
    r, g, b = colorsys.hls_to_rgb((h + (digest[1] - 128) / 255 * 0.06) % 1.0, lightness, sat)
    deep_rgb = (int(deep[1:3], 16), int(deep[3:5], 16), int(deep[5:7], 16))
    return deep_rgb, (round(r * 255), round(g * 255), round(b * 255))


def _gradient(deep: tuple[int, int, int], light: tuple[int, int, int]) -> Image.Image:
    """A diagonal blend from the light top-right to the deep bottom-left."""
    small = Image.new("L", (64, 40))
    small.putdata(
        [round(255 * (0.55 * (1 - x / 63) + 0.45 * y / 39)) for y in range(40) for x in range(64)]
    )
    mask = small.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
    size = (WIDTH, HEIGHT)
    return Image.composite(Image.new("RGB", size, deep), Image.new("RGB", size, light), mask)


def _skyline(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    x = 0
    while x < WIDTH:
        w = rng.randint(50, 130)
        h = rng.randint(160, 480)
        draw.rectangle((x, HEIGHT - h, x + w - 6, HEIGHT), fill=(255, 255, 255, 38))
        for wy in range(HEIGHT - h + 20, HEIGHT - 40, 34):
            for wx in range(x + 12, x + w - 20, 22):
                if rng.random() < 0.45:
                    draw.rectangle((wx, wy, wx + 10, wy + 16), fill=(255, 244, 200, 90))
        x += w


def _network(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    nodes = [(rng.randint(80, WIDTH - 80), rng.randint(60, HEIGHT - 260)) for _ in range(14)]
    for i, (x, y) in enumerate(nodes):
        for x2, y2 in nodes[i + 1 : i + 3]:
            draw.line((x, y, x2, y2), fill=(255, 255, 255, 70), width=3)
    for x, y in nodes:
        r = rng.randint(10, 28)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 120))
        halo = (x - 2 * r, y - 2 * r, x + 2 * r, y + 2 * r)
        draw.ellipse(halo, outline=(255, 255, 255, 50), width=2)


def _chart(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    left, base, step = 140, HEIGHT - 230, 90
    points = []
    for i in range(12):
        h = rng.randint(60, 380)
        bar = (left + i * step, base - h, left + i * step + 54, base)
        draw.rounded_rectangle(bar, 8, fill=(255, 255, 255, 60))
        points.append((left + i * step + 27, base - h - 30))
    draw.line(points, fill=(255, 236, 160, 200), width=6, joint="curve")
    for x, y in points:
        draw.ellipse((x - 9, y - 9, x + 9, y + 9), fill=(255, 236, 160, 230))


def _rings(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    for _ in range(3):
        cx, cy = rng.randint(0, WIDTH), rng.randint(0, HEIGHT - 200)
        for r in range(rng.randint(60, 140), 700, 70):
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 255, 255, 34), width=10)


def _portrait(canvas: Image.Image, rng: random.Random, light: tuple[int, int, int]) -> None:
    """A stylised bust in a round frame: head, neck and shoulders, clipped to a disc."""
    cx, cy, radius = WIDTH // 2, 330, 250
    ring = (cx - radius - 12, cy - radius - 12, cx + radius + 12, cy + radius + 12)
    ImageDraw.Draw(canvas).ellipse(ring, outline=(255, 255, 255, 255), width=6)
    disc = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(disc).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    canvas.paste((*light, 255), (0, 0, *canvas.size), disc)

    figure = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(figure)
    shade = (248, 250, 252, 230)
    head = rng.randint(86, 100)
    pen.ellipse((cx - head, cy - 140 - head, cx + head, cy - 140 + head + 16), fill=shade)
    pen.rectangle((cx - 36, cy - 50, cx + 36, cy + 20), fill=shade)
    pen.ellipse((cx - 220, cy + 10, cx + 220, cy + 420), fill=shade)
    pen.polygon([(cx - 42, cy + 14), (cx, cy + 96), (cx + 42, cy + 14)], fill=(*light, 255))
    figure.putalpha(ImageChops.multiply(figure.getchannel("A"), disc))
    canvas.alpha_composite(figure)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """The text shortened with an ellipsis so that it fits ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def demo_image(code: str, title: str, index: int, total: int = 4, *, kind: str = "case") -> bytes:
    """A 1280x800 JPEG illustration for one entry: colours from the code, a label to read.

    The four images of a case use four motifs (skyline, network, chart, rings) so the gallery
    looks like a real submission; a person gets a portrait silhouette. The title is drawn only
    when a CJK font is installed; without one the ASCII label alone is drawn, never failing.
    """
    rng = random.Random(_seed("motif", code, index))
    deep, light = _palette(code, index)
    canvas = _gradient(deep, light).convert("RGBA")
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if kind == "person":
        _rings(draw, rng)
        canvas.alpha_composite(layer)
        _portrait(canvas, rng, light)
    else:
        motif = (_skyline, _network, _chart, _rings)[(index - 1) % 4]
        motif(draw, rng)
        canvas.alpha_composite(layer)

    band = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    ImageDraw.Draw(band).rectangle((0, HEIGHT - 170, WIDTH, HEIGHT), fill=(10, 16, 28, 170))
    canvas.alpha_composite(band)

    draw = ImageDraw.Draw(canvas)
    big, cjk = _font(64)
    draw.text((56, HEIGHT - 156), code, font=big, fill="white")
    draw.text((WIDTH - 56, HEIGHT - 156), f"{index}/{total}", font=big, fill="white", anchor="ra")
    if cjk and title:
        small, _ = _font(40)
        line = _fit(draw, title, small, WIDTH - 116)
        draw.text((58, HEIGHT - 34), line, font=small, fill=(226, 232, 240), anchor="ls")
    tag, _ = _font(24)
    draw.text((WIDTH - 40, 36), "DEMO", font=tag, fill=(240, 244, 248), anchor="ra")

    out = io.BytesIO()
    canvas.convert("RGB").save(out, "JPEG", quality=86)
    return out.getvalue()


# --- the PDF material ------------------------------------------------------------------------

PDF_FONT = "STSong-Light"
"""A CID font every PDF reader has built in: Chinese text with no font file to ship."""
_SUMMARY_LIMIT = 420
"""Characters of summary that fit page one next to the form; the rest is cut with an ellipsis."""


def _figures(code: str, kind: str) -> list[tuple[str, str, str]]:
    """Made-up key figures, stable per code: (indicator, value, note)."""
    rng = random.Random(_seed("figures", code))
    if kind == "person":
        return [
            ("从事相关工作年限", f"{rng.randint(8, 30)} 年", "截至申报日"),
            ("牵头或参与项目", f"{rng.randint(4, 25)} 项", "省部级以上"),
            ("服务对象", f"{rng.randint(20, 900)} 万人次", "累计"),
            ("获得表彰", f"{rng.randint(2, 12)} 次", "市级以上"),
            ("发表论文或标准", f"{rng.randint(1, 18)} 篇（项）", "已公开"),
        ]
    return [
        ("上线运行时间", f"{rng.randint(2016, 2019)} 年 {rng.randint(1, 12)} 月", "正式运行"),
        ("累计服务", f"{rng.randint(30, 2400)} 万人次", "截至 2020 年 6 月"),
        ("办理时限压缩", f"{rng.randint(35, 90)}%", "与上线前相比"),
        ("共享数据接口", f"{rng.randint(40, 800)} 个", "跨部门调用"),
        ("项目投资", f"{rng.randint(200, 9000)} 万元", "含运维"),
    ]


def _footer(canvas: Canvas, doc: SimpleDocTemplate, *, label: str) -> None:
    """Drawn on every page: what the dossier is, and page n of 2."""
    canvas.saveState()
    canvas.setFont(PDF_FONT, 8)
    canvas.setFillGray(0.45)
    canvas.drawString(doc.leftMargin, 12 * mm, label)
    right = doc.pagesize[0] - doc.rightMargin
    canvas.drawRightString(right, 12 * mm, f"第 {doc.page} 页 共 2 页")
    canvas.restoreState()


def demo_pdf(code: str, title: str, applicant: str, summary: str, *, kind: str = "case") -> bytes:
    """A two-page A4 application dossier (申报材料) for one demo entry.

    Page one: title, a form of the basic facts and the summary; page two: key figures,
    innovation and promotion value. The text is set in reportlab's built-in STSong-Light,
    so the PDF needs no font file here or in the reader. Built with ``invariant`` so that
    the same input gives the same bytes (no timestamp, no random document id).
    """
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))

    def style(name: str, size: float, **extra: object) -> ParagraphStyle:
        base = {"fontName": PDF_FONT, "fontSize": size, "leading": size * 1.6, "wordWrap": "CJK"}
        return ParagraphStyle(name, **{**base, **extra})

    heading = style("heading", 20, alignment=1, spaceAfter=6 * mm, leading=30)
    section = style("section", 13, spaceBefore=5 * mm, spaceAfter=2 * mm)
    body = style("body", 10.5, firstLineIndent=21)
    cell = style("cell", 10, leading=15)
    person = kind == "person"
    kind_label = "人物事迹申报材料" if person else "典型案例申报材料"

    text = " ".join(summary.split())
    if len(text) > _SUMMARY_LIMIT:
        text = text[:_SUMMARY_LIMIT] + "……"
    rows = [
        ["编号", code],
        ["姓名" if person else "案例名称", title],
        ["推荐单位" if person else "申报单位", applicant],
        ["材料类型", kind_label + "（示例，由系统生成）"],
    ]
    form = Table(
        [[Paragraph(escape(a), cell), Paragraph(escape(b), cell)] for a, b in rows],
        colWidths=[32 * mm, 128 * mm],
    )
    grid = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#94a3b8")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e2e8f0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    form.setStyle(TableStyle(grid))
    figures = Table(
        [[Paragraph(h, cell) for h in ("指标", "数值", "说明")]]
        + [[Paragraph(escape(c), cell) for c in row] for row in _figures(code, kind)],
        colWidths=[55 * mm, 50 * mm, 55 * mm],
    )
    header = ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e2e8f0"))
    figures.setStyle(TableStyle([*grid, header]))

    subject = "该同志" if person else "本案例"
    story = [
        Paragraph(escape(title), heading),
        form,
        Paragraph("一、基本情况" if person else "一、案例简介", section),
        Paragraph(escape(text or "（申报单位未填写简介。）"), body),
        Paragraph(
            f"{subject}由{escape(applicant)}申报，材料所列事实与数据均为演示用途而虚构，"
            "不对应任何真实单位或个人。",
            body,
        ),
        PageBreak(),
        Paragraph("二、主要成效", section),
        figures,
        Paragraph("三、创新点" if not person else "三、突出事迹", section),
        Paragraph(
            f"{subject}坚持以需求为导向，推动数据共享与业务协同，"
            "以“一网通办”“一网统管”为抓手，打破部门间的信息壁垒，"
            "让数据多跑路、群众少跑腿，形成了可复制、可推广的经验做法。",
            body,
        ),
        Paragraph("四、示范推广价值", section),
        Paragraph(
            "相关做法已在本地多个部门和区市推广应用，得到主管部门和社会各界的认可，"
            "为同类城市开展数字化转型提供了可借鉴的路径。",
            body,
        ),
        Spacer(1, 8 * mm),
        Paragraph(f"{escape(applicant)}（盖章）　　2020 年 8 月", style("sign", 10.5, alignment=2)),
    ]

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{code} {title}",
        author=applicant,
        subject=kind_label,
        creator="ReviewDesk demo",
        invariant=1,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=22 * mm,
        bottomMargin=22 * mm,
    )
    footer = partial(_footer, label=f"{kind_label} · {code}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
