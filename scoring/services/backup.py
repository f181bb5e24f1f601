"""`reviewdesk backup`: a consistent copy of a live database and of the stored files.

SQLite is copied with its online backup API, page by page inside a read transaction, so a
backup taken while reviewers are saving is a consistent database (a plain file copy of a
WAL database can be torn). The stored files are content-addressed and never rewritten, so
copying them after the database gives every file the database names. On PostgreSQL the
database belongs to `pg_dump`; the archive then holds the files and the command to run.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from scoring.settings import Settings

DATABASE_MEMBER = "reviewdesk.db"
FILES_MEMBER = "files"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    database_copied: bool
    files: int
    pg_dump_hint: str | None


def _sqlite_copy(database: Path, target: Path) -> None:
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def pg_dump_hint(url: str) -> str:
    """The pg_dump command for the configured PostgreSQL database (password not shown)."""
    parsed = make_url(url)
    parts = ["pg_dump", "--format=custom", f"--file={parsed.database or 'reviewdesk'}.dump"]
    if parsed.host:
        parts.append(f"--host={parsed.host}")
    if parsed.port:
        parts.append(f"--port={parsed.port}")
    if parsed.username:
        parts.append(f"--username={parsed.username}")
    parts.append(parsed.database or "")
    return " ".join(parts)


def backup(settings: Settings, out: Path) -> BackupResult:
    """Write a zip with the database copy (SQLite) and every stored file to `out`."""
    url = settings.resolved_database_url
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    files_root = settings.files_dir
    count = 0
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        partial = Path(scratch) / "backup.zip"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            if is_sqlite:
                copy = Path(scratch) / DATABASE_MEMBER
                _sqlite_copy(Path(make_url(url).database), copy)
                archive.write(copy, DATABASE_MEMBER)
            if files_root.is_dir():
                for path in sorted(files_root.rglob("*")):
                    relative = path.relative_to(files_root)
                    if path.is_file() and relative.parts[0] != "thumbs":
                        archive.write(path, f"{FILES_MEMBER}/{relative.as_posix()}")
                        count += 1
        os.replace(partial, out)
    return BackupResult(
        path=out,
        database_copied=is_sqlite,
        files=count,
        pg_dump_hint=None if is_sqlite else pg_dump_hint(url),
    )
