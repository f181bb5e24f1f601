"""Materials in bulk: the files of chosen entries as one zip, named by entry code.

The zip is written member by member, each stored file copied in chunks, into any binary
file object that can be written to (a temporary file, an open output file, a pipe): nothing
holds a whole file, let alone the whole zip, in memory, so a selection of a few gigabytes
costs a few megabytes. Photos, PDFs and Office files are compressed already, so members are
stored, not deflated: deflating them would cost seconds and save almost nothing.

Member names come from the entry code and the original file name, made safe for every
unpacking tool: no folder part, no ``..``, none of the characters Windows refuses, no
reserved device name, not too long, and never the same name twice (Windows and macOS compare
names case-insensitively). Python's zipfile sets the UTF-8 flag on every non-ASCII name, so
Chinese names show as they are in Windows Explorer and macOS Archive Utility rather than as
mojibake. An index (CSV, UTF-8 with BOM so that Excel and WPS open it right) lists every file
with its SHA-256 and whether it is in the zip; a file missing from the store is listed as
missing rather than failing the whole download.

No database and no streamlit here: ``scoring.services.materials`` decides what goes in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from scoring.export.cells import csv_text

CHUNK = 1024 * 1024
"""Bytes copied at a time: the most of any file the zip writer holds in memory at once."""
MAX_PART_BYTES = 120
"""A folder or file name part, in UTF-8 bytes: leaves room under Windows' 260-character path
for the folder the user unpacks into (a Chinese character is three bytes)."""
_FORBIDDEN = frozenset('<>:"/\\|?*')
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
"""Windows device names: a file called ``con.pdf`` cannot be created there."""

Text = Callable[..., str]
INDEX_COLUMNS = ("code", "title", "role", "member", "filename", "bytes", "sha256", "status")


@dataclass(frozen=True)
class BundleFile:
    """One stored file of one entry, as it goes into the zip and its index."""

    code: str
    title: str
    role: str
    """``image`` or ``material``."""
    number: int
    """1-based place among the entry's files of that role, as the entry page lists them."""
    filename: str
    """The original name, as stored at import."""
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Bundle:
    """What a materials zip holds: chosen entries in code order and their files."""

    campaign_slug: str
    codes: tuple[str, ...]
    files: tuple[BundleFile, ...]

    @property
    def total_bytes(self) -> int:
        """The files' stored sizes: about the zip's size, as nothing is compressed."""
        return sum(f.size_bytes for f in self.files)


@dataclass(frozen=True)
class BundleLine:
    """One line of the index: where a file went, or why it is not in the zip."""

    file: BundleFile
    member: str
    status: str
    """``included``, ``missing`` (not in the store) or ``changed`` (bytes differ from the
    hash they were stored under: included as found, flagged for the organiser)."""


@dataclass(frozen=True)
class BundleReport:
    """What was written: the index lines and the index's own member name."""

    lines: tuple[BundleLine, ...]
    index_member: str

    @property
    def included(self) -> int:
        return sum(line.status != "missing" for line in self.lines)

    @property
    def missing(self) -> tuple[BundleLine, ...]:
        return tuple(line for line in self.lines if line.status == "missing")


def safe_part(name: str, fallback: str = "_") -> str:
    """One folder or file name part that unpacks safely on Windows, macOS and Linux.

    Only the last path part is kept (``../../x.pdf`` becomes ``x.pdf``); control and format
    characters and ``<>:"/\\|?*`` become ``_``; leading and trailing dots and spaces go
    (Windows drops trailing ones, a leading dot hides the file); a Windows device name gets
    a ``_`` in front; a name longer than ``MAX_PART_BYTES`` is cut, keeping its extension.
    """
    clean = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(
        "_" if c in _FORBIDDEN or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
        for c in clean
    )
    clean = clean.strip(" .")
    if not clean:
        clean = fallback
    if clean.split(".", 1)[0].upper() in _RESERVED:
        clean = "_" + clean
    return _shortened(clean)


def _split(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return name, ""
    return stem, "." + extension


def _shortened(name: str, limit: int = MAX_PART_BYTES) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, extension = _split(name)
    room = limit - len(extension.encode("utf-8"))
    while stem and len(stem.encode("utf-8")) > room:
        stem = stem[:-1]
    return stem.rstrip(" .") + extension


class _Names:
    """Hands out member names, never the same one twice (compared as Windows does)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def unique(self, name: str) -> str:
        stem, extension = _split(name)
        candidate, copy = name, 1
        while candidate.casefold() in self.taken:
            copy += 1
            candidate = f"{stem} ({copy}){extension}"
        self.taken.add(candidate.casefold())
        return candidate


def member_names(bundle: Bundle, text: Text) -> dict[tuple[str, str, int], str]:
    """(code, role, number) -> path in the zip: ``CODE/图片-01-原名.jpg``, ``CODE/材料-01-...``.

    Folders are unique too: codes ``A/1`` and ``A_1`` would both become ``A_1``.
    """
    folders, names = _Names(), _Names()
    folder_of: dict[str, str] = {}
    for code in bundle.codes:
        folder_of[code] = folders.unique(safe_part(code, "entry"))
    members = {}
    for file in bundle.files:
        prefix = text(f"materials.member_{file.role}", number=f"{file.number:02d}")
        base = _shortened(f"{prefix}-{safe_part(file.filename, 'file')}")
        members[(file.code, file.role, file.number)] = names.unique(
            f"{folder_of[file.code]}/{base}"
        )
    return members


def _zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


def _copy_member(
    archive: zipfile.ZipFile, source: Path, member: str, size: int, when: datetime
) -> str:
    """Copy one stored file into the zip in chunks; its SHA-256 as read."""
    info = zipfile.ZipInfo(member, date_time=_zip_time(when))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.file_size = size  # lets zipfile choose ZIP64 for a member over 4 GB up front
    digest = hashlib.sha256()
    with source.open("rb") as handle, archive.open(info, "w", force_zip64=size > 2**31) as out:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def write_bundle(
    bundle: Bundle,
    path_of: Callable[[str], Path],
    target: BinaryIO,
    text: Text,
    when: datetime,
) -> BundleReport:
    """Write the zip of ``bundle`` into ``target`` (need not be seekable); what went in.

    ``path_of`` maps a SHA-256 to its stored file (``AssetStore.path``); ``when`` is the
    members' time, in the time zone the reader expects (zip times carry none).
    """
    members = member_names(bundle, text)
    lines: list[BundleLine] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for file in bundle.files:
            member = members[(file.code, file.role, file.number)]
            source = path_of(file.sha256)
            if not source.is_file():
                lines.append(BundleLine(file, member, "missing"))
                continue
            read = _copy_member(zf, source, member, source.stat().st_size, when)
            lines.append(BundleLine(file, member, "included" if read == file.sha256 else "changed"))
        index_member = _index_name(members.values(), text)
        info = zipfile.ZipInfo(index_member, date_time=_zip_time(when))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        zf.writestr(info, index_csv(lines, text))
    return BundleReport(tuple(lines), index_member)


def _index_name(members: Iterable[str], text: Text) -> str:
    """The index sits at the top; an entry folder cannot take its name (folders hold '/')."""
    name = text("materials.index_name")
    taken = {m.casefold() for m in members}
    return name if name.casefold() not in taken else f"_{name}"


def index_csv(lines: Iterable[BundleLine], text: Text) -> bytes:
    """The index as CSV: one row per file, in zip order, text cells never run as formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([text(f"materials.index_{column}") for column in INDEX_COLUMNS])
    for line in lines:
        file = line.file
        writer.writerow(
            [
                csv_text(file.code),
                csv_text(file.title),
                text(f"materials.role_{file.role}"),
                csv_text(line.member) if line.status != "missing" else "",
                csv_text(file.filename),
                file.size_bytes,
                file.sha256,
                text(f"materials.status_{line.status}"),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
