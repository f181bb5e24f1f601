"""``reviewdesk init-demo``: the demo campaigns of SPEC §7, fed through the real importers.

Everything is made by code (images, PDFs, scores) from fixed seeds, so the demo looks the
same each time; running it again changes nothing.
"""

from __future__ import annotations

import csv
import random
import tempfile
from importlib import resources
from pathlib import Path

from sqlmodel import Session, select

from scoring.assets import AssetStore
from scoring.demo.content import CASES, PEOPLE, RECOMMENDERS, case_summary, person_summary
from scoring.demo.media import demo_image, demo_pdf
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.permissions import Actor
from scoring.services.accounts import create_account, find_account
from scoring.services.assignments import assign
from scoring.services.campaigns import create_campaign, parse_campaign_toml, rubric
from scoring.services.entries import shortlist
from scoring.services.sheets import write_sheet
from scoring.storage.database import Database
from scoring.storage.models import Account, Campaign, Component, Entry

DEMO_PASSWORD = "review2020"
DEMO_USERS = (
    [("organiser", "主办方管理员", "organiser")]
    + [(f"expert{i}", f"评审专家{i}", "expert") for i in range(1, 6)]
    + [(f"media{i}", f"媒体评测员{i}", "media") for i in range(1, 4)]
)


def _campaign_data(name: str) -> dict:
    return parse_campaign_toml((resources.files("scoring.demo") / name).read_text("utf-8"))


def _write_files(
    folder: Path, code: str, title: str, applicant: str, summary: str, kind: str
) -> tuple[str, str]:
    images = []
    for index in range(1, 5):
        name = f"{code}-{index}.jpg"
        (folder / name).write_bytes(demo_image(code, title, index, 4, kind=kind))
        images.append(name)
    material = f"{code}-申报材料.pdf"
    (folder / material).write_bytes(demo_pdf(code, title, applicant, summary))
    return ";".join(images), material


def _case_rows(folder: Path) -> list[dict[str, str]]:
    votes = random.Random(2020)
    rows = []
    for number, ((category, domain), cases) in enumerate(CASES.items()):
        for offset, (title, applicant) in enumerate(cases):
            code = f"QD2020-{number * 2 + offset + 1:03d}"
            summary = case_summary(title, applicant)
            images, material = _write_files(folder, code, title, applicant, summary, "case")
            rows.append(
                {
                    "code": code,
                    "title": title,
                    "applicant": applicant,
                    "recommender": RECOMMENDERS[(number + offset) % len(RECOMMENDERS)],
                    "category": category,
                    "domain": domain,
                    "summary": summary,
                    "votes": str(votes.randint(800, 52000)),
                    "images": images,
                    "materials": material,
                    "status": "accepted",
                    "kind": "case",
                }
            )
    return rows


def _person_rows(folder: Path) -> list[dict[str, str]]:
    rows = []
    for number, (name, unit, domain) in enumerate(PEOPLE, start=1):
        code = f"DGP2020-{number:02d}"
        summary = person_summary(name, unit)
        images, material = _write_files(folder, code, name, unit, summary, "person")
        rows.append(
            {
                "code": code,
                "title": name,
                "applicant": unit,
                "recommender": unit,
                "category": "创新人物",
                "domain": domain,
                "summary": summary,
                "votes": "",
                "images": images,
                "materials": material,
                "status": "accepted",
                "kind": "person",
            }
        )
    return rows


def _import_entries(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    rows: list[dict],
    folder: Path,
    store: AssetStore,
) -> None:
    sheet = folder / "entries.csv"
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # The demo is built in one transaction of its own (nobody is reviewing yet).
    plan = plan_entries_import(session, actor, campaign, sheet, folder, store=store)
    apply_entries_import(session, actor, plan)
    shortlist(session, actor, campaign, all_accepted=True)


def _score(
    session: Session, actor: Actor, campaign: Campaign, coverage: dict[str, float], seed: int
) -> None:
    """Assign every reviewer of each panel and enter part of the scores.

    ``coverage`` is the share of entries each reviewer has submitted; one more entry is left
    as a draft, so that the standings show provisional entries and drafts that do not count.
    """
    rng = random.Random(seed)
    entries = list(
        session.exec(select(Entry).where(Entry.campaign_id == campaign.id).order_by(Entry.code))
    )
    quality = {e.code: rng.uniform(0.55, 0.95) for e in entries}
    for username, share in coverage.items():
        reviewer = find_account(session, username)
        component = session.exec(
            select(Component).where(
                Component.campaign_id == campaign.id, Component.key == reviewer.role
            )
        ).one()
        criteria = rubric(session, component.id)
        leniency = rng.uniform(-0.06, 0.06)
        done = round(share * len(entries))
        for index, entry in enumerate(entries):
            assign(session, actor, entry=entry, reviewer=reviewer)
            if index > done:
                continue
            points = {}
            for criterion in criteria:
                level = min(1.0, max(0.3, quality[entry.code] + leniency + rng.gauss(0, 0.06)))
                steps = round(level * criterion.max_points / criterion.step)
                points[criterion.key] = steps * criterion.step
            write_sheet(
                session,
                actor,
                reviewer=reviewer,
                entry=entry,
                points=points,
                comment="",
                submit=index < done,
            )


def build_demo(session: Session, store: AssetStore) -> list[str]:
    """Create the demo accounts and campaigns that are missing; returns what was created."""
    actor = Actor.command_line()
    created: list[str] = []
    for username, name, role in DEMO_USERS:
        if find_account(session, username) is None:
            create_account(
                session,
                actor,
                username=username,
                display_name=name,
                role=role,
                password=DEMO_PASSWORD,
            )
            created.append(username)
    existing = set(session.exec(select(Campaign.slug)))
    with tempfile.TemporaryDirectory(prefix="reviewdesk-demo-") as tmp:
        folder = Path(tmp)
        if "qd-2020" not in existing:
            campaign = create_campaign(session, actor, _campaign_data("qd-2020.toml"))
            _import_entries(session, actor, campaign, _case_rows(folder), folder, store)
            _score(
                session,
                actor,
                campaign,
                {
                    "expert1": 1,
                    "expert2": 1,
                    "expert3": 1,
                    "expert4": 0.9,
                    "expert5": 0.5,
                    "media1": 1,
                    "media2": 0.8,
                    "media3": 0.6,
                },
                seed=7,
            )
            created.append(campaign.slug)
        if "dg-person-2020" not in existing:
            campaign = create_campaign(session, actor, _campaign_data("dg-person-2020.toml"))
            _import_entries(session, actor, campaign, _person_rows(folder), folder, store)
            _score(session, actor, campaign, {"expert1": 1, "expert2": 1, "expert3": 0.75}, seed=11)
            created.append(campaign.slug)
    return created


def ensure_demo(database: Database, store: AssetStore) -> list[str]:
    """Build the demo in one transaction, but only into an empty database (``make run``)."""

    def work(session: Session) -> list[str]:
        if session.exec(select(Account.id)).first() is not None:
            return []
        return build_demo(session, store)

    return database.write(work)
