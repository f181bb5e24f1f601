"""The ``reviewdesk`` command line, end to end on real files and a real SQLite database."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

CAMPAIGN_TOML = """
slug = "city-2021"
name = "2021城市数字化案例"
year = 2021
categories = ["数字政府", "数字经济"]
domains = ["政务服务", "大数据"]
vote_group = "category"
rank_group = "category"
award_quota = 1

[[components]]
key = "votes"
kind = "votes"
weight = 60

[[components]]
key = "expert"
kind = "panel"
weight = 40
aggregate = "mean"
min_reviews = 2

[[criteria]]
panel = "expert"
key = "innovation"
name = "创新性"
max_points = 50

[[criteria]]
panel = "expert"
key = "impact"
name = "成效性"
max_points = 50
"""


def _write_csv(path: Path, rows: list[dict], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _image(path: Path, colour: str) -> None:
    Image.new("RGB", (64, 48), colour).save(path, "PNG")


@pytest.fixture
def files(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "campaign.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    _write_csv(
        folder / "users.csv",
        [
            {"用户名": "e1", "姓名": "专家一", "角色": "expert", "密码": ""},
            {"用户名": "e2", "姓名": "专家二", "角色": "专家", "密码": "long-enough-1"},
        ],
    )
    for code, colour in (("G-1", "red"), ("G-2", "blue"), ("E-1", "green")):
        _image(folder / f"{code}.png", colour)
    # Chinese headers, written by Chinese office software in GB18030
    _write_csv(
        folder / "entries.csv",
        [
            {
                "编号": "G-1",
                "名称": "一网通办",
                "申报主体": "甲局",
                "类别": "数字政府",
                "领域": "政务服务",
                "票数": "300",
                "图片": "G-1.png",
                "状态": "shortlisted",
            },
            {
                "编号": "G-2",
                "名称": "数据开放",
                "申报主体": "乙局",
                "类别": "数字政府",
                "领域": "大数据",
                "票数": "150",
                "图片": "G-2.png",
                "状态": "shortlisted",
            },
            {
                "编号": "E-1",
                "名称": "智能工厂",
                "申报主体": "丙公司",
                "类别": "数字经济",
                "领域": "大数据",
                "票数": "0",
                "图片": "E-1.png",
                "状态": "accepted",
            },
        ],
        encoding="gb18030",
    )
    _write_csv(
        folder / "scores.csv",
        [
            {"reviewer": r, "code": c, "criterion": k, "score": str(s)}
            for r, c, k, s in [
                ("e1", "G-1", "innovation", 40),
                ("e1", "G-1", "impact", 30),
                ("e2", "G-1", "创新性", 30),
                ("e2", "G-1", "成效性", 30),
                ("e1", "G-2", "innovation", 45),
                ("e1", "G-2", "impact", 45),
            ]
        ],
    )
    return folder


def _setup(cli, files) -> None:
    assert cli("campaign", "create", str(files / "campaign.toml"))[0] == 0
    code, out, _ = cli("import-users", str(files / "users.csv"))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.split("\n", 1)[1])))
    assert rows[0] == ["username", "role", "initial_password"]
    assert rows[1][:2] == ["e1", "expert"] and len(rows[1][2]) == 12  # generated, shown once
    assert rows[2] == ["e2", "expert", ""]  # the file gave a password: nothing to show
    assert (
        cli("import-entries", "city-2021", str(files / "entries.csv"), "--assets", str(files))[0]
        == 0
    )


def test_a_campaign_from_files_to_standings(cli, files):
    _setup(cli, files)
    assert cli("import-scores", "city-2021", str(files / "scores.csv"), "--submit")[0] == 0
    code, out, _ = cli("standings", "city-2021", "--format", "json")
    assert code == 0
    standings = {row["code"]: row for row in json.loads(out)}
    assert set(standings) == {"G-1", "G-2"}  # only shortlisted entries
    # G-1: expert totals 70 and 60 -> mean 65; votes 300 is the group's max -> 100
    assert standings["G-1"]["components"] == {"votes": 100.0, "expert": 65.0}
    assert standings["G-1"]["composite"] == pytest.approx(0.6 * 100 + 0.4 * 65, abs=1e-12)
    # G-2: one review of min 2 -> provisional; votes 150/300
    assert standings["G-2"]["provisional"] is True
    assert standings["G-2"]["composite"] == pytest.approx(0.6 * 50 + 0.4 * 90, abs=1e-12)
    assert [standings["G-1"]["rank"], standings["G-2"]["rank"]] == [1, 2]
    assert standings["G-1"]["award"] is True and standings["G-2"]["award"] is False


def _entry_count(cli) -> int:
    code, out, _ = cli("standings", "city-2021", "--format", "csv")
    assert code == 0
    return len(out.strip().splitlines()) - 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("unknown_category", 'category "数字文化" is not one of this campaign\'s'),
        ("duplicate_code", 'code "G-1" repeats row 2'),
        ("missing_column", 'column "applicant": required column is missing'),
        ("fake_png", "G-2.png is not a JPEG, PNG or WebP image"),
        ("zip_escape", "zip"),
        ("wrong_encoding", "UTF-8"),
    ],
)
def test_a_bad_entries_file_is_rejected_whole_with_the_reason(cli, files, change, reason):
    assert cli("campaign", "create", str(files / "campaign.toml"))[0] == 0
    good = {
        "code": "G-1",
        "title": "一网通办",
        "applicant": "甲局",
        "category": "数字政府",
        "domain": "政务服务",
        "images": "G-1.png",
        "status": "shortlisted",
    }
    rows = [good, {**good, "code": "G-2", "images": "G-2.png"}]
    assets = files
    if change == "unknown_category":
        rows[1]["category"] = "数字文化"
    elif change == "duplicate_code":
        rows[1]["code"] = "G-1"
    elif change == "missing_column":
        rows = [{k: v for k, v in row.items() if k != "applicant"} for row in rows]
    elif change == "fake_png":
        (files / "G-2.png").write_text("MZ this is not an image", encoding="utf-8")
    elif change == "zip_escape":
        assets = files / "assets.zip"
        with zipfile.ZipFile(assets, "w") as archive:
            archive.write(files / "G-1.png", "G-1.png")
            archive.writestr("../../etc/G-2.png", b"x")
    encoding = "utf-16" if change == "wrong_encoding" else "utf-8-sig"
    sheet = _write_csv(files / "bad.csv", rows, encoding=encoding)
    code, _, err = cli("import-entries", "city-2021", str(sheet), "--assets", str(assets))
    assert code == 1
    assert err.startswith('reviewdesk: File "bad.csv" has') or change in (
        "zip_escape",
        "wrong_encoding",
    )
    assert reason in err
    assert _entry_count(cli) == 0  # nothing of the file was written


def test_bad_input_exits_non_zero_with_one_line_and_changes_nothing(cli, files, tmp_path):
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text(CAMPAIGN_TOML.replace("weight = 40", "weight = 30"), encoding="utf-8")
    code, out, err = cli("campaign", "create", str(bad_toml))
    assert code == 1 and out == ""
    assert "weights must sum to 100; they sum to 90" in err
    assert cli("standings", "city-2021")[0] == 1  # the campaign was not created


def test_the_console_script_runs(tmp_path):
    """The installed entry point answers; a missing campaign is a one-line refusal."""
    env = {"REVIEWDESK_DATA_DIR": str(tmp_path), "REVIEWDESK_LANGUAGE": "en", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "scoring.cli", "standings", "nope"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    assert result.returncode == 1
    assert result.stderr.strip() == 'reviewdesk: No campaign "nope".'


def test_assign_auto_on_the_demo_covers_every_entry_balanced_without_conflicts(cli, tmp_path):
    from scoring import context
    from scoring.permissions import Actor
    from scoring.services.assignments import coverage_matrix
    from scoring.services.campaigns import get_campaign

    assert cli("init-demo")[0] == 0
    users = _write_csv(
        tmp_path / "more.csv",
        [
            {"username": f"expert{i}", "name": f"专家{i}", "role": "expert", "password": ""}
            for i in (6, 7)
        ],
    )
    assert cli("import-users", str(users))[0] == 0
    entries = _write_csv(
        tmp_path / "late.csv",
        [
            {
                "code": f"QD2020-1{i:02d}",
                "title": f"补报案例{i}",
                "applicant": f"单位{i}",
                "category": "数字政府",
                "domain": "政务服务",
                "status": "shortlisted",
            }
            for i in range(1, 5)
        ],
    )
    assert cli("import-entries", "qd-2020", str(entries))[0] == 0
    code, out, err = cli("assign", "qd-2020", "--auto")
    assert code == 0, err
    # 4 new entries x (5 experts + 3 media), every active reviewer of a panel taking a share.
    assert out.splitlines()[0] == "Added 32 assignments: media +12, expert +20."
    with context.database().read() as session:
        campaign = get_campaign(session, "qd-2020")
        for panel, minimum in (("expert", 5), ("media", 3)):
            matrix = coverage_matrix(session, Actor.command_line(), campaign, panel)
            assert (matrix["missing"] == 0).all()
            assert (matrix["assigned"] >= minimum).all()
            reviewers = [c for c in matrix.columns if c not in ("assigned", "missing")]
            assert not (matrix[reviewers] == "conflict").any().any()
    code, out, _ = cli("assign", "qd-2020", "--auto")
    assert (code, out.strip()) == (
        0,
        "Every shortlisted entry already has enough reviewers; nothing was added.",
    )


def test_template_writes_a_workbook_the_import_takes_back(cli, tmp_path):
    assert cli("init-demo")[0] == 0
    out = tmp_path / "users-template.xlsx"
    code, said, _ = cli("template", "users", "--out", str(out))
    assert code == 0 and str(out) in said
    code, said, err = cli("import-users", str(out))
    assert code == 0, err
    assert "expert" in said  # the example account was created with its role
    out = tmp_path / "votes-template.xlsx"
    assert cli("template", "votes", "--campaign", "qd-2020", "--out", str(out))[0] == 0
    code, said, err = cli("import-votes", "qd-2020", str(out))
    assert (code, said.strip()) == (0, "Updated the votes of 1 entries."), err


def test_template_refuses_an_unknown_campaign_and_writes_nothing(cli, tmp_path):
    out = tmp_path / "votes.xlsx"
    code, _, err = cli("template", "votes", "--campaign", "no-such", "--out", str(out))
    assert code != 0 and err.strip()
    assert not out.exists()
