"""Automatic assignment and the coverage matrix (SPEC §2.6).

Every shortlisted entry reaches ``min_reviews`` of each panel, loads stay within one, a cap
is respected, conflicts are never assigned, nothing existing is removed, and an impossible
minimum is refused with nothing written.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from scoring.errors import Names, PermissionDenied, ValidationFailed
from scoring.services.assignments import auto_assign, coverage_matrix
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import Account, Assignment, AuditEvent, ConflictDeclaration, Entry
from tests.factories import (
    ORGANISER,
    actor_of,
    assigned,
    make_campaign,
    make_entry,
)

FULL = {"innovation": 48, "impact": 30.5}


def _reviewer(session: Session, username: str, role: str, *, active: bool = True) -> Account:
    """A reviewer row without bcrypt: these tests never log in, and hashing costs 0.3 s each."""
    account = Account(
        username=username, display_name=username, role=role, password_hash="-", active=active
    )
    session.add(account)
    session.flush()
    return account


def _components(expert: int, media: int) -> list[dict]:
    return [
        {"key": "votes", "kind": "votes", "weight": 50},
        {"key": "expert", "kind": "panel", "weight": 30, "min_reviews": expert},
        {"key": "media", "kind": "panel", "weight": 20, "min_reviews": media},
    ]


def _scene(database, *, entries=4, experts=3, media=2, expert_min=2, media_min=1, extra=None):
    """A campaign with shortlisted entries A-1.. and reviewers expert1.., media1..; ids back."""

    def setup(session):
        campaign = make_campaign(session, components=_components(expert_min, media_min))
        rows = {f"A-{i}": make_entry(session, campaign, f"A-{i}") for i in range(1, entries + 1)}
        people = {
            **{
                f"expert{i}": _reviewer(session, f"expert{i}", "expert")
                for i in range(1, experts + 1)
            },
            **{f"media{i}": _reviewer(session, f"media{i}", "media") for i in range(1, media + 1)},
        }
        if extra:
            extra(session, campaign, rows, people)
        return {
            "campaign": campaign,
            "entries": {code: e.id for code, e in rows.items()},
            "people": {name: actor_of(a) for name, a in people.items()},
        }

    return database.write(setup)


def _pairs(database, campaign) -> set[tuple[str, str]]:
    with database.read() as session:
        rows = session.exec(
            select(Entry.code, Account.username)
            .select_from(Assignment)
            .join(Entry, Entry.id == Assignment.entry_id)
            .join(Account, Account.id == Assignment.reviewer_id)
            .where(Entry.campaign_id == campaign.id)
        ).all()
    return {(code, username) for code, username in rows}


def _audit_count(database) -> int:
    with database.read() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def _run(database, campaign, actor=ORGANISER, **options):
    return database.write(lambda s: auto_assign(s, actor, campaign, **options))


def _matrix(database, campaign, panel):
    with database.read() as session:
        return coverage_matrix(session, ORGANISER, campaign, panel)


def _conflict(session, entry, reviewer):
    session.add(ConflictDeclaration(entry_id=entry.id, reviewer_id=reviewer.id, reason="同单位"))
    session.flush()


def test_every_entry_reaches_the_minimum_of_every_panel(database):
    scene = _scene(database, entries=5, experts=3, media=2)
    result = _run(database, scene["campaign"])
    assert result.added == {"expert": 10, "media": 5}
    assert result.total_added == 15
    assert sorted(result.loads["expert"].values()) == [3, 3, 4]
    assert sorted(result.loads["media"].values()) == [2, 3]
    for panel in ("expert", "media"):
        matrix = _matrix(database, scene["campaign"], panel)
        assert list(matrix.index) == ["A-1", "A-2", "A-3", "A-4", "A-5"]
        assert (matrix["missing"] == 0).all()
    pairs = _pairs(database, scene["campaign"])
    per_entry = defaultdict(set)
    for code, username in pairs:
        per_entry[code].add(username)
    for code in scene["entries"]:
        assert sum(u.startswith("expert") for u in per_entry[code]) == 2
        assert sum(u.startswith("media") for u in per_entry[code]) == 1


def test_the_result_is_reproducible(database):
    scene = _scene(database, entries=3, experts=3, media=1, expert_min=1, media_min=0)
    _run(database, scene["campaign"])
    assert _pairs(database, scene["campaign"]) == {
        ("A-1", "expert1"),
        ("A-2", "expert2"),
        ("A-3", "expert3"),
    }


def test_every_new_assignment_is_audited(database):
    scene = _scene(database, entries=2, experts=2, media=0, expert_min=1, media_min=0)
    result = _run(database, scene["campaign"])
    with database.read() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "assignment.create")
        ).all()
    assert result.total_added == len(events) == 2
    assert {e.target for e in events} == {
        f"{c}/{u}" for c, u in _pairs(database, scene["campaign"])
    }
    assert {e.campaign_id for e in events} == {scene["campaign"].id}


def test_loads_are_balanced_around_existing_assignments(database):
    def extra(session, campaign, rows, people):
        assigned(session, rows["A-1"], people["expert1"])
        assigned(session, rows["A-2"], people["expert1"])

    scene = _scene(database, entries=4, experts=3, media=0, media_min=0, extra=extra)
    result = _run(database, scene["campaign"])
    loads = result.loads["expert"]
    assert sum(loads.values()) == 8
    assert max(loads.values()) - min(loads.values()) <= 1


def test_a_reviewer_already_overloaded_gets_nothing_new(database):
    def extra(session, campaign, rows, people):
        for entry in rows.values():
            assigned(session, entry, people["expert1"])

    scene = _scene(database, entries=4, experts=3, media=0, media_min=0, extra=extra)
    result = _run(database, scene["campaign"])
    assert result.loads["expert"] == {"expert1": 4, "expert2": 2, "expert3": 2}


def test_the_cap_is_respected(database):
    scene = _scene(database, entries=3, experts=3, media=1, expert_min=2, media_min=1)
    result = _run(database, scene["campaign"], cap=3)
    assert result.loads["expert"] == {"expert1": 2, "expert2": 2, "expert3": 2}
    assert result.loads["media"] == {"media1": 3}


def test_the_cap_counts_existing_assignments(database):
    # expert1 already has: with cap 2 the rest must go to expert2 and expert3.
    def extra(session, campaign, rows, people):
        assigned(session, rows["A-1"], people["expert1"])
        assigned(session, rows["A-2"], people["expert1"])
        _conflict(session, rows["A-3"], people["expert3"])

    scene = _scene(database, entries=4, experts=3, media=0, expert_min=1, media_min=0, extra=extra)
    result = _run(database, scene["campaign"], cap=2)
    assert result.loads["expert"] == {"expert1": 2, "expert2": 1, "expert3": 1}
    assert ("A-3", "expert2") in _pairs(database, scene["campaign"])
    assert ("A-4", "expert3") in _pairs(database, scene["campaign"])


def test_a_cap_that_stops_the_greedy_order_finds_the_way_round(database):
    # Greedy gives A-1 to expert1 (tie broken by name); then A-2, which only expert1 may
    # review, finds expert1 full. The plan exists (A-1 to expert2), so it must be found,
    # not refused.
    def extra(session, campaign, rows, people):
        _conflict(session, rows["A-2"], people["expert2"])

    scene = _scene(database, entries=2, experts=2, media=0, expert_min=1, media_min=0, extra=extra)
    result = _run(database, scene["campaign"], cap=1)
    assert result.loads["expert"] == {"expert1": 1, "expert2": 1}
    assert _pairs(database, scene["campaign"]) == {("A-1", "expert2"), ("A-2", "expert1")}


def test_a_cap_too_low_is_refused_clearly_and_nothing_is_written(database):
    scene = _scene(database, entries=4, experts=3, media=2, expert_min=2, media_min=1)
    before_audit = _audit_count(database)
    with pytest.raises(ValidationFailed) as refused:
        _run(database, scene["campaign"], cap=2)
    error = refused.value
    assert error.key == "assign_auto.cap_too_low"
    assert error.params["panel"] == Names("panel", ("expert",))
    assert (error.params["needed"], error.params["possible"], error.params["cap"]) == (8, 6, 2)
    assert error.params["count"] == len(error.problems) >= 1
    message = error.message("en")
    assert "Expert panel" in message and "8" in message and "6" in message
    assert error.message("zh") != message
    assert _pairs(database, scene["campaign"]) == set()  # the media panel was possible: still 0
    assert _audit_count(database) == before_audit


@pytest.mark.parametrize("cap", [0, -1, True, 1.5])
def test_a_cap_that_is_not_a_positive_whole_number_is_refused(database, cap):
    scene = _scene(database, entries=1, experts=1, media=1, expert_min=1)
    with pytest.raises(ValidationFailed) as refused:
        _run(database, scene["campaign"], cap=cap)
    assert refused.value.key == "assign_auto.bad_cap"


def test_conflicts_are_never_assigned(database):
    def extra(session, campaign, rows, people):
        _conflict(session, rows["A-1"], people["expert1"])
        _conflict(session, rows["A-2"], people["media1"])

    scene = _scene(database, entries=3, experts=3, media=2, extra=extra)
    _run(database, scene["campaign"])
    pairs = _pairs(database, scene["campaign"])
    assert ("A-1", "expert1") not in pairs
    assert ("A-2", "media1") not in pairs
    assert _matrix(database, scene["campaign"], "expert").loc["A-1", "expert1"] == "conflict"
    assert (_matrix(database, scene["campaign"], "expert")["missing"] == 0).all()


def test_too_few_reviewers_after_conflicts_is_refused_naming_the_entries(database):
    def extra(session, campaign, rows, people):
        _conflict(session, rows["A-2"], people["expert1"])
        _conflict(session, rows["A-3"], people["expert1"])
        _conflict(session, rows["A-3"], people["expert2"])

    scene = _scene(database, entries=3, experts=2, media=1, extra=extra)
    before_audit = _audit_count(database)
    with pytest.raises(ValidationFailed) as refused:
        _run(database, scene["campaign"])
    error = refused.value
    assert error.key == "assign_auto.too_few_reviewers"
    assert error.params["panel"] == Names("panel", ("expert",))
    assert error.params["needed"] == 2
    assert error.params["entries"] == "A-2 (1), A-3 (0)"
    assert [p.params["code"] for p in error.problems] == ["A-2", "A-3"]
    assert "A-3 (0)" in error.message("en") and "A-3 (0)" in error.message("zh")
    assert _pairs(database, scene["campaign"]) == set()
    assert _audit_count(database) == before_audit


def test_a_panel_without_reviewers_is_refused(database):
    scene = _scene(database, entries=1, experts=2, media=0)
    with pytest.raises(ValidationFailed) as refused:
        _run(database, scene["campaign"])
    assert (refused.value.key, refused.value.params["panel"]) == (
        "assign_auto.too_few_reviewers",
        Names("panel", ("media",)),
    )
    assert refused.value.params["reviewers"] == 0


def test_existing_assignments_and_sheets_are_kept(database):
    def extra(session, campaign, rows, people):
        for entry in rows.values():
            assigned(session, entry, people["expert1"])
        assigned(session, rows["A-1"], people["expert2"])
        session.flush()
        save_own_sheet(
            session,
            actor_of(people["expert1"]),
            entry_id=rows["A-1"].id,
            points=FULL,
            comment="好",
            submit=True,
            expected_version=None,
        )
        save_own_sheet(
            session,
            actor_of(people["expert2"]),
            entry_id=rows["A-1"].id,
            points={"innovation": 10},
            comment="",
            submit=False,
            expected_version=None,
        )

    scene = _scene(database, entries=3, experts=3, media=1, extra=extra)
    before = _pairs(database, scene["campaign"])
    result = _run(database, scene["campaign"])
    after = _pairs(database, scene["campaign"])
    assert before <= after
    assert result.added["expert"] == 2  # A-1 already had two; one each
    matrix = _matrix(database, scene["campaign"], "expert")
    assert matrix.loc["A-1", "expert1"] == "submitted"
    assert matrix.loc["A-1", "expert2"] == "draft"
    assert matrix.loc["A-1", "expert3"] == ""


def test_inactive_accounts_are_not_used_and_their_unfinished_work_is_replaced(database):
    def extra(session, campaign, rows, people):
        gone = _reviewer(session, "expert0", "expert")
        assigned(session, rows["A-1"], gone)
        gone.active = False
        _reviewer(session, "expert9", "expert", active=False)

    scene = _scene(database, entries=2, experts=2, media=1, extra=extra)
    result = _run(database, scene["campaign"])
    pairs = _pairs(database, scene["campaign"])
    assert not any(u == "expert9" for _, u in pairs)
    assert ("A-1", "expert0") in pairs  # kept, never removed
    assert set(result.loads["expert"]) == {"expert1", "expert2"}
    assert {u for c, u in pairs if c == "A-1" and u.startswith("expert")} == {
        "expert0",
        "expert1",
        "expert2",
    }
    matrix = _matrix(database, scene["campaign"], "expert")
    assert list(matrix.columns) == ["expert0", "expert1", "expert2", "assigned", "missing"]
    assert matrix.loc["A-1", "expert0"] == "assigned"
    assert matrix.loc["A-1", "assigned"] == 2


def test_running_twice_adds_nothing_the_second_time(database):
    scene = _scene(database, entries=4, experts=3, media=2)
    first = _run(database, scene["campaign"], cap=4)
    pairs, events = _pairs(database, scene["campaign"]), _audit_count(database)
    second = _run(database, scene["campaign"], cap=4)
    assert first.total_added == 12
    assert second.added == {"expert": 0, "media": 0}
    assert second.loads == first.loads
    assert (_pairs(database, scene["campaign"]), _audit_count(database)) == (pairs, events)


def test_entries_that_are_not_shortlisted_are_left_alone(database):
    def extra(session, campaign, rows, people):
        make_entry(session, campaign, "X-1", status="accepted")

    scene = _scene(database, entries=1, experts=2, media=1, extra=extra)
    _run(database, scene["campaign"])
    assert not any(code == "X-1" for code, _ in _pairs(database, scene["campaign"]))
    assert "X-1" not in _matrix(database, scene["campaign"], "expert").index


def test_reviewers_are_refused(database):
    scene = _scene(database, entries=1, experts=2, media=1)
    reviewer = scene["people"]["expert1"]
    with pytest.raises(PermissionDenied):
        _run(database, scene["campaign"], actor=reviewer)
    with database.read() as session, pytest.raises(PermissionDenied):
        coverage_matrix(session, reviewer, scene["campaign"], "expert")
    assert _pairs(database, scene["campaign"]) == set()


def test_the_coverage_matrix_shows_every_state(database):
    def extra(session, campaign, rows, people):
        for name in ("expert1", "expert2", "expert3"):
            assigned(session, rows["A-1"], people[name])
        assigned(session, rows["A-2"], people["expert1"])
        _conflict(session, rows["A-1"], people["expert3"])
        _conflict(session, rows["A-2"], people["expert4"])
        save_own_sheet(
            session,
            actor_of(people["expert1"]),
            entry_id=rows["A-1"].id,
            points=FULL,
            comment="",
            submit=True,
            expected_version=None,
        )
        save_own_sheet(
            session,
            actor_of(people["expert2"]),
            entry_id=rows["A-1"].id,
            points={"impact": 20},
            comment="",
            submit=False,
            expected_version=None,
        )

    scene = _scene(database, entries=3, experts=4, media=0, expert_min=3, extra=extra)
    matrix = _matrix(database, scene["campaign"], "expert")
    assert matrix.index.name == "code"
    assert list(matrix.columns) == [
        "expert1",
        "expert2",
        "expert3",
        "expert4",
        "assigned",
        "missing",
    ]
    assert matrix.loc["A-1"].tolist() == ["submitted", "draft", "conflict", "", 2, 1]
    assert matrix.loc["A-2"].tolist() == ["assigned", "", "", "conflict", 1, 2]
    assert matrix.loc["A-3"].tolist() == ["", "", "", "", 0, 3]
    assert str(matrix["missing"].dtype) == "int64"


def test_the_coverage_matrix_of_a_missing_panel_is_refused(database):
    scene = _scene(database, entries=1)
    with database.read() as session, pytest.raises(ValidationFailed) as refused:
        coverage_matrix(session, ORGANISER, scene["campaign"], "votes")
    assert refused.value.key == "sheet.no_panel"


# --- property: a valid plan or a refusal, never a partial write -----------------------------

POOL = {"expert": 5, "media": 3}


def _feasible(entries, reviewers, min_reviews, have, blocked, load, cap) -> bool:
    """An independent check that a plan exists: a plain max-flow (Edmonds-Karp) on small data.

    source -> entry (what it still needs) -> reviewer (1, unless blocked) -> sink (room left).
    """
    capacity: dict[tuple, dict[tuple, int]] = defaultdict(dict)
    needed = 0
    for code in entries:
        need = max(min_reviews - have[code], 0)
        needed += need
        capacity[("s",)][("e", code)] = need
        for r in reviewers:
            if (code, r) not in blocked:
                capacity[("e", code)][("r", r)] = 1
    for r in reviewers:
        capacity[("r", r)][("t",)] = len(entries) if cap is None else max(cap - load[r], 0)
    flow = 0
    while True:
        parent = {("s",): None}
        queue = [("s",)]
        while queue and ("t",) not in parent:
            node = queue.pop(0)
            for nxt, left in capacity[node].items():
                if left > 0 and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if ("t",) not in parent:
            return flow == needed
        node = ("t",)
        while parent[node] is not None:
            before = parent[node]
            capacity[before][node] -= 1
            capacity[node][before] = capacity[node].get(before, 0) + 1
            node = before
        flow += 1


def test_any_situation_gives_a_valid_plan_or_a_clean_refusal(database):
    counter = itertools.count()

    def pool(session):
        return {
            role: [_reviewer(session, f"p{role}{i}", role) for i in range(n)]
            for role, n in POOL.items()
        }

    database.write(pool)

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        n_entries=st.integers(0, 6),
        active=st.fixed_dictionaries({"expert": st.integers(1, 5), "media": st.integers(0, 3)}),
        minimum=st.fixed_dictionaries({"expert": st.integers(0, 3), "media": st.integers(0, 2)}),
        cap=st.none() | st.integers(1, 4),
        links=st.lists(
            st.tuples(
                st.sampled_from(["assign", "conflict", "both"]),
                st.integers(0, 5),
                st.sampled_from(sorted(POOL)),
                st.integers(0, 4),
            ),
            max_size=12,
        ),
    )
    def check(n_entries, active, minimum, cap, links):
        slug = f"prop-{next(counter)}"

        def setup(session):
            campaign = make_campaign(
                session, slug=slug, components=_components(minimum["expert"], minimum["media"])
            )
            entries = [make_entry(session, campaign, f"E-{i}") for i in range(n_entries)]
            people = {}
            for role in POOL:
                accounts = session.exec(
                    select(Account).where(Account.role == role).order_by(Account.username)
                ).all()
                for index, account in enumerate(accounts):
                    account.active = index < active[role]
                    session.add(account)
                people[role] = accounts
            pairs: set[tuple[int, int]] = set()
            conflicted: set[tuple[int, int]] = set()
            for kind, e, role, r in links:
                if not entries or r >= len(people[role]):
                    continue
                entry, reviewer = entries[e % len(entries)], people[role][r]
                key = (entry.id, reviewer.id)
                if kind in ("assign", "both") and key not in pairs | conflicted:
                    session.add(Assignment(entry_id=entry.id, reviewer_id=reviewer.id))
                    pairs.add(key)
                if kind in ("conflict", "both") and key not in conflicted:
                    _conflict(session, entry, reviewer)
                    conflicted.add(key)
            session.flush()
            return campaign

        campaign = database.write(setup)
        before_pairs, before_audit = _pairs(database, campaign), _audit_count(database)
        with database.read() as session:
            states = {
                role: {
                    a.username: a.active
                    for a in session.exec(select(Account).where(Account.role == role))
                }
                for role in POOL
            }
            conflicts = {
                (code, username)
                for code, username in session.exec(
                    select(Entry.code, Account.username)
                    .select_from(ConflictDeclaration)
                    .join(Entry, Entry.id == ConflictDeclaration.entry_id)
                    .join(Account, Account.id == ConflictDeclaration.reviewer_id)
                    .where(Entry.campaign_id == campaign.id)
                )
            }
        codes = [f"E-{i}" for i in range(n_entries)]
        try:
            result = _run(database, campaign, cap=cap)
        except ValidationFailed as refused:
            assert (_pairs(database, campaign), _audit_count(database)) == (
                before_pairs,
                before_audit,
            )
            assert refused.key in ("assign_auto.too_few_reviewers", "assign_auto.cap_too_low")
            (panel,) = refused.params["panel"].keys
            reviewers = sorted(u for u, on in states[panel].items() if on)
            have = {
                c: sum(
                    1
                    for cc, u in before_pairs
                    if cc == c and states[panel].get(u) and (c, u) not in conflicts
                )
                for c in codes
            }
            load = {
                r: sum(1 for c, u in before_pairs if u == r and (c, u) not in conflicts)
                for r in reviewers
            }
            blocked = conflicts | before_pairs
            assert not _feasible(codes, reviewers, minimum[panel], have, blocked, load, cap)
            return
        after = _pairs(database, campaign)
        added = after - before_pairs
        assert before_pairs <= after
        assert not added & conflicts
        assert result.total_added == len(added) == _audit_count(database) - before_audit
        for role in POOL:
            active_names = {u for u, on in states[role].items() if on}
            assert {u for _, u in added if u in states[role]} <= active_names
            effective = {(c, u) for c, u in after if u in states[role] and (c, u) not in conflicts}
            for code in codes:
                counted = [u for c, u in effective if c == code and states[role][u]]
                assert len(counted) >= minimum[role]
            loads = {u: sum(1 for _, v in effective if v == u) for u in active_names}
            assert loads == result.loads[role]
            new_by = defaultdict(set)
            for c, u in added:
                if u in states[role]:
                    new_by[u].add(c)
            if cap is not None:
                assert all(loads[u] <= cap for u in new_by)
            # Balance: a reviewer two heavier than another keeps no new entry the other
            # could have taken instead.
            for heavy, light in itertools.permutations(active_names, 2):
                if loads[heavy] >= loads[light] + 2:
                    for code in new_by[heavy]:
                        assert (code, light) in conflicts or (code, light) in after
        assert _run(database, campaign, cap=cap).total_added == 0

    check()
