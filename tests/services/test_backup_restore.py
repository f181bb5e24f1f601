"""`reviewdesk backup` and `reviewdesk restore`: the outcome survives losing the server.

A backup taken while reviewers save must restore, into a fresh data folder, to exactly the
state of one moment during the backup, with every stored file the database names. Every
refusal must leave the target as it was. The archive must never carry the cookie key or a
raw ``-wal``/``-shm`` file.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import sys
import threading
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session, select

from scoring import context
from scoring.assets import AssetStore
from scoring.cli import main as cli_main
from scoring.services.campaigns import get_campaign
from scoring.services.sheets import save_own_sheet
from scoring.settings import get_settings
from scoring.storage.models import Account, Assignment, Component, Criterion, Entry
from tests.factories import actor_of, make_account

# Rows a sheet save changes; every other table must come back exactly as the source has it.
WRITTEN_TABLES = {"score_sheet", "score", "audit_log"}
# The audit columns fixed at insert (sealing may fill chain columns in later).
AUDIT_CONTENT = "id, at, actor, campaign_id, action, target, old_value, new_value"


# --- helpers ------------------------------------------------------------------------------


def use_data_dir(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point the settings every command reads at another data folder."""
    monkeypatch.setenv("REVIEWDESK_DATA_DIR", str(folder))
    get_settings.cache_clear()


def tables(database: Path) -> dict[str, list[tuple]]:
    """Every table of a SQLite file, row by row (audit rows by their content columns)."""
    connection = sqlite3.connect(database.as_uri() + "?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        columns = {name: "*" for name in names} | {"audit_log": AUDIT_CONTENT}
        return {
            name: connection.execute(f'SELECT {columns[name]} FROM "{name}" ORDER BY 1').fetchall()
            for name in names
        }
    finally:
        connection.close()


def stored_files(folder: Path) -> dict[str, str]:
    """Every stored file under the data folder by its path, with the SHA-256 of its bytes."""
    root = folder / "files"
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def everything(folder: Path) -> dict[str, str]:
    """Every file under a folder with its SHA-256, or {} when the folder does not exist.

    ``-shm`` is SQLite's shared-memory index, rewritten by mere readers; it holds no data.
    """
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith("-shm")
    }


def rewrite(
    source: Path,
    target: Path,
    change: Callable[[str, bytes], bytes] = lambda name, data: data,
    extra: dict[str, bytes] | None = None,
    listed: bool = True,
) -> None:
    """A copy of an archive with members changed or added; `listed` adds them to the manifest."""
    extra = extra or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        manifest = json.loads(old.read("manifest.json"))
        for name in old.namelist():
            if name != "manifest.json":
                new.writestr(name, change(name, old.read(name)))
        for name, data in extra.items():
            new.writestr(name, data)
            if listed:
                sha = hashlib.sha256(data).hexdigest()
                manifest["members"][name] = {"sha256": sha, "size": len(data)}
        new.writestr("manifest.json", json.dumps(manifest))


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (seed % 256, 80, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo campaigns and a backup of them, built once (the demo takes seconds)."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEWDESK_DATA_DIR", str(folder / "data"))
        patch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
        patch.setattr(sys, "stdout", io.StringIO())
        get_settings.cache_clear()
        try:
            assert cli_main(["init-demo"]) == 0
            assert cli_main(["backup", "--out", str(folder / "backup.zip")]) == 0
            context.database().dispose()
        finally:
            get_settings.cache_clear()
    return folder / "data", folder / "backup.zip"


@pytest.fixture
def demo(cli, tmp_path: Path, demo_once: tuple[Path, Path]) -> Path:
    """A copy of the demo data folder as the `cli` data folder, with the server stopped."""
    shutil.copytree(demo_once[0], tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def archive(cli, tmp_path: Path, demo_once: tuple[Path, Path]) -> Path:
    """A backup of the demo (of the same state as `demo`)."""
    return Path(shutil.copy(demo_once[1], tmp_path / "backup.zip"))


# --- the round trip -----------------------------------------------------------------------


class Reviewers:
    """Reviewers saving their own sheets in threads, each save recorded as it committed.

    Each save captures, inside its own transaction, its sheet's row, its score rows and the
    id of the audit event it appended. SQLite commits one writer at a time, so audit ids
    follow commit order and tell which saves a snapshot holds.
    """

    def __init__(self, usernames: tuple[str, ...], per_reviewer: int = 2) -> None:
        self.database = context.database()
        self.lock = threading.Lock()
        self.saves: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.started = threading.Barrier(len(usernames) + 1)
        with self.database.read() as session:
            campaign = get_campaign(session, "qd-2020")
            self.work = [self._plan(session, campaign.id, u, per_reviewer) for u in usernames]
        self.threads = [
            threading.Thread(target=self._run, args=(w,), daemon=True) for w in self.work
        ]

    @staticmethod
    def _plan(session: Session, campaign_id: int, username: str, count: int) -> dict[str, Any]:
        account = session.exec(select(Account).where(Account.username == username)).one()
        entries = session.exec(
            select(Entry.id)
            .join(Assignment, Assignment.entry_id == Entry.id)
            .where(Assignment.reviewer_id == account.id, Entry.campaign_id == campaign_id)
            .order_by(Entry.id)
        ).all()
        criterion = session.exec(
            select(Criterion)
            .join(Component, Component.id == Criterion.component_id)
            .where(Component.campaign_id == campaign_id, Component.key == account.role)
        ).first()
        return {
            "actor": actor_of(account),
            "entries": list(entries[:count]),
            "criterion": criterion.key,
            "maximum": int(criterion.max_points),
        }

    def _save(self, work: dict[str, Any], entry_id: int, n: int) -> None:
        def save(session: Session) -> dict[str, Any]:
            sheet = save_own_sheet(
                session,
                work["actor"],
                entry_id=entry_id,
                points={work["criterion"]: n % work["maximum"]},
                comment=f"save {n}",
                submit=False,
                expected_version=None,
            )
            session.flush()
            raw = session.connection().exec_driver_sql
            return {
                "sheet_id": sheet.id,
                "sheet": tuple(raw("SELECT * FROM score_sheet WHERE id = ?", (sheet.id,)).one()),
                "scores": [
                    tuple(r)
                    for r in raw("SELECT * FROM score WHERE sheet_id = ? ORDER BY 1", (sheet.id,))
                ],
                "audit_id": raw("SELECT max(id) FROM audit_log").scalar(),
            }

        saved = self.database.write(save)
        with self.lock:
            self.saves.append(saved)

    def _run(self, work: dict[str, Any]) -> None:
        try:
            n = 1
            for entry_id in work["entries"]:
                self._save(work, entry_id, n)
            self.started.wait()
            while not self.stop.is_set():
                n += 1
                for entry_id in work["entries"]:
                    self._save(work, entry_id, n)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.errors.append(error)
            self.started.abort()

    def acknowledged(self) -> int:
        """The audit id of the newest save whose write has returned."""
        with self.lock:
            return max(s["audit_id"] for s in self.saves)

    def __enter__(self) -> Reviewers:
        for thread in self.threads:
            thread.start()
        try:
            self.started.wait(timeout=60)  # every reviewer has saved each sheet at least once
        except threading.BrokenBarrierError:
            self.__exit__()
            raise AssertionError(f"a reviewer could not save: {self.errors!r}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def expected_at(final: dict[str, list[tuple]], saves: list[dict], last_audit: int) -> dict:
    """The source database as it was right after the save that appended `last_audit`.

    Only the reviewers' saves ran meanwhile, so it is the final state with each of their
    sheets as its newest save up to that moment left it, and the audit log up to that event.
    """
    newest: dict[int, dict] = {}
    for save in sorted(saves, key=lambda s: s["audit_id"]):
        if save["audit_id"] <= last_audit:
            newest[save["sheet_id"]] = save
    expected = dict(final)
    expected["score_sheet"] = sorted(
        [row for row in final["score_sheet"] if row[0] not in newest]
        + [save["sheet"] for save in newest.values()]
    )
    expected["score"] = sorted(
        [row for row in final["score"] if row[1] not in newest]
        + [row for save in newest.values() for row in save["scores"]]
    )
    expected["audit_log"] = [row for row in final["audit_log"] if row[0] <= last_audit]
    return expected


def test_a_backup_taken_while_reviewers_save_restores_to_one_moment_of_it(
    cli, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    source = demo / "reviewdesk.db"
    before_saves = tables(source)
    with Reviewers(("expert4", "expert5", "media1")) as reviewers:
        acknowledged_before = reviewers.acknowledged()
        code, out, err = cli("backup", "--out", str(tmp_path / "backup.zip"))
        acknowledged_after = reviewers.acknowledged()
    assert reviewers.errors == []
    assert code == 0, err
    final = tables(source)
    changed = {name for name in final if final[name] != before_saves[name]}
    assert changed == WRITTEN_TABLES, "a save now changes other tables: teach this test"
    assert acknowledged_after > acknowledged_before, "no save ran during the backup"

    fresh = tmp_path / "fresh"
    use_data_dir(monkeypatch, fresh)
    code, out, err = cli("restore", str(tmp_path / "backup.zip"))
    assert code == 0, err
    assert "260 stored files" in out

    restored = tables(fresh / "reviewdesk.db")
    last_audit = max(row[0] for row in restored["audit_log"])
    # Every save acknowledged before the backup began is in it.
    assert last_audit >= acknowledged_before
    # And the saves after that moment are not: it is a snapshot, not a blend of two times.
    assert last_audit < acknowledged_after
    # And the whole database is the source at that one moment: no table, row or sheet torn.
    assert restored == expected_at(final, reviewers.saves, last_audit)
    assert stored_files(fresh) == stored_files(demo)

    # The restored app finds every file the database names, with the bytes it names.
    store = context.asset_store()
    with context.database().read() as session:
        named = session.exec(select(Entry.id)).all()
        hashes = session.connection().exec_driver_sql("SELECT sha256 FROM entry_asset").all()
    assert len(named) > 0 and len(hashes) == 260
    for (sha,) in hashes:
        assert hashlib.sha256(store.read(sha)).hexdigest() == sha
    code, out, _ = cli("standings", "qd-2020", "--format", "csv")
    assert code == 0 and out.count("\n") > 10


def test_restore_with_force_replaces_a_database_that_holds_data(
    cli, archive: Path, demo: Path, monkeypatch: pytest.MonkeyPatch
):
    at_backup = tables(demo / "reviewdesk.db")
    context.database().write(lambda s: make_account(s, "late-arrival", "expert"))
    context.database().dispose()
    code, _, err = cli("restore", str(archive), "--force")
    assert code == 0, err
    assert tables(demo / "reviewdesk.db") == at_backup  # the account made later is gone
    assert not (demo / "reviewdesk.db-wal").exists()


# --- refusals: a one-line reason and nothing changed --------------------------------------


def refused(cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 1 and out == ""
    assert err.startswith("reviewdesk: ") and err.count("\n") == 1
    return err


def test_restore_refuses_a_non_empty_database_without_force(cli, archive: Path, demo: Path):
    context.database().write(lambda s: make_account(s, "late-arrival", "expert"))
    context.database().dispose()
    before = everything(demo)
    err = refused(cli, "restore", str(archive))
    assert "already holds data" in err and "--force" in err
    assert everything(demo) == before


def test_restore_refuses_while_the_server_has_the_database_open(cli, archive: Path, demo: Path):
    with context.database().read() as session:  # an app server holding its connection
        session.exec(select(Account)).all()
    before = tables(demo / "reviewdesk.db")
    err = refused(cli, "restore", str(archive), "--force")
    assert "in use" in err
    assert tables(demo / "reviewdesk.db") == before
    context.database().dispose()


def not_a_zip(tmp_path: Path, archive: Path) -> Path:
    path = tmp_path / "notes.zip"
    path.write_text("meeting notes, not a backup", "utf-8")
    return path


def cut_short(tmp_path: Path, archive: Path) -> Path:
    path = tmp_path / "cut.zip"
    path.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return path


def zip_of_photos(tmp_path: Path, archive: Path) -> Path:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("photo.png", png(1))
    return path


def other_manifest(tmp_path: Path, archive: Path) -> Path:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", json.dumps({"name": "some other tool", "members": {}}))
    return path


def tampered_file(tmp_path: Path, archive: Path) -> Path:
    path = tmp_path / "tampered.zip"
    first = sorted(n for n in zipfile.ZipFile(archive).namelist() if n.startswith("files/"))[0]
    rewrite(archive, path, lambda n, d: d[:-1] + bytes([d[-1] ^ 1]) if n == first else d)
    return path


def tampered_database(tmp_path: Path, archive: Path) -> Path:
    path = tmp_path / "tampered-db.zip"
    rewrite(
        archive, path, lambda n, d: d.replace(b"expert1", b"expertX") if n.endswith(".db") else d
    )
    return path


def added_member(tmp_path: Path, archive: Path) -> Path:
    path = tmp_path / "added.zip"
    sha = hashlib.sha256(png(2)).hexdigest()
    rewrite(archive, path, extra={f"files/{sha[:2]}/{sha}": png(2)}, listed=False)
    return path


def traversal(name: str) -> Callable[[Path, Path], Path]:
    def make(tmp_path: Path, archive: Path) -> Path:
        path = tmp_path / "traversal.zip"
        rewrite(archive, path, extra={name: b"#!/bin/sh\necho owned\n"})
        return path

    make.__name__ = f"member {name}"
    return make


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (not_a_zip, "is not a ReviewDesk backup: it is not a zip file"),
        (cut_short, "is not a ReviewDesk backup: it is not a zip file, or it is cut short"),
        (zip_of_photos, "is not a ReviewDesk backup: it holds no manifest.json"),
        (other_manifest, "is not a ReviewDesk backup: its manifest.json"),
        (tampered_file, "does not match the checksum in its manifest"),
        (tampered_database, "“reviewdesk.db” does not match the checksum"),
        (added_member, "is in the archive but not in its manifest"),
        (traversal("../escaped.sh"), "“../escaped.sh” has an absolute path or a “..” part"),
        (traversal("files/../../escaped.sh"), "“files/../../escaped.sh” has an absolute path"),
        (traversal("/tmp/escaped.sh"), "“/tmp/escaped.sh” has an absolute path"),
        (traversal("..\\escaped.sh"), "has an absolute path or a “..” part"),
        (traversal(".cookie_key"), "“.cookie_key” is not a file a ReviewDesk backup holds"),
    ],
    ids=lambda v: getattr(v, "__name__", None) or None,
)
def test_restore_refuses_an_archive_it_cannot_trust_and_changes_nothing(
    cli, archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make, reason: str
):
    bad = make(tmp_path, archive)
    fresh = tmp_path / "fresh"
    use_data_dir(monkeypatch, fresh)
    assert reason in refused(cli, "restore", str(bad))
    assert not fresh.exists()
    assert not (tmp_path / "escaped.sh").exists() and not Path("/tmp/escaped.sh").exists()


def test_a_refused_archive_leaves_a_forced_target_as_it_was(cli, archive: Path, demo: Path):
    """Even with --force, a damaged archive is refused before the old database is touched."""
    bad = tampered_file(demo.parent, archive)
    before = everything(demo)
    assert "does not match the checksum" in refused(cli, "restore", str(bad), "--force")
    assert everything(demo) == before


# --- what the archive holds ---------------------------------------------------------------


def test_the_archive_holds_no_cookie_key_and_no_raw_wal_files(
    cli, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("REVIEWDESK_COOKIE_KEY", raising=False)
    get_settings.cache_clear()
    key = get_settings().ensure_cookie_key()
    database = context.database()
    with database.read() as session:  # the app is running: its WAL files are there
        session.exec(select(Account)).all()
        assert (demo / "reviewdesk.db-wal").exists() and (demo / "reviewdesk.db-shm").exists()
        (demo / "files" / "ab").mkdir(exist_ok=True)
        (demo / "files" / "ab" / ".tmp-upload.jpg").write_bytes(b"half an upload")
        code, _, err = cli("backup", "--out", str(tmp_path / "backup.zip"))
    assert code == 0, err
    with zipfile.ZipFile(tmp_path / "backup.zip") as z:
        names = z.namelist()
        contents = {name: z.read(name) for name in names}
    assert (demo / ".cookie_key").exists()
    assert not [n for n in names if "cookie" in n or n.endswith(("-wal", "-shm", "-journal"))]
    assert not [n for n, data in contents.items() if key.encode() in data]
    assert not [n for n in names if ".tmp-" in n]
    # The database copy is complete by itself: a rollback-journal file, not a WAL one.
    assert contents["reviewdesk.db"][18:20] == b"\x01\x01"

    manifest = json.loads(contents.pop("manifest.json"))
    assert manifest["format"] == "reviewdesk-backup" and manifest["format_version"] == 1
    assert manifest["database"] == "sqlite"
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    assert manifest["members"] == {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in contents.items()
    }
    assert len(manifest["members"]) == 1 + 260


# --- PostgreSQL: the files here, the database through pg_dump / pg_restore -----------------


def test_on_postgresql_backup_and_restore_carry_the_files_and_name_the_pg_commands(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Neither command connects to PostgreSQL, so no server is needed to check this.
    monkeypatch.setenv("REVIEWDESK_DATABASE_URL", "postgresql+psycopg://rd:pw@db-host:5433/awards")
    get_settings.cache_clear()
    source = tmp_path / "data"
    hashes = [AssetStore(source).put(png(seed)) for seed in range(5)]
    code, out, err = cli("backup", "--out", str(tmp_path / "backup.zip"))
    assert code == 0, err
    assert "pg_dump --format=custom --file=awards.dump --host=db-host --port=5433" in out
    assert "pw" not in out
    assert "reviewdesk.db" not in zipfile.ZipFile(tmp_path / "backup.zip").namelist()

    use_data_dir(monkeypatch, tmp_path / "fresh")
    code, out, err = cli("restore", str(tmp_path / "backup.zip"))
    assert code == 0, err
    assert "pg_restore --clean --if-exists --no-owner --host=db-host --port=5433" in out
    assert "--dbname=awards awards.dump" in out
    store = context.asset_store()
    assert all(store.read(sha) == png(seed) for seed, sha in enumerate(hashes))

    # A PostgreSQL backup does not become an empty SQLite database by mistake.
    monkeypatch.delenv("REVIEWDESK_DATABASE_URL")
    use_data_dir(monkeypatch, tmp_path / "other")
    err = refused(cli, "restore", str(tmp_path / "backup.zip"))
    assert "a backup of a PostgreSQL database, but the configured database is SQLite" in err
    assert not (tmp_path / "other").exists()
