"""Setup of the browser benchmark: a campaign of SPEC §9's size in a fresh data folder.

5,000 shortlisted entries in 3 categories × 6 domains, 100 reviewers (50 experts, 50 media
evaluators), 8 criteria per panel and 5 submitted reviews per entry per panel: 50,000 score
sheets and 400,000 scores, plus vote tallies. Each reviewer also has ``OPEN_PER_REVIEWER``
more entries assigned and not yet scored, for the benchmark's saves.

The campaign, the organiser and the reviewers' password hash go through the product's
services; the bulk rows (entries, tallies, accounts, assignments, sheets, scores) are written
with SQLAlchemy bulk inserts, because this is setup, not what is measured, and going through
``import-scores`` row by row would take longer than the measurement itself. Nothing here is
timed against a target; ``build`` prints how long it took.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.permissions import Actor
from scoring.services.accounts import create_account, hash_password
from scoring.services.campaigns import create_campaign
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from scoring.storage.models import (
    Account,
    Assignment,
    Category,
    Component,
    Criterion,
    Domain,
    Entry,
    Score,
    ScoreSheet,
    VoteTally,
)

N_ENTRIES = 5_000
REVIEWERS_PER_PANEL = 50
CRITERIA_PER_PANEL = 8
REVIEWS_PER_ENTRY = 5
OPEN_PER_REVIEWER = 12
PASSWORD = "bench-password-1"
ORGANISER = "organiser"
CATEGORIES = ["数字政府", "数字经济", "数字社会"]
DOMAINS = ["政务服务", "智慧城市", "工业互联网", "大数据", "网络安全", "人工智能"]
MAXIMA = [10, 10, 15, 15, 10, 10, 20, 10]
PANELS = ("expert", "media")


def reviewer_name(panel: str, index: int) -> str:
    """The username of a generated reviewer: ``expert007``, ``media042``."""
    return f"{panel}{index:03d}"


def campaign_data() -> dict:
    return {
        "slug": "bench-5000",
        "name": "性能测试评选（5000 件）",
        "year": 2026,
        "categories": CATEGORIES,
        "domains": DOMAINS,
        "vote_group": "category",
        "rank_group": "domain",
        "award_quota": 20,
        "min_images": 0,
        "components": [
            {"key": "votes", "kind": "votes", "weight": 55},
            {"key": "media", "kind": "panel", "weight": 15, "aggregate": "mean", "min_reviews": 5},
            {
                "key": "expert",
                "kind": "panel",
                "weight": 30,
                "aggregate": "trimmed",
                "trim": 1,
                "min_reviews": 5,
            },
        ],
        "criteria": [
            {"panel": panel, "key": f"c{j}", "name": f"指标{j + 1}", "max_points": MAXIMA[j]}
            for panel in PANELS
            for j in range(CRITERIA_PER_PANEL)
        ],
    }


def build(data_dir: Path, seed: int = 2020) -> dict[str, int]:
    """Create the campaign in ``data_dir``'s SQLite database; returns the row counts."""
    started = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{(data_dir / 'reviewdesk.db').resolve()}")
    upgrade(database)
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    actor = Actor.command_line()

    def work(session) -> dict[str, int]:
        create_account(
            session,
            actor,
            username=ORGANISER,
            display_name="主办方管理员",
            role="organiser",
            password=PASSWORD,
        )
        campaign = create_campaign(session, actor, campaign_data())
        categories = [c.id for c in session.exec(select(Category).order_by(Category.position))]
        domains = [d.id for d in session.exec(select(Domain).order_by(Domain.position))]
        criteria = {
            component.key: [
                c.id
                for c in session.exec(
                    select(Criterion)
                    .where(Criterion.component_id == component.id)
                    .order_by(Criterion.position)
                )
            ]
            for component in session.exec(
                select(Component).where(Component.campaign_id == campaign.id)
            )
        }
        session.flush()
        # --- bulk rows (setup, not measured) ---
        entry_ids = np.arange(1, N_ENTRIES + 1)
        session.execute(
            insert(Entry.__table__),
            [
                {
                    "id": int(i),
                    "campaign_id": campaign.id,
                    "code": f"BX{i:05d}",
                    "title": f"性能测试案例 {i}",
                    "kind": "case",
                    "applicant": f"申报单位 {i % 700}",
                    "recommender": "",
                    "category_id": categories[int(i) % len(categories)],
                    "domain_id": domains[(int(i) // 3) % len(domains)],
                    "summary": "",
                    "status": "shortlisted",
                    "status_reason": "",
                    "created_at": now,
                }
                for i in entry_ids
            ],
        )
        session.execute(
            insert(VoteTally.__table__),
            [
                {"entry_id": int(i), "votes": int(v), "updated_at": now}
                for i, v in zip(entry_ids, rng.integers(0, 50_000, N_ENTRIES), strict=True)
            ],
        )
        password_hash = hash_password(PASSWORD)
        first_reviewer = session.exec(select(Account.id).order_by(Account.id.desc())).first() + 1
        reviewers = {}
        accounts = []
        for p, panel in enumerate(PANELS):
            reviewers[panel] = np.arange(REVIEWERS_PER_PANEL) + first_reviewer + p * 50
            for r, account_id in enumerate(reviewers[panel]):
                accounts.append(
                    {
                        "id": int(account_id),
                        "username": reviewer_name(panel, r),
                        "display_name": f"{'专家' if panel == 'expert' else '媒体'}{r}",
                        "email": "",
                        "role": panel,
                        "password_hash": password_hash,
                        "active": True,
                        "failed_logins": 0,
                        "must_change_password": False,
                        "created_at": now,
                    }
                )
        session.execute(insert(Account.__table__), accounts)
        assignments, sheets, scores = [], [], []
        sheet_id = 0
        for panel in PANELS:
            # 5 distinct reviewers per entry, drawn from this panel's 50.
            picks = np.argsort(rng.random((N_ENTRIES, REVIEWERS_PER_PANEL)), axis=1)
            reviewing = picks[:, :REVIEWS_PER_ENTRY]
            maxima = np.array(MAXIMA, dtype=float)
            for e in range(N_ENTRIES):
                for r in reviewing[e]:
                    sheet_id += 1
                    reviewer_id = int(reviewers[panel][r])
                    assignments.append((int(entry_ids[e]), reviewer_id))
                    sheets.append(
                        {
                            "id": sheet_id,
                            "entry_id": int(entry_ids[e]),
                            "reviewer_id": reviewer_id,
                            "panel": panel,
                            "status": "submitted",
                            "comment": "",
                            "version": 1,
                            "submitted_at": now,
                            "updated_at": now,
                        }
                    )
                    points = np.floor(rng.random(CRITERIA_PER_PANEL) * (maxima + 1))
                    scores.extend(
                        (sheet_id, criteria[panel][j], float(points[j]))
                        for j in range(CRITERIA_PER_PANEL)
                    )
            # Entries still to score: the first ones of the list this reviewer is not on.
            for r in range(REVIEWERS_PER_PANEL):
                free = np.flatnonzero(~(reviewing == r).any(axis=1))
                start = (r * 97) % (len(free) - OPEN_PER_REVIEWER)
                for e in free[start : start + OPEN_PER_REVIEWER]:
                    assignments.append((int(entry_ids[e]), int(reviewers[panel][r])))
        session.execute(
            insert(Assignment.__table__),
            [
                {"id": n, "entry_id": e, "reviewer_id": r, "assigned_at": now}
                for n, (e, r) in enumerate(assignments, start=1)
            ],
        )
        session.execute(insert(ScoreSheet.__table__), sheets)
        session.execute(
            insert(Score.__table__),
            [
                {"id": n, "sheet_id": s, "criterion_id": c, "points": v}
                for n, (s, c, v) in enumerate(scores, start=1)
            ],
        )
        return {
            "entries": N_ENTRIES,
            "reviewers": len(accounts),
            "assignments": len(assignments),
            "sheets": len(sheets),
            "scores": len(scores),
        }

    counts = database.write(work)
    database.dispose()
    counts["setup_seconds"] = round(time.perf_counter() - started, 1)
    return counts


def open_entries(data_dir: Path, username: str) -> list[str]:
    """Codes of the entries assigned to ``username`` that have no sheet yet, in code order."""
    database = Database(f"sqlite:///{(data_dir / 'reviewdesk.db').resolve()}")
    try:
        with database.read() as session:
            account = session.exec(select(Account).where(Account.username == username)).one()
            mine = select(ScoreSheet.entry_id).where(ScoreSheet.reviewer_id == account.id)
            sheeted = set(session.exec(mine))
            rows = session.exec(
                select(Entry.id, Entry.code)
                .join(Assignment, Assignment.entry_id == Entry.id)
                .where(Assignment.reviewer_id == account.id)
                .order_by(Entry.code)
            )
            return [code for entry_id, code in rows if entry_id not in sheeted]
    finally:
        database.dispose()


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
