"""An import leaves a trail per entry, not only a count: the audit log says which entries an
entries import created (with their fields and files) and which tallies a votes import changed
from what to what, so a row slipped into a large file can be found afterwards."""

from __future__ import annotations

from PIL import Image
from sqlmodel import select

from scoring.storage.models import AuditEvent
from tests.factories import make_campaign, make_entry
from tests.importers.import_helpers import run_import, write_csv


def _events(database, action: str) -> list[AuditEvent]:
    with database.read() as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def test_an_entries_import_logs_each_entry_with_its_fields_and_files(database, store, tmp_path):
    database.write(lambda s: make_campaign(s))
    assets = tmp_path / "assets"
    assets.mkdir()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(assets / "photo.png")
    sheet = write_csv(
        tmp_path / "entries.csv",
        ["code", "title", "applicant", "category", "domain", "votes", "status", "images"],
        [
            ["N-1", "智慧政务", "某单位", "数字政府", "政务服务", "12", "shortlisted", "photo.png"],
            ["N-2", "数据中台", "另一单位", "数字经济", "大数据", "", "accepted", ""],
        ],
    )
    assert run_import(database, "entries", sheet, store=store, assets=assets) == 2

    per_entry = {e.target: e for e in _events(database, "entry.import")}
    assert sorted(per_entry) == ["N-1", "N-2"]
    first = per_entry["N-1"].new_value
    assert (first["title"], first["applicant"], first["votes"], first["status"]) == (
        "智慧政务",
        "某单位",
        12,
        "shortlisted",
    )
    assert len(first["files"]) == 1 and first["files"][0].startswith("image:photo.png:")
    assert per_entry["N-2"].new_value["files"] == []
    assert all(e.old_value is None and e.campaign_id for e in per_entry.values())
    (summary,) = _events(database, "entries.import")
    assert summary.new_value["entries"] == 2


def test_a_votes_import_logs_each_changed_tally_from_and_to(database, tmp_path):
    def setup(session):
        campaign = make_campaign(session)
        for code in ("A-1", "A-2", "A-3"):
            make_entry(session, campaign, code)

    database.write(setup)
    first = write_csv(tmp_path / "v1.csv", ["code", "votes"], [["A-1", "10"], ["A-2", "20"]])
    run_import(database, "votes", first)
    again = write_csv(
        tmp_path / "v2.csv", ["code", "votes"], [["A-1", "10"], ["A-2", "25"], ["A-3", "7"]]
    )
    run_import(database, "votes", again)

    logged = _events(database, "votes.import")
    assert [(e.old_value, e.new_value) for e in logged] == [
        ({"A-1": None, "A-2": None}, {"A-1": 10, "A-2": 20}),
        # A-1 unchanged: not listed. The old tally says how it was made up.
        ({"A-2": {"votes": 20, "imported": 20, "counted": 0}, "A-3": None}, {"A-2": 25, "A-3": 7}),
    ]
