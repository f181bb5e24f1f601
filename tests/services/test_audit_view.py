"""The readable audit log: filters an organiser narrows it by, and changes shown as lines.

Filters run in the database (SQLite and PostgreSQL): Beijing dates, user, entry code in the
target or the values, and actions found by their words; the CSV takes the same filters and
keeps the raw action key and JSON values. Every action the code records has words.
"""

from __future__ import annotations

import ast
import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from scoring.i18n import catalogue
from scoring.permissions import Actor
from scoring.services import audit
from scoring.services.audit_view import (
    KNOWN_ACTIONS,
    action_label,
    actions_matching,
    beijing_days,
    describe_change,
)

CLI = Actor.command_line()
ROOT = Path(__file__).parents[2]


def _add(database, at: datetime, who: str, action: str, target: str = "", old=None, new=None):
    """One event at a given time, as if recorded then."""

    def write(session):
        row = audit.event(Actor(who, "organiser"), action, target=target, old=old, new=new)
        row.at = at
        session.add(row)

    database.write(write)


@pytest.fixture
def log(database):
    """Four events around Beijing midnight of 1 March 2026 (16:00 UTC on 28 February)."""
    _add(
        database,
        datetime(2026, 2, 28, 15, 59, tzinfo=UTC),
        "alice",
        "sheet.save",
        "T-001/e1",
        {"points": 3},
        {"points": 4},
    )
    _add(
        database,
        datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
        "bob",
        "entry.status",
        "T-002",
        "submitted",
        "eligible",
    )
    _add(
        database,
        datetime(2026, 3, 1, 15, 59, tzinfo=UTC),
        "alice",
        "account.role",
        "carol",
        "expert",
        "organiser",
    )
    _add(
        database,
        datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        "bob",
        "votes.import",
        "batch",
        None,
        {"codes": ["T-001", "T-009"]},
    )
    return database


def _targets(database, **filters) -> list[str]:
    with database.read() as session:
        page = audit.list_events(session, CLI, **filters)
    assert page.total == len(page.events)
    return [e.target for e in page.events]


def _csv_targets(database, **filters) -> list[list[str]]:
    with database.read() as session:
        data = audit.events_csv(session, CLI, "en", **filters)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]


def test_a_beijing_date_covers_that_day_in_beijing_not_in_utc(log):
    since, until = beijing_days(date(2026, 3, 1), date(2026, 3, 1))
    # 16:00 UTC on 28 Feb is midnight in Beijing: in; 15:59 UTC on 28 Feb is the day before.
    assert _targets(log, since=since, until=until) == ["carol", "T-002"]
    assert [r[4] for r in _csv_targets(log, since=since, until=until)] == ["carol", "T-002"]
    assert _targets(log, since=beijing_days(date(2026, 3, 2), None)[0]) == ["batch"]
    assert _targets(log, until=beijing_days(None, date(2026, 2, 28))[1]) == ["T-001/e1"]


def test_filter_by_user(log):
    assert _targets(log, who="bob") == ["batch", "T-002"]


def test_filter_by_entry_finds_the_code_in_the_target_or_in_the_values(log):
    assert _targets(log, entry="t-001") == ["batch", "T-001/e1"]
    assert _targets(log, entry="T-002") == ["T-002"]
    assert _targets(log, entry="T-404") == []
    # A LIKE wildcard typed in the box is a character, not "anything".
    assert _targets(log, entry="T-00_") == []


def test_filter_by_action_words_in_either_language(log):
    with log.read() as session:
        recorded = audit.action_names(session)
    assert actions_matching("角色", "zh", recorded) == ["account.role"]
    assert actions_matching("import", "en", recorded) == ["votes.import"]
    assert _targets(log, actions=tuple(actions_matching("score", "en", recorded))) == ["T-001/e1"]
    assert _targets(log, actions=()) == []


def test_the_csv_keeps_raw_action_keys_and_json_values(log):
    rows = _csv_targets(log, who="alice")
    assert [(r[3], r[5], r[6]) for r in rows] == [
        ("account.role", '"expert"', '"organiser"'),
        ("sheet.save", '{"points": 3}', '{"points": 4}'),
    ]


def test_a_dict_change_shows_one_line_per_changed_key():
    old = {"points": 3, "note": "ok", "gone": 1, "same": "x"}
    new = {"points": 4, "note": "ok", "added": True, "same": "x"}
    assert describe_change(old, new) == ["+ added: true", "− gone: 1", "points: 3 → 4"]


def test_scalars_lists_and_missing_sides():
    assert describe_change("expert", "organiser") == ["expert → organiser"]
    assert describe_change(None, {"role": "expert"}) == ["+ role: expert"]
    assert describe_change("x", None) == ["x → ∅"]
    assert describe_change(5, 5) == []
    codes = [f"T-{i:03}" for i in range(300)]
    (line,) = describe_change(None, {"codes": codes})
    assert line == "+ codes: [T-000, T-001, T-002, T-003, T-004, … +295] (300)"


def test_hostile_values_stay_as_typed_in_the_lines():
    title = "![x](http://evil.test/a.png) <b>b</b>"
    assert describe_change({"title": "a"}, {"title": title}) == [f"title: a → {title}"]


def test_an_unknown_action_shows_its_raw_name():
    assert action_label("made.up", "zh") == "made.up"
    assert action_label("sheet.save", "en") == "Score sheet saved"


def _recorded_actions() -> tuple[set[str], set[str]]:
    """Action strings handed to audit.record / audit.event / a bulk batch's add, and the
    call sites whose action is computed (which must be listed below by hand)."""
    literal, computed = set(), set()
    for path in (ROOT / "scoring").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            owner = owner.id if isinstance(owner, ast.Name) else ""
            index = {("audit", "record"): 2, ("audit", "event"): 1}.get((owner, node.func.attr))
            if index is None and node.func.attr == "add" and owner in {"events", "batch"}:
                index = 0
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant):
                literal.add(arg.value)
            else:
                computed.add(f"{path.relative_to(ROOT)}:{ast.unparse(arg)}")
    return literal, computed


COMPUTED = {
    "scoring/services/finalise.py:f'award.{kind}'": {"award.tie", "award.override"},
    "scoring/services/finalise.py:'panel.lock' if locked else 'panel.unlock'": {
        "panel.lock",
        "panel.unlock",
    },
    "scoring/services/publication.py:f'campaign.{kind}'": {
        "campaign.certificates",
        "campaign.casebook",
    },
    "scoring/services/notice.py:action": {"campaign.notice_withdraw"},
    # EventBatch.add passes its caller's action on; those calls (events.add) are scanned.
    "scoring/services/audit_bulk.py:action": set(),
    "scoring/services/reminders.py:SEND_ACTION": {"reminders.send"},
    "scoring/services/reminders.py:RESULT_ACTION": {"reminders.result"},
}
"""Call sites whose action is computed, with every action they can record."""


def test_every_recorded_action_is_known_and_has_words_in_both_languages():
    literal, computed = _recorded_actions()
    assert len(literal) > 20  # the scan really finds the calls
    assert computed == set(COMPUTED), "a new computed action: add it to COMPUTED and the list"
    recorded = literal | set().union(*COMPUTED.values())
    assert sorted(recorded ^ set(KNOWN_ACTIONS)) == []
    for lang in ("zh", "en"):
        words = catalogue(lang)
        assert [a for a in KNOWN_ACTIONS if f"audit_words.action.{a}" not in words] == []
