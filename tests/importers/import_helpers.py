"""Running an import the way the CLI and the pages do: plan in a read session, then write."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from scoring.assets import AssetStore
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.importers.scores import apply_scores_import, plan_scores_import
from scoring.importers.users import apply_users_import, plan_users_import
from scoring.importers.votes import apply_votes_import, plan_votes_import
from scoring.permissions import Actor
from scoring.storage.database import Database
from scoring.storage.models import (
    Account,
    AuditEvent,
    Campaign,
    Entry,
    EntryAsset,
    Score,
    VoteTally,
)

CLI = Actor.command_line()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def plan(
    database: Database,
    kind: str,
    path: Path,
    *,
    store: AssetStore | None = None,
    assets: Path | None = None,
    slug: str = "test-2020",
    submit: bool = False,
) -> Any:
    with database.read() as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).one()
        if kind == "entries":
            assert store is not None
            return plan_entries_import(session, CLI, campaign, path, assets, store=store)
        if kind == "votes":
            return plan_votes_import(session, campaign, path)
        if kind == "scores":
            return plan_scores_import(session, campaign, path, submit=submit)
        return plan_users_import(session, path)


APPLY = {
    "entries": apply_entries_import,
    "votes": apply_votes_import,
    "scores": apply_scores_import,
    "users": apply_users_import,
}


def run_import(database: Database, kind: str, path: Path, **options: Any) -> Any:
    """Plan outside, apply in one write transaction; returns what the importer returns."""
    checked = plan(database, kind, path, **options)
    return database.write(lambda session: APPLY[kind](session, CLI, checked))


def row_counts(database: Database) -> dict[str, int]:
    """How many rows each table an import writes holds: 'nothing written' is all equal."""
    with database.read() as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Entry, EntryAsset, VoteTally, Score, Account, AuditEvent)
        }
