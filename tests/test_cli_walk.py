"""A whole campaign run from the command line alone, and the finalised campaign holding still.

The organisers' office must be able to close a selection without the browser (a script on
the night before the ceremony, a server without a screen): every step of the finalise page
has its command, refuses with one line and changes nothing when it must, and once the list
is frozen no command may move it until the finalisation is withdrawn with a reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., tuple[int, str, str]]

SLUG = "walk-2022"
CAMPAIGN_TOML = f"""
slug = "{SLUG}"
name = "2022数字化评选"
year = 2022
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

ENTRIES = [
    # code, category, domain, status
    ("G-1", "数字政府", "政务服务", "accepted"),
    ("G-2", "数字政府", "大数据", "accepted"),
    ("G-3", "数字政府", "政务服务", "accepted"),
    ("E-1", "数字经济", "大数据", "accepted"),
    ("E-2", "数字经济", "政务服务", "accepted"),
    ("E-3", "数字经济", "大数据", "accepted"),  # never shortlisted: the late one
]
# G-1 and G-2 are equal on every key: a tie across the 数字政府 cut line (quota 1).
VOTES = {"G-1": 200, "G-2": 200, "G-3": 100, "E-1": 100, "E-2": 50}
# Points per criterion; E-1 has one review of the two required: a provisional award.
SCORES = {
    "e1": {"G-1": 40, "G-2": 40, "G-3": 30, "E-1": 45, "E-2": 20},
    "e2": {"G-1": 40, "G-2": 40, "G-3": 30, "E-2": 20},
}


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def entry_rows(entries: list[tuple[str, str, str, str]]) -> list[dict]:
    return [
        {
            "code": code,
            "title": f"案例{code}",
            "applicant": f"单位{code}",
            "category": category,
            "domain": domain,
            "status": status,
        }
        for code, category, domain, status in entries
    ]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "campaign.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    write_csv(
        folder / "users.csv",
        [
            {"username": "e1", "name": "专家一", "role": "expert", "password": ""},
            {"username": "e2", "name": "专家二", "role": "expert", "password": ""},
        ],
    )
    write_csv(folder / "entries.csv", entry_rows(ENTRIES))
    write_csv(folder / "votes.csv", [{"code": c, "votes": v} for c, v in VOTES.items()])
    write_csv(
        folder / "scores.csv",
        [
            {"reviewer": reviewer, "code": code, "criterion": criterion, "score": points}
            for reviewer, sheet in SCORES.items()
            for code, points in sheet.items()
            for criterion in ("innovation", "impact")
        ],
    )
    # Files for the changes a finalised campaign must refuse
    write_csv(folder / "late_entries.csv", entry_rows([("E-4", "数字经济", "大数据", "accepted")]))
    write_csv(folder / "late_votes.csv", [{"code": "G-3", "votes": 900}])
    write_csv(
        folder / "late_scores.csv",
        [
            {"reviewer": "e2", "code": "E-1", "criterion": criterion, "score": 10}
            for criterion in ("innovation", "impact")
        ],
    )
    write_csv(
        folder / "more_users.csv",
        [{"username": "e3", "name": "专家三", "role": "expert", "password": ""}],
    )
    return folder


def ok(cli: Cli, *args: str) -> str:
    """Run a command that must succeed; its one-line confirmation."""
    code, out, err = cli(*args)
    assert (code, err) == (0, ""), f"{args}: {err}"
    return out


def refused(cli: Cli, *args: str) -> str:
    """Run a command that must be refused: exit 1, nothing on stdout, one line on stderr."""
    code, out, err = cli(*args)
    assert code == 1, f"{args} was not refused: {out}"
    assert out == ""
    assert err.startswith("reviewdesk: ") and err.count("\n") == 1, err
    return err


def standings(cli: Cli) -> dict[str, dict]:
    return {row["code"]: row for row in json.loads(ok(cli, "standings", SLUG))}


def overrides(cli: Cli) -> dict[str, str]:
    """The committee's reason per overridden entry, from the standings CSV."""
    rows = csv.DictReader(io.StringIO(ok(cli, "standings", SLUG, "--format", "csv")))
    return {row["code"]: row["override"] for row in rows if row["override"]}


def data_folder(tmp_path: Path) -> Path:
    return tmp_path / "data"


def dump(tmp_path: Path) -> dict[str, object]:
    """Every row of every table, and every stored file, to compare before and after."""
    folder = data_folder(tmp_path)
    with sqlite3.connect(folder / "reviewdesk.db") as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        rows: dict[str, object] = {
            table: sorted(map(repr, connection.execute(f'SELECT * FROM "{table}"')))
            for table in tables
        }
    connection.close()
    rows["files"] = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith("reviewdesk.db")
    )
    return rows


def prepare(cli: Cli, files: Path) -> None:
    """Set-up to scored and locked: campaign, accounts, entries, votes, shortlist, sheets."""
    ok(cli, "campaign", "create", str(files / "campaign.toml"))
    ok(cli, "import-users", str(files / "users.csv"))
    ok(cli, "import-entries", SLUG, str(files / "entries.csv"))
    assert ok(cli, "shortlist", SLUG, "--codes", "G-1,G-2,G-3,E-1,E-2").strip() == (
        "Shortlisted 5 entries."
    )
    ok(cli, "import-votes", SLUG, str(files / "votes.csv"))
    ok(cli, "assign", SLUG, "--auto")
    ok(cli, "import-scores", SLUG, str(files / "scores.csv"), "--submit")
    assert ok(cli, "lock", SLUG, "expert", "--reason", "评审结束").strip() == (
        f"Locked Expert panel ({SLUG}): its sheets are read-only."
    )


def decide(cli: Cli) -> None:
    """The committee's decisions: the tie, one added award, a larger quota."""
    assert ok(cli, "decide-tie", SLUG, "--award", "G-1", "--reason", "实地考察更优").strip() == (
        f"Decided 1 tie(s) at the cut line of {SLUG}: award for G-1; no award for G-2."
    )
    assert ok(cli, "override", SLUG, "G-3", "--grant", "--reason", "委员会增补").strip() == (
        "Committee override on G-3: the award is granted."
    )
    assert ok(cli, "set-quota", SLUG, "数字经济", "2", "--reason", "名额调剂").strip() == (
        f"Award quota of group “数字经济” in {SLUG} set to 2."
    )


SHA = re.compile(r"SHA-256 of the frozen final list: ([0-9a-f]{64})$")


def finalise(cli: Cli) -> str:
    out = ok(cli, "finalise", SLUG, "--acknowledge", "E-1=第二位专家回避，委员会认可")
    match = SHA.search(out.strip())
    assert match, out
    return match.group(1)


def test_a_campaign_is_run_and_finalised_from_the_command_line_alone(cli, files, tmp_path):
    prepare(cli, files)
    before = standings(cli)
    assert before["G-1"]["tie_at_cutline"] and before["G-2"]["tie_at_cutline"]
    assert before["E-1"]["provisional"] and before["E-1"]["award"]
    assert "E-3" not in before  # accepted, never shortlisted

    decide(cli)
    decided = standings(cli)
    awarded = sorted(code for code, row in decided.items() if row["award"])
    assert awarded == ["E-1", "E-2", "G-1", "G-3"]
    assert overrides(cli) == {"G-3": "委员会增补"}

    # A provisional award not acknowledged keeps the list open, naming the entry
    assert "E-1" in refused(cli, "finalise", SLUG)
    sha = finalise(cli)

    out_file = tmp_path / "final.xlsx"
    ok(cli, "export", SLUG, "--out", str(out_file))
    assert "Verified" in ok(cli, "verify", str(out_file))

    assert ok(cli, "withdraw", SLUG, "--reason", "公示期收到异议").strip() == (
        f"Finalisation of {SLUG} withdrawn; results may change again "
        "(the frozen list is kept, marked withdrawn)."
    )
    # results may change again: the tie is decided the other way and finalised anew
    ok(cli, "decide-tie", SLUG, "--award", "G-2", "--reason", "异议成立")
    assert standings(cli)["G-2"]["award"] and not standings(cli)["G-1"]["award"]
    assert finalise(cli) != sha


_templates: dict[str, Path] = {}


def from_template(
    name: str, build: Callable[[], None], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Build a data folder once per test session, then give each test its own copy."""
    if name not in _templates:
        build()
        with sqlite3.connect(data_folder(tmp_path) / "reviewdesk.db") as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        keep = tmp_path_factory.mktemp(name) / "data"
        shutil.copytree(data_folder(tmp_path), keep)
        _templates[name] = keep
    else:
        shutil.copytree(_templates[name], data_folder(tmp_path))


@pytest.fixture
def prepared(cli, files, tmp_path, tmp_path_factory) -> Path:
    """Scored and locked, the tie undecided and the provisional award unacknowledged."""
    from_template("prepared", lambda: prepare(cli, files), tmp_path, tmp_path_factory)
    return files


@pytest.fixture
def finalised(cli, files, tmp_path, tmp_path_factory) -> Path:
    """Finalised after the committee's decisions."""

    def build() -> None:
        prepare(cli, files)
        decide(cli)
        finalise(cli)

    from_template("finalised", build, tmp_path, tmp_path_factory)
    return files


FINALISED_REFUSALS = [
    pytest.param(("import-entries", SLUG, "{in}/late_entries.csv"), id="import-entries"),
    pytest.param(("import-votes", SLUG, "{in}/late_votes.csv"), id="import-votes"),
    pytest.param(("import-scores", SLUG, "{in}/late_scores.csv", "--submit"), id="import-scores"),
    pytest.param(("shortlist", SLUG, "--all-accepted"), id="shortlist"),
    pytest.param(("assign", SLUG, "--auto"), id="assign"),
    pytest.param(("lock", SLUG, "expert", "--reason", "再锁一次"), id="lock"),
    pytest.param(("unlock", SLUG, "expert", "--reason", "补评"), id="unlock"),
    pytest.param(("decide-tie", SLUG, "--award", "G-2", "--reason", "改判"), id="decide-tie"),
    pytest.param(("override", SLUG, "G-3", "--cancel", "--reason", "撤销"), id="override"),
    pytest.param(("override", SLUG, "G-3", "--clear", "--reason", "撤回"), id="override-clear"),
    pytest.param(("set-quota", SLUG, "数字政府", "2", "--reason", "扩容"), id="set-quota"),
    pytest.param(("finalise", SLUG, "--acknowledge", "E-1=再次确认"), id="finalise-again"),
]


@pytest.mark.parametrize("command", FINALISED_REFUSALS)
def test_a_finalised_campaign_refuses_every_change_and_keeps_every_row(
    cli, finalised, tmp_path, command
):
    args = [part.replace("{in}", str(finalised)) for part in command]
    before = dump(tmp_path)
    err = refused(cli, *args)
    assert "finalised" in err  # the reason names the state, not some other problem
    assert dump(tmp_path) == before


def test_a_finalised_list_exports_verifies_and_reopens_only_by_withdrawal(cli, finalised, tmp_path):
    out_file = tmp_path / "final.xlsx"
    ok(cli, "export", SLUG, "--out", str(out_file))
    assert "Verified" in ok(cli, "verify", str(out_file))
    frozen = standings(cli)
    # Accounts are not campaign data: the office may still add a reviewer
    assert ok(cli, "import-users", str(finalised / "more_users.csv")).startswith("Created 1")
    assert standings(cli) == frozen

    ok(cli, "withdraw", SLUG, "--reason", "专家组复议")
    assert "not finalised" in refused(cli, "withdraw", SLUG, "--reason", "再撤一次")
    ok(cli, "set-quota", SLUG, "数字政府", "2", "--reason", "复议后扩容")
    assert standings(cli)["G-2"]["award"]


BAD_INPUT = [
    # lock / unlock
    pytest.param(
        ("lock", "nope", "expert", "--reason", "r"), 'No campaign "nope".', id="lock-campaign"
    ),
    pytest.param(("lock", SLUG, "media", "--reason", "r"), "has no media panel", id="lock-panel"),
    pytest.param(("lock", SLUG, "votes", "--reason", "r"), "has no votes panel", id="lock-votes"),
    pytest.param(("lock", SLUG, "expert", "--reason", "  "), "give a reason", id="lock-reason"),
    pytest.param(("unlock", SLUG, "expert", "--reason", ""), "give a reason", id="unlock-reason"),
    pytest.param(
        ("unlock", SLUG, "media", "--reason", "r"), "has no media panel", id="unlock-panel"
    ),
    # decide-tie
    pytest.param(
        ("decide-tie", "nope", "--award", "G-1", "--reason", "r"),
        'No campaign "nope".',
        id="tie-campaign",
    ),
    pytest.param(
        ("decide-tie", SLUG, "--award", "G-1,G-3", "--reason", "r"),
        "“G-3” is not in a tie at an award cut line",
        id="tie-half-valid-list",
    ),
    pytest.param(
        ("decide-tie", SLUG, "--award", "X-9", "--reason", "r"),
        "“X-9” is not in a tie",
        id="tie-unknown-code",
    ),
    pytest.param(
        ("decide-tie", SLUG, "--award", " , ", "--reason", "r"),
        "Name the tied entries",
        id="tie-no-codes",
    ),
    pytest.param(
        ("decide-tie", SLUG, "--award", "G-1", "--no-award", "G-1", "--reason", "r"),
        "both with --award and --no-award: G-1",
        id="tie-both-lists",
    ),
    pytest.param(
        ("decide-tie", SLUG, "--award", "G-1", "--reason", " "),
        "give a reason",
        id="tie-reason",
    ),
    # override
    pytest.param(
        ("override", "nope", "G-3", "--grant", "--reason", "r"),
        'No campaign "nope".',
        id="override-campaign",
    ),
    pytest.param(
        ("override", SLUG, "X-9", "--grant", "--reason", "r"),
        'No entry "X-9".',
        id="override-code",
    ),
    pytest.param(
        ("override", SLUG, "E-3", "--grant", "--reason", "r"),
        "“E-3” is not shortlisted",
        id="override-not-shortlisted",
    ),
    pytest.param(
        ("override", SLUG, "G-3", "--cancel", "--reason", ""),
        "give a reason",
        id="override-reason",
    ),
    pytest.param(
        ("override", SLUG, "G-3", "--clear", "--reason", "r"),
        "“G-3” has no committee override to withdraw",
        id="override-clear-nothing",
    ),
    # set-quota
    pytest.param(
        ("set-quota", "nope", "数字政府", "2", "--reason", "r"),
        'No campaign "nope".',
        id="quota-campaign",
    ),
    pytest.param(
        ("set-quota", SLUG, "数字文化", "2", "--reason", "r"),
        "no ranking group “数字文化”",
        id="quota-group",
    ),
    pytest.param(
        ("set-quota", SLUG, "数字政府", "two", "--reason", "r"),
        "whole number of at least 0: two",
        id="quota-not-a-number",
    ),
    pytest.param(
        ("set-quota", SLUG, "数字政府", "-1", "--reason", "r"),
        "whole number of at least 0: -1",
        id="quota-negative",
    ),
    pytest.param(
        ("set-quota", SLUG, "数字政府", "1.5", "--reason", "r"),
        "whole number of at least 0: 1.5",
        id="quota-fraction",
    ),
    pytest.param(
        ("set-quota", SLUG, "数字政府", "2", "--reason", " "), "give a reason", id="quota-reason"
    ),
    # finalise
    pytest.param(("finalise", "nope"), 'No campaign "nope".', id="finalise-campaign"),
    pytest.param(
        ("finalise", SLUG),
        "Ties at an award cut line still to decide: G-1, G-2",
        id="finalise-undecided-tie",
    ),
    pytest.param(
        ("finalise", SLUG, "--acknowledge", "E-1"),
        "written CODE=REASON",
        id="finalise-ack-no-equals",
    ),
    pytest.param(
        ("finalise", SLUG, "--acknowledge", "E-1= "),
        "written CODE=REASON",
        id="finalise-ack-no-reason",
    ),
    pytest.param(
        ("finalise", SLUG, "--acknowledge", "=reason"),
        "written CODE=REASON",
        id="finalise-ack-no-code",
    ),
    pytest.param(
        ("finalise", SLUG, "--acknowledge", "E-1=a", "--acknowledge", "E-1=b"),
        "“E-1” is acknowledged more than once",
        id="finalise-ack-twice",
    ),
    # withdraw
    pytest.param(
        ("withdraw", "nope", "--reason", "r"), 'No campaign "nope".', id="withdraw-campaign"
    ),
    pytest.param(("withdraw", SLUG, "--reason", "r"), "not finalised", id="withdraw-not-final"),
]


@pytest.mark.parametrize(("command", "reason"), BAD_INPUT)
def test_bad_input_to_a_closing_step_is_refused_in_one_line_and_changes_nothing(
    cli, prepared, tmp_path, command, reason
):
    before = dump(tmp_path)
    assert reason in refused(cli, *command)
    assert dump(tmp_path) == before


def test_finalise_waits_for_every_panel_lock_and_every_acknowledgement(cli, prepared, tmp_path):
    ok(cli, "decide-tie", SLUG, "--award", "G-1", "--reason", "实地考察更优")
    ok(cli, "unlock", SLUG, "expert", "--reason", "补评")
    before = dump(tmp_path)
    assert "Panels still open: Expert panel" in refused(
        cli, "finalise", SLUG, "--acknowledge", "E-1=x"
    )
    assert dump(tmp_path) == before
    ok(cli, "lock", SLUG, "expert", "--reason", "补评结束")
    before = dump(tmp_path)
    assert "acknowledgement with a reason before finalising" in refused(cli, "finalise", SLUG)
    assert "not one: G-3" in refused(
        cli, "finalise", SLUG, "--acknowledge", "E-1=x", "--acknowledge", "G-3=y"
    )
    assert dump(tmp_path) == before


def test_a_tie_decided_for_nobody_and_an_override_withdrawn(cli, prepared):
    """`--no-award` decides a tie in which nobody gets the award; `--clear` undoes a grant."""
    assert ok(cli, "decide-tie", SLUG, "--no-award", "G-2", "--reason", "均不达标").strip() == (
        f"Decided 1 tie(s) at the cut line of {SLUG}: award for nobody; no award for G-1, G-2."
    )
    rows = standings(cli)
    assert not rows["G-1"]["award"] and not rows["G-2"]["award"]
    ok(cli, "override", SLUG, "G-3", "--cancel", "--reason", "材料不实")
    assert overrides(cli) == {"G-3": "材料不实"}
    assert not standings(cli)["G-3"]["award"]
    assert ok(cli, "override", SLUG, "G-3", "--clear", "--reason", "复核后撤回").strip() == (
        "Committee override on G-3 withdrawn; its award follows the rules again."
    )
    assert overrides(cli) == {}


def test_the_confirmations_speak_chinese_by_default(cli, prepared, monkeypatch):
    from scoring.settings import get_settings

    monkeypatch.setenv("REVIEWDESK_LANGUAGE", "zh")
    get_settings.cache_clear()
    assert ok(cli, "decide-tie", SLUG, "--award", "G-2", "--reason", "复核").strip() == (
        f"已裁定 {SLUG} 获奖线上的 1 处并列：获奖 G-2；不获奖 G-1。"
    )
    assert refused(cli, "set-quota", SLUG, "数字政府", "两个", "--reason", "r") == (
        "reviewdesk: 获奖名额须为不小于 0 的整数：两个\n"
    )
