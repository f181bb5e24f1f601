"""`reviewdesk backup`: a consistent copy of a live database and of the stored files.

SQLite is copied with its online backup API, page by page inside a read transaction, so a
backup taken while reviewers are saving is a consistent database (a plain file copy of a
WAL database can be torn). The copy is switched to a rollback journal before it is packed,
so the archive holds one self-contained ``reviewdesk.db`` and never raw ``-wal``/``-shm``
files. The stored files are content-addressed and never rewritten or deleted, so copying
them after the database gives every file the database names. On PostgreSQL the database
belongs to ``pg_dump``; the archive then holds the files and the command prints what to run.

The archive never holds the cookie key (``DATA_DIR/.cookie_key``): anyone holding it can sign
a login cookie for any account, and backups travel to places secrets must not. Only the
store's own files (``files/ab/<sha256>``) are packed, never whatever else lies in the data
folder. ``manifest.json`` records the format, the time, the database kind and the SHA-256 of
every member, so `reviewdesk restore` can refuse a damaged or altered archive before it
writes anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from scoring.settings import Settings

FORMAT = "reviewdesk-backup"
FORMAT_VERSION = 1
"""Raised when the layout changes in a way an older `reviewdesk restore` cannot read."""
MANIFEST_MEMBER = "manifest.json"
DATABASE_MEMBER = "reviewdesk.db"
FILES_MEMBER = "files"
STORED_FILE = re.compile(r"files/[0-9a-f]{2}/([0-9a-f]{64})")
"""The only shape a stored file's member name may have: the store's own layout."""
CHUNK = 1024 * 1024
SQLITE = "sqlite"
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    database_copied: bool
    files: int
    pg_dump_hint: str | None


def database_kind(url: str) -> str:
    """``sqlite`` or ``postgresql``: what the manifest records and restore compares."""
    return SQLITE if make_url(url).get_backend_name() == "sqlite" else POSTGRESQL


def _sqlite_copy(database: Path, target: Path) -> None:
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            # The copy inherits WAL mode from the live database; a rollback journal makes it
            # one file that is complete on its own (the app switches it back to WAL on start).
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()


def _pg_connection_args(url: str) -> tuple[list[str], str]:
    parsed = make_url(url)
    parts = []
    if parsed.host:
        parts.append(f"--host={parsed.host}")
    if parsed.port:
        parts.append(f"--port={parsed.port}")
    if parsed.username:
        parts.append(f"--username={parsed.username}")
    return parts, parsed.database or "reviewdesk"


def pg_dump_file(url: str) -> str:
    """The dump file name the pg_dump hint writes and the pg_restore hint reads."""
    return f"{_pg_connection_args(url)[1]}.dump"


def pg_dump_hint(url: str) -> str:
    """The pg_dump command for the configured PostgreSQL database (password not shown)."""
    connection, name = _pg_connection_args(url)
    return " ".join(
        ["pg_dump", "--format=custom", f"--file={pg_dump_file(url)}", *connection, name]
    )


def pg_restore_hint(url: str, dump_file: str | None = None) -> str:
    """The pg_restore command that loads the dump into the configured database."""
    connection, name = _pg_connection_args(url)
    return " ".join(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            *connection,
            f"--dbname={name}",
            dump_file or pg_dump_file(url),
        ]
    )


def stored_files(files_root: Path) -> list[tuple[Path, str]]:
    """Every file of the store under ``files_root/files``, with its member name, sorted.

    Only names of the store's own shape are taken: a ``.tmp-`` file of an upload still being
    written, or anything somebody dropped into the folder, is not a stored file.
    """
    root = files_root / FILES_MEMBER
    found: list[tuple[Path, str]] = []
    if not root.is_dir():
        return found
    for path in sorted(root.glob("*/*")):
        member = path.relative_to(files_root).as_posix()
        if STORED_FILE.fullmatch(member) and path.is_file() and not path.is_symlink():
            found.append((path, member))
    return found


def _pack(archive: zipfile.ZipFile, source: Path, member: str, compress: int) -> dict[str, Any]:
    """Stream one file into the archive; its SHA-256 is taken from the very bytes packed."""
    info = zipfile.ZipInfo.from_file(source, member)
    info.compress_type = compress
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, archive.open(info, "w") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def manifest_of(
    database: str, members: dict[str, dict[str, Any]], url: str, created_at: datetime
) -> dict[str, Any]:
    """The manifest: what restore needs to know before it trusts a single byte."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at.isoformat(timespec="seconds"),
        "database": database,
        "pg_dump_file": pg_dump_file(url) if database == POSTGRESQL else None,
        "members": members,
    }


def write_manifest(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    archive.writestr(
        MANIFEST_MEMBER,
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True),
        compress_type=zipfile.ZIP_DEFLATED,
    )


def backup(settings: Settings, out: Path) -> BackupResult:
    """Write a zip with the database copy (SQLite), every stored file and a manifest to `out`.

    The zip is built under a temporary name beside `out` and moved into place at the end, so
    an interrupted backup never leaves a file that looks like a complete one.
    """
    url = settings.resolved_database_url
    kind = database_kind(url)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    created_at = datetime.now(UTC)
    members: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".reviewdesk-backup-") as scratch:
        partial = Path(scratch) / "backup.zip"
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            if kind == SQLITE:
                copy = Path(scratch) / DATABASE_MEMBER
                _sqlite_copy(Path(make_url(url).database or ""), copy)
                members[DATABASE_MEMBER] = _pack(
                    archive, copy, DATABASE_MEMBER, zipfile.ZIP_DEFLATED
                )
            # After the database: every file a row of the copy names was stored before that
            # row was committed, and nothing is ever deleted from the store.
            for path, member in stored_files(settings.files_dir):
                # Photos, PDFs and office files are compressed already; deflating them again
                # costs time and saves next to nothing.
                members[member] = _pack(archive, path, member, zipfile.ZIP_STORED)
            write_manifest(archive, manifest_of(kind, members, url, created_at))
        with partial.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, out)
    return BackupResult(
        path=out,
        database_copied=kind == SQLITE,
        files=sum(1 for m in members if m != DATABASE_MEMBER),
        pg_dump_hint=pg_dump_hint(url) if kind == POSTGRESQL else None,
    )
