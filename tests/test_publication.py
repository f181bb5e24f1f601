"""Certificates and the case collection (SPEC §4), read back from the PDFs with pypdf."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlmodel import Session, col, func, select

from scoring import context
from scoring.assets import AssetStore
from scoring.demo.builder import build_demo
from scoring.errors import PermissionDenied, StateRefused, ValidationFailed
from scoring.export import publication
from scoring.export.publication import MAX_IMAGES
from scoring.services.campaigns import get_campaign, group_order
from scoring.services.finalise import (
    decide_tie,
    final_records,
    finalise,
    pending_decisions,
    set_panel_lock,
    unfinalise,
)
from scoring.services.publication import casebook, certificates
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from scoring.storage.models import AuditEvent, Campaign, Entry, EntryAsset
from tests.factories import ORGANISER, actor_of, make_account, make_campaign, make_entry

HOSTILE_TITLE = '<b>x</b> & =HYPERLINK("http://evil.example","y") <font'
HOSTILE_APPLICANT = "<i>某</i>单位 &amp; 合作方"
HOSTILE_SUMMARY = "第一行 <br/> 不是换行\n第二行 &lt;仍是文字&gt;"


def _flat(text: str) -> str:
    """Text without whitespace: a long title wraps onto two lines of a page."""
    return re.sub(r"\s+", "", text)


def _pages(data: bytes) -> list[str]:
    return [_flat(page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]


def _images(data: bytes) -> int:
    """Image XObjects drawn over all pages."""
    count = 0
    for page in PdfReader(io.BytesIO(data)).pages:
        objects = page["/Resources"].get("/XObject") or {}
        count += sum(1 for o in objects.values() if o.get_object()["/Subtype"] == "/Image")
    return count


def freeze(session: Session, campaign: Campaign, award: dict[str, bool] | None = None) -> None:
    """Lock the panels, decide every cut-line tie (``award``, else yes) and finalise."""
    for panel in ("expert", "media"):
        set_panel_lock(session, ORGANISER, campaign, panel, True, "评审结束")
    pending = pending_decisions(session, ORGANISER, campaign)
    for code in pending.loc[pending["kind"] == "cutline_tie", "code"]:
        decide_tie(session, ORGANISER, campaign, code, (award or {}).get(code, True), "评委会表决")
    pending = pending_decisions(session, ORGANISER, campaign)
    provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
    finalise(session, ORGANISER, campaign, {code: "评审会确认" for code in provisional})


# --- the demo campaign, finalised and printed once ------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """qd-2020 of the demo, finalised; both documents made once, with what they should hold."""
    folder = tmp_path_factory.mktemp("publication")
    db = Database(f"sqlite:///{folder / 'reviewdesk.db'}")
    upgrade(db)
    store = AssetStore(folder / "store")
    db.write(lambda s: build_demo(s, store))

    def demo_campaign(session: Session) -> Campaign:
        return get_campaign(session, "qd-2020")

    db.write(lambda s: freeze(s, demo_campaign(s)))
    made = {
        "certificates": db.write(lambda s: certificates(s, ORGANISER, demo_campaign(s), "zh")),
        "casebook": db.write(lambda s: casebook(s, ORGANISER, demo_campaign(s), store, "zh")),
    }
    with db.read() as session:
        campaign = demo_campaign(session)
        awards = [r for r in final_records(session, ORGANISER, campaign) if r["award"]]
        order = group_order(session, campaign, [r["group"] for r in awards])
        images = dict(
            session.exec(
                select(Entry.code, func.count(EntryAsset.id))
                .join(EntryAsset, EntryAsset.entry_id == Entry.id)
                .where(Entry.campaign_id == campaign.id, EntryAsset.role == "image")
                .group_by(Entry.code)
            ).all()
        )
        events = session.exec(
            select(AuditEvent.action, AuditEvent.new_value).where(
                col(AuditEvent.action).in_(["campaign.certificates", "campaign.casebook"])
            )
        ).all()
        sha = session.exec(
            select(AuditEvent.new_value).where(AuditEvent.action == "campaign.finalise")
        ).one()["sha256"]
    db.dispose()
    return {
        **made,
        "awards": awards,
        "order": order,
        "images": images,
        "events": events,
        "sha": sha,
    }


def test_one_certificate_page_per_award_with_its_title_applicant_group_and_hash(demo):
    pages = _pages(demo["certificates"])
    assert len(demo["awards"]) >= 4
    assert len(pages) == len(demo["awards"])
    for number, (page, award) in enumerate(zip(pages, demo["awards"], strict=True), start=1):
        assert _flat(award["title"]) in page
        assert _flat(award["applicant"]) in page
        assert f"奖项组别：{_flat(award['group'])}" in page
        assert f"证书编号：QD-2020-{number:03d}" in page
        assert demo["sha"] in page and demo["sha"][:12] in page
        assert "2020青岛信息化典型案例评选" in page


def test_the_casebook_holds_every_award_in_group_order_with_its_images(demo):
    pages = _pages(demo["casebook"])
    assert "典型案例集" in pages[0] and demo["sha"] in pages[0]
    # Each section carries the certificate number of its award; sections follow the list.
    at = []
    for number, award in enumerate(demo["awards"], start=1):
        holding = [i for i, page in enumerate(pages) if f"证书编号QD-2020-{number:03d}" in page]
        assert len(holding) == 1, award["code"]
        page = pages[holding[0]]
        assert _flat(award["title"]) in page and _flat(award["applicant"]) in page
        assert _flat(award["category"]) in page and _flat(award["domain"]) in page
        at.append(holding[0])
    assert at == sorted(at)
    groups = list(dict.fromkeys(a["group"] for a in demo["awards"]))
    assert groups == [g for g in demo["order"] if g in groups] and len(groups) >= 2
    expected = sum(min(MAX_IMAGES, demo["images"].get(a["code"], 0)) for a in demo["awards"])
    assert expected > 0
    assert _images(demo["casebook"]) == expected


def test_the_contents_list_the_groups_and_their_titles_in_order_with_pages(demo):
    page = PdfReader(io.BytesIO(demo["casebook"])).pages[1]
    lines = [line.strip() for line in page.extract_text(extraction_mode="layout").splitlines()]
    listed = [re.sub(r"[\s.]+\d+$", "", line) for line in lines if re.search(r"\.\s+\d+$", line)]
    expected = []
    for group in dict.fromkeys(a["group"] for a in demo["awards"]):
        expected += [group, *(a["title"] for a in demo["awards"] if a["group"] == group)]
    assert lines[0] == "目录"
    assert listed == expected


def test_each_document_made_is_audited_with_the_snapshot_hash(demo):
    assert sorted(action for action, _ in demo["events"]) == [
        "campaign.casebook",
        "campaign.certificates",
    ]
    assert {new["snapshot_sha256"] for _, new in demo["events"]} == {demo["sha"]}


# --- a small campaign with hostile text, on both databases ------------------------------------


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def hostile(database, store):
    """Two tied entries, the one with markup-like text getting the award; one image."""

    def setup(session: Session) -> str:
        campaign = make_campaign(session)
        entry = make_entry(
            session, campaign, "H-1", title=HOSTILE_TITLE, applicant=HOSTILE_APPLICANT
        )
        entry.summary = HOSTILE_SUMMARY
        make_entry(session, campaign, "H-2")
        sha, mime = store.put_image("photo.png", _picture())
        session.add(
            EntryAsset(
                entry_id=entry.id,
                role="image",
                position=0,
                filename="photo.png",
                sha256=sha,
                mime=mime,
                size_bytes=len(_picture()),
            )
        )
        session.add(entry)
        return campaign.slug

    slug = database.write(setup)
    return slug


def _slugged(session: Session, slug: str) -> Campaign:
    return get_campaign(session, slug)


def test_refused_before_finalising_and_after_withdrawal(database, store, hostile):
    for make in (
        lambda s: certificates(s, ORGANISER, _slugged(s, hostile)),
        lambda s: casebook(s, ORGANISER, _slugged(s, hostile), store),
    ):
        with pytest.raises(StateRefused) as refused:
            database.write(make)
        assert refused.value.key == "campaign_state.not_finalised"
    database.write(lambda s: freeze(s, _slugged(s, hostile), {"H-1": True, "H-2": False}))
    database.write(lambda s: unfinalise(s, ORGANISER, _slugged(s, hostile), "更正票数"))
    with pytest.raises(StateRefused) as refused:
        database.write(lambda s: certificates(s, ORGANISER, _slugged(s, hostile)))
    assert refused.value.key == "campaign_state.not_finalised"
    with database.read() as session:
        made = session.exec(
            select(func.count(AuditEvent.id)).where(
                col(AuditEvent.action).in_(["campaign.certificates", "campaign.casebook"])
            )
        ).one()
    assert made == 0


def test_a_reviewer_may_not_print_them(database, store, hostile):
    database.write(lambda s: freeze(s, _slugged(s, hostile), {"H-1": True, "H-2": False}))
    expert = database.write(lambda s: actor_of(make_account(s, "expert9", "expert")))
    with pytest.raises(PermissionDenied):
        database.write(lambda s: casebook(s, expert, _slugged(s, hostile), store))


def test_hostile_text_prints_as_typed(database, store, hostile):
    database.write(lambda s: freeze(s, _slugged(s, hostile), {"H-1": True, "H-2": False}))
    sheet = database.write(lambda s: certificates(s, ORGANISER, _slugged(s, hostile)))
    book = database.write(lambda s: casebook(s, ORGANISER, _slugged(s, hostile), store))
    (page,) = _pages(sheet)
    assert _flat(HOSTILE_TITLE) in page and _flat(HOSTILE_APPLICANT) in page
    section = _pages(book)[-1]
    for typed in (HOSTILE_TITLE, HOSTILE_APPLICANT, HOSTILE_SUMMARY):
        assert _flat(typed) in section
    assert _images(book) == 1


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_campaign(cli):
    """A small campaign in the CLI's data folder; the root ``cli`` runner, (code, out, err)."""

    def setup(session: Session) -> None:
        campaign = make_campaign(session)
        make_entry(session, campaign, "C-1", title="智慧社区")
        make_entry(session, campaign, "C-2")

    context.database().write(setup)
    return cli


def test_the_commands_refuse_with_one_line_and_write_nothing_then_write_the_pdfs(
    cli_campaign, tmp_path
):
    out = tmp_path / "out"
    for command in ("certificates", "casebook"):
        code, _, err = cli_campaign(command, "test-2020", "--out", str(out / f"{command}.pdf"))
        assert code == 1
        assert err.strip().splitlines() == [
            f"reviewdesk: The campaign is not finalised (publication.{command})."
        ]
    code, _, err = cli_campaign("certificates", "test-2020", "--out", str(out / "c.docx"))
    assert code == 1 and ".pdf" in err
    assert not out.exists()

    context.database().write(lambda s: freeze(s, _slugged(s, "test-2020"), {"C-2": False}))
    for command in ("certificates", "casebook"):
        target = out / f"{command}.pdf"
        code, printed, _ = cli_campaign(command, "test-2020", "--out", str(target))
        assert code == 0 and str(target) in printed
        assert "智慧社区" in "".join(_pages(target.read_bytes()))
    assert len(PdfReader(out / "certificates.pdf").pages) == 1
    assert sorted(p.name for p in out.iterdir()) == ["casebook.pdf", "certificates.pdf"]

    assert cli_campaign("withdraw", "test-2020", "--reason", "更正")[0] == 0
    code, _, _ = cli_campaign("certificates", "test-2020", "--out", str(out / "again.pdf"))
    assert code == 1 and not (out / "again.pdf").exists()


def test_a_missing_font_is_one_line_naming_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(publication, "FONT_FILES", (tmp_path / "wqy-zenhei.ttc",))
    with pytest.raises(ValidationFailed) as refused:
        publication.font_file()
    message = refused.value.message("en")
    assert "\n" not in message and "apt-get install fonts-wqy-zenhei" in message
