"""`reviewdesk restore FILE`: put a backup back into the configured data folder.

Restoring is the moment a damaged or altered archive does the most harm, so nothing is
written until the whole archive has been checked, in this order:

1. it is a zip holding a ``manifest.json`` of our format, in a version this code reads;
2. every member name is safe (no absolute path, no ``..``) and one a backup holds, and the
   archive and its manifest list the same members;
3. the backup's database kind is the configured one;
4. the target database is empty, or ``--force`` was given;
5. every member has the size and SHA-256 its manifest gives, and a stored file's name is
   its own hash (so the restored store finds each file by the hash the database names).

Then every member is written under a temporary name, hashed again on the way, and moved
into place at the end: stored files first (content-addressed, so an interrupted move leaves
only complete files nobody names yet), the database last, in one ``os.replace``. A failure
before that last step leaves the old database untouched.

The server must be stopped. For SQLite this is checked: leaving WAL mode is refused while
another connection has the database open, and doing so also folds a stale ``-wal`` into the
old file, so it can never be replayed onto the restored one. On PostgreSQL the database is
pg_restore's job: the files are restored and the command to load the dump is returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url

from scoring.errors import ValidationFailed
from scoring.services.backup import (
    CHUNK,
    DATABASE_MEMBER,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_MEMBER,
    POSTGRESQL,
    SQLITE,
    STORED_FILE,
    database_kind,
    pg_restore_hint,
)
from scoring.settings import Settings

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
"""Room for a manifest of about half a million stored files; more is not our manifest."""

_SHA = re.compile(r"[0-9a-f]{64}")
_DUMP_FILE = re.compile(r"[A-Za-z0-9._-]{1,120}\.dump")
"""The dump name the printed pg_restore command may carry: a plain name, nothing to run."""
_DRIVE = re.compile(r"^[A-Za-z]:")
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError)
"""What reading a damaged member raises (RuntimeError: an encrypted member)."""
_KIND_LABEL = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}


@dataclass(frozen=True)
class RestoreResult:
    folder: Path
    files: int
    database_restored: bool
    pg_restore_hint: str | None


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    sha256: str
    size: int


def _refuse(key: str, **params: object) -> ValidationFailed:
    return ValidationFailed(key, **params)


def _unsafe(name: str) -> bool:
    """A name that could land outside the target folder, or that no tool writes innocently."""
    parts = name.rstrip("/").split("/")
    return (
        not name
        or name.startswith("/")
        or "\\" in name
        or _DRIVE.match(name) is not None
        or any(part in ("", ".", "..") for part in parts)
        or any(unicodedata.category(c) == "Cc" for c in name)
    )


def _expected(name: str) -> bool:
    return name in (MANIFEST_MEMBER, DATABASE_MEMBER) or STORED_FILE.fullmatch(name) is not None


def _shown(name: str) -> str:
    return "".join("?" if unicodedata.category(c) == "Cc" else c for c in name)[:120]


def _stream(
    archive: zipfile.ZipFile,
    member: _Member,
    shown: str,
    sink: IO[bytes] | None = None,
) -> None:
    """Read a member (into `sink`), refusing it unless size and SHA-256 match the manifest.

    Reading stops as soon as a member gives more bytes than the manifest declares, so a
    member that expands without end cannot fill the disk.
    """
    digest = hashlib.sha256()
    size = 0
    try:
        with archive.open(member.info) as fh:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                if size > member.size:
                    break
                digest.update(chunk)
                if sink is not None:
                    sink.write(chunk)
    except _READ_ERRORS:
        raise _refuse("backup.damaged_member", path=shown, member=member.info.filename) from None
    if size != member.size or digest.hexdigest() != member.sha256:
        raise _refuse("backup.damaged_member", path=shown, member=member.info.filename)


def _open(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise _refuse("backup.no_file", path=str(path))
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse("backup.not_a_zip", path=path.name) from None


def _manifest(archive: zipfile.ZipFile, shown: str) -> dict[str, Any]:
    """The parsed manifest, or the reason this archive is not a backup we can read."""
    try:
        info = archive.getinfo(MANIFEST_MEMBER)
    except KeyError:
        raise _refuse("backup.no_manifest", path=shown) from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise _refuse("backup.bad_manifest", path=shown)
    try:
        with archive.open(info) as fh:
            manifest = json.loads(fh.read(MAX_MANIFEST_BYTES + 1))
    except _READ_ERRORS:
        raise _refuse("backup.bad_manifest", path=shown) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse("backup.bad_manifest", path=shown)
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise _refuse("backup.bad_manifest", path=shown)
    if version > FORMAT_VERSION:
        raise _refuse("backup.newer_format", path=shown, found=version, supported=FORMAT_VERSION)
    members = manifest.get("members")
    if manifest.get("database") not in (SQLITE, POSTGRESQL) or not isinstance(members, dict):
        raise _refuse("backup.bad_manifest", path=shown)
    for entry in members.values():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and _SHA.fullmatch(entry["sha256"])
            and isinstance(entry.get("size"), int)
            and entry["size"] >= 0
        ):
            raise _refuse("backup.bad_manifest", path=shown)
    return manifest


def _members(archive: zipfile.ZipFile, manifest: dict[str, Any], shown: str) -> dict[str, _Member]:
    """Each listed member with its manifest entry, once every name has been judged safe."""
    listed: dict[str, dict[str, Any]] = manifest["members"]
    infos = archive.infolist()
    for name in [info.filename for info in infos] + list(listed):
        if _unsafe(name):
            raise _refuse("backup.unsafe_member", path=shown, member=_shown(name))
        if not _expected(name):
            raise _refuse("backup.unexpected_member", path=shown, member=_shown(name))
    found: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in found:
            raise _refuse("backup.duplicate_member", path=shown, member=info.filename)
        found[info.filename] = info
    if MANIFEST_MEMBER in listed:
        raise _refuse("backup.bad_manifest", path=shown)
    for name in found:
        if name != MANIFEST_MEMBER and name not in listed:
            raise _refuse("backup.unlisted_member", path=shown, member=name)
    members: dict[str, _Member] = {}
    for name, entry in listed.items():
        if name not in found:
            raise _refuse("backup.missing_member", path=shown, member=name)
        stored = STORED_FILE.fullmatch(name)
        # A stored file is found by the hash in its name: one whose bytes hash otherwise
        # would be a file the restored store can never serve.
        if stored is not None and stored.group(1) != entry["sha256"]:
            raise _refuse("backup.damaged_member", path=shown, member=name)
        members[name] = _Member(found[name], entry["sha256"], entry["size"])
    has_database = DATABASE_MEMBER in members
    if has_database != (manifest["database"] == SQLITE):
        raise _refuse("backup.bad_manifest", path=shown)
    return members


def _dump_file(manifest: dict[str, Any]) -> str | None:
    name = manifest.get("pg_dump_file")
    return name if isinstance(name, str) and _DUMP_FILE.fullmatch(name) else None


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "").resolve()


def _companions(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]


def rows_in(database: Path) -> int:
    """How many rows the SQLite database holds outside migration bookkeeping (0: none).

    A cleanly closed database is read as immutable, which creates no ``-wal``/``-shm``
    beside it; one with a ``-wal`` is opened normally, as its last commits live there.
    """
    if not database.exists():
        return 0
    wal = _companions(database)[0]
    uri = database.as_uri() + ("" if wal.exists() else "?immutable=1")
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
                )
            ]
            return sum(
                connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in tables
            )
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise _refuse("backup.target_unreadable", database=str(database)) from None


def _take_over(database: Path) -> None:
    """Refuse when another process has the database open; fold a stale WAL into it.

    Leaving WAL mode needs the only connection, so this is the check that the server is
    stopped. It also means no old ``-wal`` can be replayed onto the restored file.
    """
    if database.exists():
        try:
            connection = sqlite3.connect(database, timeout=1, isolation_level=None)
            try:
                mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            finally:
                connection.close()
        except sqlite3.OperationalError:
            raise _refuse("backup.in_use", database=str(database)) from None
        if mode != "delete":
            raise _refuse("backup.in_use", database=str(database))
    for leftover in _companions(database):
        if leftover.exists():
            # With the main file in rollback mode (or gone) these belong to no database.
            leftover.unlink()


def _check_copy(path: Path, shown: str) -> None:
    """The staged database opens, passes SQLite's quick check and has our migrations table."""
    try:
        connection = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
        try:
            ok = connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            ok = (
                ok
                and connection.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
                ).fetchone()[0]
                == 1
            )
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        ok = False
    if not ok:
        raise _refuse("backup.damaged_member", path=shown, member=DATABASE_MEMBER)


def _stage(
    archive: zipfile.ZipFile, member: _Member, shown: str, folder: Path, suffix: str = ""
) -> Path:
    """Write a member under a temporary name in `folder`, flushed to disk."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".reviewdesk-restore-", suffix=suffix)
    with os.fdopen(fd, "wb") as sink:
        _stream(archive, member, shown, sink)
        sink.flush()
        os.fsync(sink.fileno())
    return Path(name)


def _already_stored(target: Path, sha: str) -> bool:
    if not target.is_file():
        return False
    digest = hashlib.sha256()
    with target.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == sha


def restore(settings: Settings, path: Path, *, force: bool = False) -> RestoreResult:
    """Restore the backup at `path` into the configured data folder and database.

    Raises ValidationFailed, with nothing changed, when the archive is not a backup, is
    damaged or altered, names an unsafe path, was taken from the other kind of database,
    or would replace a database that holds data without `force`.
    """
    path = Path(path)
    shown = path.name
    url = settings.resolved_database_url
    kind = database_kind(url)
    with _open(path) as archive:
        manifest = _manifest(archive, shown)
        members = _members(archive, manifest, shown)
        if manifest["database"] != kind:
            raise _refuse(
                "backup.database_kind",
                path=shown,
                found=_KIND_LABEL[manifest["database"]],
                configured=_KIND_LABEL[kind],
            )
        database = _sqlite_path(url) if kind == SQLITE else None
        if database is not None and not force and (rows := rows_in(database)):
            raise _refuse("backup.not_empty", database=str(database), rows=rows)
        for member in members.values():
            _stream(archive, member, shown)
        # Everything checked: from here on only temporary names until the final moves.
        folder = settings.files_dir.resolve()
        created = [p for p in (folder, *folder.parents) if not p.exists()]
        staging: Path | None = None
        staged: list[tuple[Path, Path]] = []
        staged_database: Path | None = None
        try:
            if database is not None:
                database.parent.mkdir(parents=True, exist_ok=True)
                _take_over(database)
                staged_database = _stage(
                    archive, members[DATABASE_MEMBER], shown, database.parent, ".db"
                )
                _check_copy(staged_database, shown)
            folder.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=folder, prefix=".reviewdesk-restore-"))
            for name, member in members.items():
                if STORED_FILE.fullmatch(name) is None:
                    continue
                target = folder / name
                if not _already_stored(target, member.sha256):
                    staged.append((_stage(archive, member, shown, staging), target))
            for source, target in staged:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
            if staged_database is not None and database is not None:
                os.replace(staged_database, database)
                staged_database = None
        finally:
            if staged_database is not None:
                staged_database.unlink(missing_ok=True)
            if staging is not None:
                for source, _ in staged:
                    source.unlink(missing_ok=True)
                staging.rmdir()
            for made in created:
                # Only folders this call created and left empty (a refusal while staging).
                if made.is_dir() and not any(made.iterdir()):
                    made.rmdir()
    return RestoreResult(
        folder=folder,
        files=sum(1 for name in members if STORED_FILE.fullmatch(name)),
        database_restored=database is not None,
        pg_restore_hint=pg_restore_hint(url, _dump_file(manifest)) if kind == POSTGRESQL else None,
    )
