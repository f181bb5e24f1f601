"""Entry files: content sniffing, content-hash storage, thumbnails and safe asset sources.

Uploaded files are judged by what they contain, never by their name: a text file called
``photo.png`` is refused with a reason naming what it really is, so an organiser can fix the
upload instead of finding a broken image in the gallery later. Accepted files are stored once
under their SHA-256 (``files/ab/abcd...``), so re-importing the same workbook costs nothing and
two entries sharing a logo share one file. Folders and zips handed to ``import-entries`` are
read through :func:`open_asset_source`, which refuses path tricks and zip bombs before any
member is expanded.

No streamlit and no database here: callers store the returned hash on their own rows.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from pathlib import Path
from types import TracebackType

from PIL import ExifTags, Image, ImageOps

from scoring.errors import AssetError

MB = 1024 * 1024

MAX_IMAGE_BYTES = 20 * MB
"""SPEC §5.2: an image is at most 20 MB."""
MAX_MATERIAL_BYTES = 50 * MB
"""SPEC §5.2: a material file is at most 50 MB; also the most any single read may return."""
MAX_IMAGE_PIXELS = 16_000_000
"""PNG and WebP are decoded whole, and shrinking RGBA makes one premultiplied copy: 16 MP x 4
bytes x 2 is 128 MB, so checking and thumbnailing one image stays under 200 MB (measured:
127 MB for a 16-MP RGBA PNG; a 40-MP one peaked at 312 MB). 16 MP is a 4000x4000 poster;
a 1-KB PNG claiming 50000x50000 is refused from its header, before any pixel is decoded."""
MAX_JPEG_PIXELS = 120_000_000
"""JPEG is decoded at 1/8 scale (``Image.draft``) for the check and the thumbnail, so even a
108-megapixel phone photo costs about 5 MB; the limit only stops absurd headers."""
DRAFT_SCALE = 8
"""libjpeg decodes at 1/1, 1/2, 1/4 or 1/8 scale; the check reads every byte at 1/8."""

# Pillow's own bomb guard is a backstop for any path that opens an image without our header
# check: it warns above this and refuses above twice this. Set once, deliberately, for the
# whole process, to the largest image any of our limits lets through.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS

MAX_ZIP_MEMBERS = 5000
"""Room for ~800 entries with 4 images and 2 materials each; more is not an asset upload."""
MAX_ZIP_TOTAL_BYTES = 2 * 1024 * MB
"""What a whole zip may expand to, by its declared sizes and by what is actually read."""
MAX_ZIP_RATIO = 100
"""Photos, PDFs and office files hardly compress; 100:1 on a large member is a zip bomb."""
ZIP_RATIO_MIN_BYTES = 1 * MB
"""Small members (XML, text) may compress far better than 100:1 without harm."""
MAX_NAME_BYTES = 255
"""The longest file name common file systems accept (UTF-8 bytes)."""

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

IMAGE_TYPES: frozenset[str] = frozenset({JPEG, PNG, WEBP})
MATERIAL_TYPES: frozenset[str] = IMAGE_TYPES | {PDF, DOCX, XLSX}

_LABELS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP", PDF: "PDF", DOCX: "DOCX", XLSX: "XLSX"}
_PIL_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}

# Formats that are refused but worth naming, so the message says what the file really is.
_OTHER_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "DOC/XLS (Office 97-2003)"),
    (b"Rar!", 0, "RAR"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7z"),
    (b"\x1f\x8b", 0, "gzip"),
    (b"PK\x03\x04", 0, "ZIP"),
    (b"PK\x05\x06", 0, "ZIP"),
)

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_UNDECODABLE = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


# --- names -------------------------------------------------------------------------------


def _shown(name: str) -> str:
    """A name safe to put in a message: control characters become '?'."""
    return "".join("?" if unicodedata.category(c) == "Cc" else c for c in name)


def check_file_name(name: str) -> str:
    """The plain file name, or AssetError when it carries a folder part.

    Workbooks name their files; a name such as ``../../etc/passwd`` or ``C:\\x.jpg`` must never
    reach a path join. Surrounding spaces are dropped (they come from ``a.jpg; b.jpg`` cells)
    and the name is NFC-normalised so that names typed on Windows match names zipped on a Mac.
    """
    clean = unicodedata.normalize("NFC", name.strip())
    if not clean:
        raise AssetError("asset.empty_name")
    unsafe = (
        "/" in clean
        or "\\" in clean
        or ":" in clean
        or clean.startswith("..")
        or clean == "."
        or _DRIVE_RE.match(clean) is not None
        or any(unicodedata.category(c) == "Cc" for c in clean)
    )
    if unsafe:
        raise AssetError("asset.unsafe_name", name=_shown(clean))
    if len(clean.encode("utf-8")) > MAX_NAME_BYTES:
        raise AssetError("asset.name_too_long", name=clean[:40] + "…", limit=MAX_NAME_BYTES)
    return clean


# --- content -----------------------------------------------------------------------------


def _zip_names(data: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def sniff_type(data: bytes) -> str | None:
    """The MIME type of an accepted kind of file judged by its bytes, or None.

    DOCX and XLSX are zips; they are told apart by the parts an Office file must contain,
    which only reads the zip's directory, never a member.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        names = _zip_names(data)
        if names and "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
    return None


def _looks_like_text(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return False
    return all(b >= 0x20 or b in b"\t\n\r\f\x1b" for b in sample)


def _refuse_type(name: str, data: bytes, key: str) -> AssetError:
    """The refusal for a file of the wrong kind, saying what it really looks like."""
    mime = sniff_type(data)
    if mime is not None:
        return AssetError(key, name=name, found=_LABELS[mime])
    for magic, offset, label in _OTHER_MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return AssetError(key, name=name, found=label)
    if _looks_like_text(data):
        return AssetError(f"{key}_text", name=name)
    return AssetError(f"{key}_unknown", name=name)


def _mb(size: int) -> str:
    return f"{size / MB:.1f}"


def _check_size(name: str, data: bytes, limit: int, key: str) -> None:
    if not data:
        raise AssetError("asset.empty", name=name)
    if len(data) > limit:
        raise AssetError(key, name=name, size=_mb(len(data)), limit=f"{limit / MB:g}")


def pixel_limit(mime: str) -> int:
    """How many pixels an image of this type may have: see MAX_IMAGE_PIXELS and MAX_JPEG_PIXELS."""
    return MAX_JPEG_PIXELS if mime == JPEG else MAX_IMAGE_PIXELS


def _check_pixels(name: str, im: Image.Image, mime: str) -> None:
    """Refuse from the header alone, before a single pixel is decoded."""
    width, height = im.size
    limit = pixel_limit(mime)
    if width * height > limit:
        raise AssetError(
            "asset.too_many_pixels",
            name=name,
            width=width,
            height=height,
            limit=limit // 1_000_000,
        )


def _decode_image(name: str, data: bytes, mime: str) -> None:
    """Decode every byte: a truncated upload must fail here, not in the gallery.

    JPEG is decoded at reduced scale (``draft``): libjpeg still reads the whole scan, so a cut
    file fails as before, at 1/64 of the memory.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as im:
                _check_pixels(name, im, mime)
                if mime == JPEG:
                    width, height = im.size
                    im.draft(im.mode, (width // DRAFT_SCALE, height // DRAFT_SCALE))
                im.load()
    except _UNDECODABLE as exc:
        raise AssetError("asset.unreadable", name=name, found=_LABELS[mime]) from exc


def validate_image(name: str, data: bytes) -> str:
    """The MIME type of an acceptable entry image, or AssetError saying why not.

    JPEG, PNG or WebP by content, at most MAX_IMAGE_BYTES, and fully decodable: this is the
    pre-check's "unreadable file" flag. (Relies on Pillow's default
    ``ImageFile.LOAD_TRUNCATED_IMAGES = False``.)
    """
    name, mime = _image_type(name, data)
    _decode_image(name, data, mime)
    return mime


def _image_type(name: str, data: bytes) -> tuple[str, str]:
    """The clean name and MIME type of an entry image before decoding, or AssetError."""
    name = check_file_name(name)
    _check_size(name, data, MAX_IMAGE_BYTES, "asset.image_too_large")
    mime = sniff_type(data)
    if mime not in IMAGE_TYPES:
        raise _refuse_type(name, data, "asset.not_an_image")
    return name, mime


def validate_material(name: str, data: bytes) -> str:
    """The MIME type of an acceptable material file, or AssetError saying why not.

    PDF, DOCX, XLSX or an image, by content, at most MAX_MATERIAL_BYTES. Images are decoded
    like entry images; a PDF must end with ``%%EOF`` (the mark a cut-off upload lacks); a zip
    whose directory cannot be read is damaged rather than of the wrong kind.
    """
    name = check_file_name(name)
    _check_size(name, data, MAX_MATERIAL_BYTES, "asset.material_too_large")
    mime = sniff_type(data)
    if mime in IMAGE_TYPES:
        _decode_image(name, data, mime)
    elif mime == PDF:
        if b"%%EOF" not in data[-1024:]:
            raise AssetError("asset.unreadable", name=name, found="PDF")
    elif mime is None:
        if data.startswith(b"PK\x03\x04") and _zip_names(data) is None:
            raise AssetError("asset.unreadable", name=name, found="ZIP")
        raise _refuse_type(name, data, "asset.not_a_material")
    return mime


# --- the store ---------------------------------------------------------------------------


def _write_atomic(target: Path, data: bytes, *, durable: bool = True) -> None:
    """Write via a temp file in the same folder and os.replace, so readers never see half.

    ``durable`` syncs the bytes to disk before the rename: a stored file must survive a
    crash once a row names it. A thumbnail is a cache rebuilt on demand, so it skips the
    sync (an fsync costs as much as a tenth of making the thumbnail); after a power cut it
    may be left empty, which :meth:`AssetStore.thumbnail` treats as missing.
    """
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AssetStore:
    """Files kept by content hash under ``root/files``, thumbnails under ``root/thumbs``.

    Content addressing makes ``put`` idempotent and safe to repeat after a failed import;
    a stored file is never modified, so its hash is also its integrity check.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def _checked(sha: str) -> str:
        """A hash that cannot name anything outside the store (no '..', no '/')."""
        if not isinstance(sha, str) or _SHA_RE.fullmatch(sha) is None:
            raise AssetError("asset.bad_hash", sha=_shown(str(sha))[:80])
        return sha

    def path(self, sha: str) -> Path:
        """Where the file with this SHA-256 (64 lowercase hex digits) is or would be kept."""
        sha = self._checked(sha)
        return self.root / "files" / sha[:2] / sha

    def put(self, data: bytes) -> str:
        """Store the bytes once and return their SHA-256 hex digest."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if not (target.is_file() and target.stat().st_size == len(data)):
            _write_atomic(target, data)
        return sha

    def exists(self, sha: str) -> bool:
        """Whether the file with this hash is stored."""
        return self.path(sha).is_file()

    def read(self, sha: str) -> bytes:
        """The stored bytes, or AssetError("asset.not_stored")."""
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError:
            raise AssetError("asset.not_stored", sha=sha) from None

    def _thumbnail_path(self, sha: str, width: int, height: int) -> Path:
        sha = self._checked(sha)
        if not (0 < width <= 4096 and 0 < height <= 4096):
            raise AssetError("asset.bad_thumbnail_size", width=width, height=height)
        return self.root / "thumbs" / sha[:2] / f"{sha}-{width}x{height}.jpg"

    def thumbnail(self, sha: str, width: int = 480, height: int = 320) -> Path:
        """A JPEG of the stored image fitted inside width x height, built once and cached.

        The gallery shows many of these per page; re-encoding a 20 MB photo on each run would
        make it crawl. Two processes building the same thumbnail both write their own temp
        file and the last os.replace wins, so a reader never sees a half-written JPEG.
        """
        target = self._thumbnail_path(sha, width, height)
        if target.is_file() and target.stat().st_size > 0:
            return target
        source = self.path(sha)
        if not source.is_file():
            raise AssetError("asset.not_stored", sha=sha)
        try:
            with Image.open(source, formats=list(_PIL_FORMATS.values())) as im:
                mime = {v: k for k, v in _PIL_FORMATS.items()}.get(im.format or "", PNG)
                _check_pixels(sha[:12], im, mime)  # stored before the limits: still bounded
                jpeg = _thumbnail_jpeg(im, width, height)
        except _UNDECODABLE as exc:
            raise AssetError("asset.no_thumbnail", sha=sha) from exc
        _write_atomic(target, jpeg, durable=False)
        return target

    def put_image(
        self, name: str, data: bytes, width: int = 480, height: int = 320
    ) -> tuple[str, str]:
        """Check an entry image as :func:`validate_image` does, store it and its thumbnail.

        Returns ``(sha256, mime)``. The image is decoded once for both: the decode that
        makes the thumbnail reads every byte of it, so it is also the check that the file is
        whole, and an import pays for one decode per image instead of two.
        """
        name, mime = _image_type(name, data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as im:
                    _check_pixels(name, im, mime)
                    jpeg = _thumbnail_jpeg(im, width, height)
        except _UNDECODABLE as exc:
            raise AssetError("asset.unreadable", name=name, found=_LABELS[mime]) from exc
        sha = self.put(data)
        target = self._thumbnail_path(sha, width, height)
        if not target.is_file():
            _write_atomic(target, jpeg, durable=False)
        return sha, mime


def _thumbnail_jpeg(im: Image.Image, width: int, height: int) -> bytes:
    """The JPEG bytes of an opened image fitted inside width x height, turned upright.

    Loads every pixel even when the image is already small enough, so a cut file fails here.
    """
    # Shrink first, then turn: exif_transpose copies the whole image, so on the full-size
    # picture it would double the cost. A 90-degree turn swaps the box.
    turned = im.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
    box = (height, width) if turned else (width, height)
    # draft (JPEG only) decodes at the smallest scale still covering the box; thumbnail's
    # reducing_gap then shrinks by whole factors before resampling.
    im.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=2.0)
    im.load()  # thumbnail does not decode an image that already fits
    picture = ImageOps.exif_transpose(im)
    if picture.mode in ("RGBA", "LA", "P"):
        picture = picture.convert("RGBA")
        flat = Image.new("RGB", picture.size, "white")
        flat.paste(picture, mask=picture.getchannel("A"))
        picture = flat
    elif picture.mode != "RGB":
        picture = picture.convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


# --- asset sources (a folder or a zip) -----------------------------------------------------


def _skipped(part: str) -> bool:
    """Hidden files, Mac resource forks and Thumbs.db are never assets."""
    return part.startswith(".") or part == "__MACOSX" or part.lower() == "thumbs.db"


class AssetSource:
    """Files looked up by plain file name in a folder or a zip; use as a context manager.

    Workbooks name files without folders, so a file is found by its base name wherever it
    sits. A name present twice is ambiguous and refused on read rather than guessed. When no
    file has exactly the name, a unique case-insensitive match is used: Windows users type
    ``IMG_01.JPG`` for ``img_01.jpg`` and their own machine never told them otherwise.
    """

    label: str

    def __init__(self) -> None:
        self._where: dict[str, list[object]] = {}

    def _add(self, base: str, location: object) -> None:
        self._where.setdefault(unicodedata.normalize("NFC", base), []).append(location)

    def names(self) -> list[str]:
        """The plain file names available, sorted."""
        return sorted(self._where)

    def __contains__(self, name: str) -> bool:
        try:
            self._locate(name)
        except AssetError:
            return False
        return True

    def _locate(self, name: str) -> tuple[str, object]:
        name = check_file_name(name)
        places = self._where.get(name)
        if places is None:
            folded = [k for k in self._where if k.casefold() == name.casefold()]
            if len(folded) == 1:
                name, places = folded[0], self._where[folded[0]]
        if places is None:
            raise AssetError("asset.missing", name=name, source=self.label)
        if len(places) > 1:
            raise AssetError("asset.ambiguous", name=name, count=len(places), source=self.label)
        return name, places[0]

    def read(self, name: str) -> bytes:
        """The bytes of the one file with this plain name (at most MAX_MATERIAL_BYTES)."""
        found, location = self._locate(name)
        return self._read(found, location)

    def _read(self, name: str, location: object) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release the open zip, if any."""

    def __enter__(self) -> AssetSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class FolderSource(AssetSource):
    """A folder and its subfolders; symbolic links are not followed out of it."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.label = root.name
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not _skipped(d))
            for file in sorted(files):
                path = Path(folder) / file
                if not _skipped(file) and not path.is_symlink() and path.is_file():
                    self._add(file, path)

    def _read(self, name: str, location: object) -> bytes:
        assert isinstance(location, Path)
        size = location.stat().st_size
        if size > MAX_MATERIAL_BYTES:
            raise AssetError(
                "asset.material_too_large",
                name=name,
                size=_mb(size),
                limit=f"{MAX_MATERIAL_BYTES / MB:g}",
            )
        with location.open("rb") as fh:
            return fh.read(MAX_MATERIAL_BYTES + 1)


# Characters a real file name is made of: ASCII, Latin letters with accents (and the combining
# marks a Mac writes them with), CJK ideographs and punctuation, full-width forms.
_PLAUSIBLE_NAME = re.compile(
    r"[\x20-\x7e\u00a0-\u017f\u0300-\u036f\u2010-\u206f\u3000-\u303f\u3400-\u9fff"
    r"\uf900-\ufaff\uff00-\uffef]*"
)


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's real name: zips made on Chinese Windows store GBK names unflagged.

    Without the UTF-8 flag the bytes may be UTF-8 (macOS, some tools) or GBK (Windows'
    built-in zip). Some GBK names are valid UTF-8 too (图片 reads as two Greek and Latin
    letters), so the first decoding that gives characters a file name plausibly holds wins.
    """
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    decoded = []
    for encoding in ("utf-8", "gb18030"):
        try:
            decoded.append(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    for name in decoded:
        if _PLAUSIBLE_NAME.fullmatch(name):
            return name
    return decoded[0] if decoded else info.filename


class ZipSource(AssetSource):
    """A zip, refused whole when any member could escape its folder or is a bomb.

    Every check here uses the zip's directory only; no member is expanded until it is read,
    and a read stops as soon as it returns more than the member declared or the limits allow.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.label = path.name
        self._expanded = 0
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise AssetError("asset.source_not_zip", source=path.name) from exc
        try:
            self._index()
        except BaseException:
            self._zip.close()
            raise

    def _index(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise AssetError(
                "asset.zip_too_many_members",
                source=self.label,
                count=len(infos),
                limit=MAX_ZIP_MEMBERS,
            )
        total = 0
        for info in infos:
            member = _member_name(info)
            parts = member.replace("\\", "/").split("/")
            if (
                member.startswith(("/", "\\"))
                or _DRIVE_RE.match(member)
                or ".." in parts
                or "\x00" in member
            ):
                raise AssetError(
                    "asset.zip_unsafe_member", source=self.label, member=_shown(member)
                )
            if info.is_dir():
                continue
            total += info.file_size
            if (
                info.file_size > ZIP_RATIO_MIN_BYTES
                and info.file_size > MAX_ZIP_RATIO * info.compress_size
            ):
                raise AssetError(
                    "asset.zip_bomb",
                    source=self.label,
                    member=member,
                    ratio=info.file_size // max(info.compress_size, 1),
                    limit=MAX_ZIP_RATIO,
                )
            if any(_skipped(part) for part in parts):
                continue
            self._add(parts[-1], info)
        if total > MAX_ZIP_TOTAL_BYTES:
            raise AssetError(
                "asset.zip_too_large",
                source=self.label,
                size=_mb(total),
                limit=_mb(MAX_ZIP_TOTAL_BYTES),
            )

    def _read(self, name: str, location: object) -> bytes:
        assert isinstance(location, zipfile.ZipInfo)
        info = location
        if info.flag_bits & 0x1:
            raise AssetError("asset.zip_encrypted", source=self.label, name=name)
        if info.file_size > MAX_MATERIAL_BYTES:
            raise AssetError(
                "asset.material_too_large",
                name=name,
                size=_mb(info.file_size),
                limit=f"{MAX_MATERIAL_BYTES / MB:g}",
            )
        cap = min(info.file_size, MAX_MATERIAL_BYTES)
        chunks: list[bytes] = []
        got = 0
        try:
            with self._zip.open(info) as fh:
                while chunk := fh.read(min(MB, cap + 1 - got)):
                    got += len(chunk)
                    self._expanded += len(chunk)
                    if got > cap or self._expanded > MAX_ZIP_TOTAL_BYTES:
                        raise AssetError("asset.zip_bomb_read", source=self.label, name=name)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
            raise AssetError("asset.zip_corrupt", source=self.label, name=name) from exc
        return b"".join(chunks)

    def close(self) -> None:
        self._zip.close()


def open_asset_source(path: Path) -> AssetSource:
    """A folder or a zip of entry files, refused up front when it is unsafe."""
    path = Path(path)
    if path.is_dir():
        return FolderSource(path)
    if not path.is_file():
        raise AssetError("asset.source_missing", source=path.name)
    return ZipSource(path)
