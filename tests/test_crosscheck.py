"""An independent check of SPEC §3 (scoring rules) through the real ``reviewdesk`` CLI.

Why this file exists: the engine's own tests compare the engine with expectations written by
the people who wrote the engine, so a misreading of SPEC §3 can sit in both. Here campaigns
are generated at random (seeded, so every failure names a seed that reproduces it), written
as the files of SPEC §5.1-§5.4 and run through the command line in subprocesses, exactly as
an organiser would run them::

    reviewdesk import-users users.csv                    (once per database)
    reviewdesk campaign create campaign.toml
    reviewdesk import-entries SLUG entries.csv
    reviewdesk shortlist SLUG --codes A,B | --all-accepted   (in some campaigns)
    reviewdesk import-votes SLUG votes.csv
    reviewdesk import-scores SLUG scores.csv --submit
    reviewdesk standings SLUG --format json

Every value of the §5.6 JSON (the list order; per entry code, title, category, domain,
group, each component, composite, rank, tie, provisional, award, tie_at_cutline) is then
compared with a second calculation of §3 written below in plain Python from the generated
inputs alone: nothing from ``scoring`` is imported. Floats agree within 1e-9. Each command
is a process of its own; to keep the file fast, most are forked from a launcher that has
imported ``scoring.cli`` (see ``LAUNCHER``), the first campaign of each database runs
through ``python -m scoring.cli``.

The generator makes the rules' corners happen on purpose, and
``test_the_random_campaigns_reach_every_rule`` fails if a change to it stops them happening:
trimmed means with n <= 2 * trim, both z-score fallbacks (fewer than 3 totals; all totals
equal), clipping, provisional and missing panels, drafts (incomplete sheets), vote groups
with no votes, non-shortlisted entries with more votes than any shortlisted one, tie-break
keys the campaign lacks, zero weights (so the tie-break decides), exact copies of entries
(2- and 3-way ties) and a 3-way tie straddling the award cut line.

Readings of SPEC where it leaves room, and how this file resolves them:

* An undecided tie straddling the cut line (SPEC: "the organiser must decide"). The engine
  documents (``scoring/engine/ranking.py`` ``assign_awards``; docs/decisions.md) that, until
  a decision is recorded, ``award = rank <= quota``: every member of a tie that starts
  inside the quota holds the award, and all members are flagged ``tie_at_cutline``. The
  reference mirrors that; a tie straddles when ``rank <= quota < rank + size - 1``.
* "sd_r == 0" is taken literally: totals that are all equal have a population SD of exactly
  0 (computed with ``statistics.pstdev``, which is exact). The engine tests ``< 1e-9``; on
  totals built from rubric points both readings agree.
* Ties are pairwise "every key within 1e-9"; ranks count the entries that are better on the
  first key differing by 1e-9 or more. The engine chains near-equal values into levels; the
  two agree unless values are spaced about 1e-9 apart, which rubric points never produce.
* Group quotas: the campaign file (``validate_campaign_data`` / ``create_campaign``) has no
  key for per-group quotas, so through the CLI only ``award_quota`` applies to every group.
* An entry that no file gave a vote tally: SPEC is silent; docs/decisions.md says it is a
  missing component (provisional). The random campaigns list every entry in the votes file
  so they do not depend on this; ``test_an_entry_without_a_vote_tally`` checks the
  documented reading on its own.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = tuple(range(1, 41))
WORKERS = max(1, min(2, os.cpu_count() or 1))
TOL = 1e-9
CLI_TIMEOUT = 120

EXPERTS = tuple(f"exp{i:02d}" for i in range(1, 8))
MEDIA = tuple(f"med{i:02d}" for i in range(1, 7))
POOL = {"expert": EXPERTS, "media": MEDIA}
PANEL_OF = {**dict.fromkeys(EXPERTS, "expert"), **dict.fromkeys(MEDIA, "media")}

CATEGORY_POOL = ("数字政府", "数字经济", "数字社会", "Smart Industry")
DOMAIN_POOL = ("政务服务", "大数据", "智慧城市", "AI")
GROUPINGS = ("category", "domain", "category_domain", "all")
LAYOUTS = (
    ("votes", "expert"),
    ("votes", "media"),
    ("votes", "expert", "media"),
    ("votes", "media", "expert"),
    ("expert", "votes", "media"),
    ("expert",),
    ("expert", "media"),
    ("media",),
)
CRITERION_NAMES = ("创新性", "成效性", "示范性", "可推广性")
JSON_FIELDS = {
    "code",
    "title",
    "category",
    "domain",
    "group",
    "components",
    "composite",
    "rank",
    "tie",
    "provisional",
    "award",
    "tie_at_cutline",
}


# --------------------------------------------------------------------------- the inputs


@dataclass
class Criterion:
    key: str
    name: str
    max_points: float
    step: float
    write_step: bool


@dataclass
class Component:
    key: str
    kind: str
    weight: float
    aggregate: str = "mean"
    trim: int = 1
    normalise: str = "none"
    min_reviews: int = 3
    written: frozenset[str] = frozenset()  # optional keys written to the TOML


@dataclass
class Entry:
    code: str
    title: str
    category: str
    domain: str
    file_status: str
    shortlisted: bool


@dataclass
class Scenario:
    """One random campaign: everything the files say, and nothing else."""

    seed: int
    slug: str
    categories: list[str]
    domains: list[str]
    vote_group: str = "category"
    rank_group: str = "category_domain"
    tie_break: list[str] = field(default_factory=lambda: ["expert", "media", "votes"])
    award_quota: int = 3
    written: set[str] = field(default_factory=set)  # optional campaign keys in the TOML
    components: list[Component] = field(default_factory=list)
    criteria: dict[str, list[Criterion]] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    file_votes: dict[str, str] = field(default_factory=dict)  # votes column of entries.csv
    votes: dict[str, int] = field(default_factory=dict)  # the votes file
    sheets: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    shortlist: list[str] | None = None  # None: no shortlist command; [] means --all-accepted
    trio: tuple[str, ...] = ()
    header_language: str = "en"
    encoding: str = "utf-8-sig"

    def component(self, key: str) -> Component | None:
        return next((c for c in self.components if c.key == key), None)

    @property
    def panels(self) -> list[Component]:
        return [c for c in self.components if c.kind == "panel"]


def _grid(value: float, step: float, top: float) -> float:
    """``value`` on the criterion's grid of multiples of ``step``, inside 0..top."""
    return min(top, max(0.0, round(value / step) * step))


def _weights(rng: random.Random, n: int) -> list[float]:
    if n == 1:
        return [100.0]
    zero = rng.randrange(n) if rng.random() < 0.4 else None
    parts = n - (zero is not None)
    unit = rng.choice((5.0, 1.0, 0.5))
    slots = int(100 / unit)
    cuts = sorted(rng.sample(range(1, slots), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, slots]
    shares = [(b - a) * unit for a, b in itertools.pairwise(bounds)]
    if zero is not None:
        shares.insert(zero, 0.0)
    return shares


def _panel(rng: random.Random, key: str, weight: float) -> Component:
    comp = Component(key, "panel", weight)
    written = set()
    comp.aggregate = rng.choice(("mean", "trimmed", "trimmed", "median"))
    if comp.aggregate != "mean" or rng.random() < 0.5:
        written.add("aggregate")
    if comp.aggregate == "trimmed" and rng.random() < 0.75:
        comp.trim = rng.choice((1, 2))
        written.add("trim")
    comp.normalise = rng.choice(("none", "zscore", "zscore"))
    if comp.normalise != "none" or rng.random() < 0.5:
        written.add("normalise")
    if rng.random() < 0.85:
        comp.min_reviews = rng.randint(1, 5)
        written.add("min_reviews")
    comp.written = frozenset(written)
    return comp


def _rubric(rng: random.Random, panel: str) -> list[Criterion]:
    criteria = []
    for index, name in enumerate(rng.sample(CRITERION_NAMES, rng.randint(1, 3))):
        step = rng.choice((1.0, 0.5))
        tops = (5.0, 10.0, 20.0, 25.0, 30.0, 40.0) + ((7.5, 12.5) if step == 0.5 else ())
        criteria.append(
            Criterion(
                key=f"{panel[0]}{index + 1}",
                name=name,
                max_points=rng.choice(tops),
                step=step,
                write_step=step != 1.0 or rng.random() < 0.5,
            )
        )
    return criteria


def group_of(category: str, domain: str, how: str) -> str:
    """SPEC §3 comparison groups; labels as shown in the standings ("category / domain")."""
    return {
        "category": category,
        "domain": domain,
        "category_domain": f"{category} / {domain}",
        "all": "all",
    }[how]


def build_scenario(seed: int) -> Scenario:
    rng = random.Random(seed)
    s = Scenario(
        seed=seed,
        slug=f"xc-{seed:03d}",
        categories=rng.sample(CATEGORY_POOL, rng.randint(1, 3)),
        domains=rng.sample(DOMAIN_POOL, rng.randint(1, 3)),
    )
    for name, choices in (("vote_group", GROUPINGS), ("rank_group", GROUPINGS)):
        if rng.random() < 0.85:
            setattr(s, name, rng.choice(choices))
            s.written.add(name)
    s.header_language = rng.choice(("en", "zh"))
    s.encoding = rng.choice(("utf-8-sig", "utf-8", "gb18030"))

    layout = rng.choice(LAYOUTS)
    for key, weight in zip(layout, _weights(rng, len(layout)), strict=True):
        if key == "votes":
            s.components.append(Component(key, "votes", weight))
        else:
            s.components.append(_panel(rng, key, weight))
            s.criteria[key] = _rubric(rng, key)
    if rng.random() < 0.85:
        s.tie_break = rng.sample(["expert", "media", "votes"], rng.randint(0, 3))
        if rng.random() < 0.4:
            s.tie_break.insert(rng.randint(0, len(s.tie_break)), "jury")  # no such component
        s.written.add("tie_break")

    # Entries: shortlisted ones, and some that are not and must be left out of every group.
    numbers = rng.sample(range(1, 100), 30)
    prefixes = "ABKQ"

    def new_code() -> str:
        return f"{rng.choice(prefixes)}-{numbers.pop():02d}"

    s.shortlist = rng.choice((None, None, [], ["codes"]))
    for index in range(rng.randint(6, 11)):
        s.entries.append(
            Entry(
                code=new_code(),
                title=f"案例{seed}-{index}",
                category=rng.choice(s.categories),
                domain=rng.choice(s.domains),
                file_status="shortlisted",
                shortlisted=True,
            )
        )
    for index in range(rng.randint(1, 3)):
        s.entries.append(
            Entry(
                code=new_code(),
                title=f"未入围{seed}-{index}",
                category=rng.choice(s.categories),
                domain=rng.choice(s.domains),
                file_status=rng.choice(("submitted", "accepted", "rejected")),
                shortlisted=False,
            )
        )
    for entry in s.entries:
        if entry.shortlisted:
            s.votes[entry.code] = 0 if rng.random() < 0.15 else rng.randint(1, 400)
        else:
            s.votes[entry.code] = rng.randint(1000, 5000)

    # Reviewers: each panel has its active reviewers, one of them perhaps "flat" (always the
    # same points, so all their totals are equal), each with a leniency of their own.
    active: dict[str, list[str]] = {}
    lenience: dict[str, float] = {}
    flat: dict[str, dict[str, float]] = {}
    for panel in s.panels:
        names = rng.sample(POOL[panel.key], rng.randint(2, len(POOL[panel.key])))
        active[panel.key] = names
        for name in names:
            lenience[name] = rng.uniform(-0.3, 0.3)
        if rng.random() < 0.6:
            flat[rng.choice(names)] = {
                c.key: _grid(rng.uniform(0.3, 1.0) * c.max_points, c.step, c.max_points)
                for c in s.criteria[panel.key]
            }

    def sheet(panel: str, reviewer: str, quality: float) -> dict[str, float]:
        rubric = s.criteria[panel]
        if reviewer in flat:
            points = dict(flat[reviewer])
        else:
            points = {
                c.key: _grid(
                    c.max_points * (quality + lenience[reviewer] + rng.gauss(0, 0.15)),
                    c.step,
                    c.max_points,
                )
                for c in rubric
            }
        if len(rubric) >= 2 and rng.random() < 0.12:  # left incomplete: stays a draft
            del points[rng.choice(list(points))]
        return points

    def review(code: str, panel: str, quality: float) -> None:
        if rng.random() < 0.1:
            return  # nobody reviewed it: the panel score is missing
        names = active[panel]
        for reviewer in rng.sample(names, rng.randint(1, len(names))):
            s.sheets[(reviewer, code)] = sheet(panel, reviewer, quality)

    for entry in s.entries:
        if entry.shortlisted:
            quality = rng.uniform(0.2, 0.85)
            for panel in s.panels:
                review(entry.code, panel.key, quality)

    # Engineered ties: copies of an entry (same category, domain, votes and sheets).
    def copy_of(template: Entry, differ: str | None = None, mode: str = "fresh") -> Entry:
        twin = Entry(
            code=new_code(),
            title=f"{template.title}副本",
            category=template.category,
            domain=template.domain,
            file_status="shortlisted",
            shortlisted=True,
        )
        s.entries.append(twin)
        s.votes[twin.code] = s.votes[template.code]
        for (reviewer, code), points in list(s.sheets.items()):
            if code == template.code and PANEL_OF[reviewer] != differ:
                s.sheets[(reviewer, twin.code)] = dict(points)
        if differ == "votes":
            s.votes[twin.code] = rng.randint(0, 400)
        elif differ is not None and mode == "fresh":
            review(twin.code, differ, rng.uniform(0.2, 0.85))
        elif differ is not None:  # template has no review there, the twin only zeros
            for key in [k for k in s.sheets if k[1] == template.code and PANEL_OF[k[0]] == differ]:
                del s.sheets[key]
            givers = [r for r in active[differ] if r not in flat] or active[differ]
            for reviewer in rng.sample(givers, rng.randint(1, len(givers))):
                s.sheets[(reviewer, twin.code)] = {c.key: 0.0 for c in s.criteria[differ]}
        return twin

    base = [e for e in s.entries if e.shortlisted]
    if rng.random() < 0.65:  # a strong entry and two exact copies: a three-way tie near the top
        template = rng.choice(base)
        s.votes[template.code] = 450
        for key in [k for k in s.sheets if k[1] == template.code]:
            del s.sheets[key]
        for panel in s.panels:
            strong = {
                c.key: _grid(0.95 * c.max_points, c.step, c.max_points)
                for c in s.criteria[panel.key]
            }
            for reviewer in active[panel.key]:  # everyone, and the flat reviewer stays flat
                s.sheets[(reviewer, template.code)] = dict(flat.get(reviewer, strong))
        s.trio = (template.code, copy_of(template).code, copy_of(template).code)
    others = [e for e in base if e.code not in s.trio]
    if others and rng.random() < 0.4:
        copy_of(rng.choice(others))
    # A copy that differs in one component only. With a weight of 0 there, the composites tie
    # and the tie-break decides; a panel of weight 0 that the template has no review in and
    # the copy only zeros meets "missing counts 0" on a tie-break key.
    zero_weight = [c.key for c in s.components if c.weight == 0]
    if others and zero_weight and zero_weight[0] != "votes" and rng.random() < 0.9:
        if zero_weight[0] not in s.tie_break:
            s.tie_break.append(zero_weight[0])
        copy_of(rng.choice(others), zero_weight[0], "zero")
    elif others and len(s.components) > 1 and rng.random() < 0.6:
        differ = (
            zero_weight[0]
            if zero_weight and rng.random() < 0.75
            else rng.choice([c.key for c in s.components])
        )
        copy_of(rng.choice(others), differ, rng.choice(("fresh", "zero")))

    # A vote group where no shortlisted entry has a vote (its maximum is 0).
    shortlisted = [e for e in s.entries if e.shortlisted]
    if s.component("votes") and rng.random() < 0.4:
        label = group_of((pick := rng.choice(shortlisted)).category, pick.domain, s.vote_group)
        for entry in shortlisted:
            if group_of(entry.category, entry.domain, s.vote_group) == label:
                s.votes[entry.code] = 0

    # The entries file carries stale tallies for some entries; the votes file replaces them.
    for entry in s.entries:
        if rng.random() < 0.5:
            s.file_votes[entry.code] = str(rng.randint(0, 9999))

    # How entries reach the shortlist: their status in the file, or the shortlist command.
    if s.shortlist == []:  # --all-accepted: only shortlisted-to-be entries are "accepted"
        for entry in s.entries:
            if entry.shortlisted:
                entry.file_status = rng.choice(("accepted", "shortlisted"))
            elif entry.file_status == "accepted":
                entry.file_status = "submitted"
    elif s.shortlist is not None:
        s.shortlist = []
        for entry in s.entries:
            if entry.shortlisted and rng.random() < 0.6:
                entry.file_status = "accepted"
                s.shortlist.append(entry.code)
        if not s.shortlist:
            s.shortlist = None
    rng.shuffle(s.entries)

    # The award quota: small; where the trio ranks 1..3, one that the trio straddles.
    s.award_quota = rng.randint(1, 3)
    s.written.add("award_quota")
    if s.trio:
        rank = next(r["rank"] for r in reference_standings(s) if r["code"] == s.trio[0])
        straddling = [q for q in (rank, rank + 1) if 1 <= q <= 3]
        if straddling:
            s.award_quota = rng.choice(straddling)
    return s


# ------------------------------------------------------- the second calculation of SPEC §3


def _aggregate(values: list[float], comp: Component, seen: set[str]) -> float:
    if comp.aggregate == "median":
        seen.add("median")
        return statistics.median(values)
    if comp.aggregate == "trimmed":
        if len(values) <= 2 * comp.trim:
            seen.add(f"trimmed fallback (trim {comp.trim})")
            return statistics.fmean(values)
        seen.add(f"trimmed (trim {comp.trim})")
        ordered = sorted(values)
        return statistics.fmean(ordered[comp.trim : len(ordered) - comp.trim])
    return statistics.fmean(values)


def _clip(value: float) -> float:
    return min(100.0, max(0.0, value))


def _panel_scores(
    s: Scenario, comp: Component, codes: set[str], seen: set[str]
) -> dict[str, list[float]]:
    """The counted totals of each shortlisted entry in this panel (normalised if asked)."""
    rubric = s.criteria[comp.key]
    full = sum(c.max_points for c in rubric)
    totals: dict[tuple[str, str], float] = {}
    for (reviewer, code), points in s.sheets.items():
        if PANEL_OF[reviewer] != comp.key or code not in codes:
            continue
        if set(points) != {c.key for c in rubric}:
            seen.add("draft (incomplete sheet)")
            continue
        totals[(reviewer, code)] = 100.0 * math.fsum(points.values()) / full
    counted = dict(totals)
    if comp.normalise == "zscore" and totals:
        mu_p = statistics.fmean(totals.values())
        sd_p = statistics.pstdev(totals.values())
        own: dict[str, list[float]] = defaultdict(list)
        for (reviewer, _), total in totals.items():
            own[reviewer].append(total)
        for (reviewer, code), total in totals.items():
            mu_r, sd_r = statistics.fmean(own[reviewer]), statistics.pstdev(own[reviewer])
            if len(own[reviewer]) < 3 or sd_r == 0:
                few = len(own[reviewer]) < 3
                seen.add("zscore shift (< 3 totals)" if few else "zscore shift (sd 0)")
                value = total - mu_r + mu_p
            else:
                seen.add("zscore scaled")
                value = mu_p + (total - mu_r) / sd_r * sd_p
            if not 0.0 <= value <= 100.0:
                seen.add("zscore clipped")
            counted[(reviewer, code)] = _clip(value)
    by_code: dict[str, list[float]] = {code: [] for code in codes}
    for (_, code), value in counted.items():
        by_code[code].append(value)
    return by_code


def reference_standings(s: Scenario, seen: set[str] | None = None) -> list[dict[str, Any]]:
    """SPEC §3 and §5.6, from the scenario's inputs alone."""
    seen = set() if seen is None else seen
    entries = [e for e in s.entries if e.shortlisted]
    codes = {e.code for e in entries}
    components: dict[str, dict[str, float | None]] = {e.code: {} for e in entries}
    provisional = dict.fromkeys(codes, False)
    for comp in s.components:
        if comp.kind == "votes":
            best: dict[str, int] = defaultdict(int)
            for e in entries:
                label = group_of(e.category, e.domain, s.vote_group)
                best[label] = max(best[label], s.votes.get(e.code, 0))
            for e in entries:
                top = best[group_of(e.category, e.domain, s.vote_group)]
                if e.code not in s.votes:  # no tally at all (docs/decisions.md): missing
                    components[e.code][comp.key] = None
                    continue
                if top == 0:
                    seen.add("vote group without votes")
                components[e.code][comp.key] = 0.0 if top == 0 else 100.0 * s.votes[e.code] / top
            continue
        for code, values in _panel_scores(s, comp, codes, seen).items():
            if len(values) < comp.min_reviews:
                provisional[code] = True
                seen.add("provisional (n < min_reviews)" if values else "panel missing")
            components[code][comp.key] = _aggregate(values, comp, seen) if values else None

    chain = [k for i, k in enumerate(s.tie_break) if s.component(k) and k not in s.tie_break[:i]]
    if len(chain) < len(s.tie_break):
        seen.add("tie-break key skipped")
    rows = []
    for e in entries:
        scores = components[e.code]
        composite = 0.0
        for comp in s.components:
            value = scores[comp.key]
            if value is None:
                provisional[e.code] = True
            composite += comp.weight / 100.0 * (0.0 if value is None else value)
        key = [composite, *(scores[k] or 0.0 for k in chain)]
        rows.append((e, composite, key))

    def better(a: list[float], b: list[float]) -> bool:
        for x, y in zip(a, b, strict=True):
            if abs(x - y) >= TOL:
                return x > y
        return False

    def same(a: list[float], b: list[float]) -> bool:
        return all(abs(x - y) < TOL for x, y in zip(a, b, strict=True))

    result = []
    for e, composite, key in rows:
        label = group_of(e.category, e.domain, s.rank_group)
        group = [
            (f, k) for f, _, k in rows if group_of(f.category, f.domain, s.rank_group) == label
        ]
        rivals = [k for _, k in group]
        rank = 1 + sum(better(k, key) for k in rivals)
        for f, k in group:
            if same(k, key) and any(
                components[e.code][c] is None and components[f.code][c] == 0.0 for c in chain
            ):
                seen.add("missing and 0 tie on a tie-break key")
        size = sum(same(k, key) for k in rivals)
        if any(abs(k[0] - key[0]) < TOL and not same(k, key) for k in rivals):
            seen.add("composite tie broken by tie-break")
        at_cutline = rank <= s.award_quota < rank + size - 1
        if at_cutline and size >= 3:
            seen.add("3-way tie at the cut line")
        if size > 1:
            seen.add("tie")
        result.append(
            {
                "code": e.code,
                "title": e.title,
                "category": e.category,
                "domain": e.domain,
                "group": label,
                "components": components[e.code],
                "composite": composite,
                "rank": rank,
                "tie": size > 1,
                "provisional": provisional[e.code],
                "award": rank <= s.award_quota,  # undecided cut-line tie: as the engine says
                "tie_at_cutline": at_cutline,
            }
        )
    result.sort(key=lambda r: (r["group"], r["rank"], r["code"]))
    return result


# ------------------------------------------------------------------------- the files


HEADERS = {
    "en": {},
    "zh": {
        "code": "编号",
        "title": "名称",
        "applicant": "申报主体",
        "category": "类别",
        "domain": "领域",
        "votes": "票数",
        "status": "状态",
        "reviewer": "评审人",
        "criterion": "指标",
        "score": "分数",
        "username": "用户名",
        "name": "姓名",
        "role": "角色",
        "password": "密码",
    },
}


def _write_csv(path: Path, rows: list[dict[str, str]], language: str, encoding: str) -> Path:
    names = HEADERS[language]
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([names.get(k, k) for k in rows[0]])
        writer.writerows([list(row.values()) for row in rows])
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False)


def campaign_toml(s: Scenario) -> str:
    lines = [
        f"slug = {_toml_value(s.slug)}",
        f"name = {_toml_value(f'交叉核对 {s.seed}')}",
        "year = 2024",
        f"categories = {_toml_value(s.categories)}",
        f"domains = {_toml_value(s.domains)}",
    ]
    for name in ("vote_group", "rank_group", "tie_break", "award_quota"):
        if name in s.written:
            lines.append(f"{name} = {_toml_value(getattr(s, name))}")
    for comp in s.components:
        lines += ["", "[[components]]", f'key = "{comp.key}"', f'kind = "{comp.kind}"']
        lines.append(f"weight = {_toml_value(comp.weight)}")
        for name in ("aggregate", "trim", "normalise", "min_reviews"):
            if name in comp.written:
                lines.append(f"{name} = {_toml_value(getattr(comp, name))}")
    for panel, rubric in s.criteria.items():
        for crit in rubric:
            lines += ["", "[[criteria]]", f'panel = "{panel}"', f'key = "{crit.key}"']
            lines += [f"name = {_toml_value(crit.name)}", f"max_points = {crit.max_points!r}"]
            if crit.write_step:
                lines.append(f"step = {crit.step!r}")
    return "\n".join(lines) + "\n"


def write_files(s: Scenario, folder: Path) -> None:
    folder.mkdir(parents=True)
    rng = random.Random(s.seed * 7919)
    (folder / "campaign.toml").write_text(campaign_toml(s), encoding="utf-8")
    _write_csv(
        folder / "entries.csv",
        [
            {
                "code": e.code,
                "title": e.title,
                "applicant": f"申报单位{i % 4}",
                "category": e.category,
                "domain": e.domain,
                "votes": s.file_votes.get(e.code, ""),
                "status": e.file_status,
            }
            for i, e in enumerate(s.entries)
        ],
        s.header_language,
        s.encoding,
    )
    votes = [
        {"code": c, "votes": str(s.votes[c])} for c in (e.code for e in s.entries) if c in s.votes
    ]
    rng.shuffle(votes)
    _write_csv(folder / "votes.csv", votes, s.header_language, "utf-8-sig")
    names = {(PANEL_OF[r], c.key): c.name for r, _ in s.sheets for c in s.criteria[PANEL_OF[r]]}
    scores = [
        {
            "reviewer": reviewer,
            "code": code,
            "criterion": names[(PANEL_OF[reviewer], key)] if rng.random() < 0.3 else key,
            "score": f"{points:g}",
        }
        for (reviewer, code), sheet in s.sheets.items()
        for key, points in sheet.items()
    ]
    rng.shuffle(scores)
    _write_csv(folder / "scores.csv", scores, s.header_language, s.encoding)


def users_file(path: Path) -> Path:
    rows = [
        {"username": name, "name": f"评审{name}", "role": PANEL_OF[name], "password": ""}
        for name in (*EXPERTS, *MEDIA)
    ]
    return _write_csv(path, rows, "en", "utf-8-sig")


# --------------------------------------------------------------------------- the CLI


@dataclass
class Outcome:
    records: list[dict[str, Any]] | None = None
    failure: str | None = None


def _environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWDESK_")}
    env["REVIEWDESK_DATA_DIR"] = str(data_dir)
    env["REVIEWDESK_DATABASE_URL"] = f"sqlite:///{data_dir / 'crosscheck.db'}"
    env["REVIEWDESK_LANGUAGE"] = "en"
    return env


# Each command is its own process running ``scoring.cli.main`` (the function the ``reviewdesk``
# console script calls) with the shard's environment. Starting Python and importing pandas,
# SQLAlchemy and alembic costs about a second per command, which would put this file far
# over its time budget; so most commands are forked from a "warm" launcher process that has
# imported ``scoring.cli`` and done nothing else (no settings read, no database opened).
# The first campaign of every shard runs cold, through ``python -m scoring.cli``, so the
# interpreter's own entry path is crossed too.
LAUNCHER = """
import json, os, sys, traceback
from scoring.cli import main

for line in sys.stdin:
    job = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            out = open(job["out"], "w", encoding="utf-8")
            err = open(job["err"], "w", encoding="utf-8")
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdout, sys.stderr = out, err
            code = main(job["args"])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\\n")
    sys.stdout.flush()
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Reviewdesk:
    """The ``reviewdesk`` command line for one data folder and database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = _environment(folder / "data")
        self.env["OPENBLAS_NUM_THREADS"] = "1"
        self.launcher: subprocess.Popen[str] | None = None
        self.launcher_err: Any = None
        self.count = 0

    def cold(self, *args: str) -> Result:
        """A fresh interpreter: ``python -m scoring.cli ARGS``."""
        done = subprocess.run(
            [sys.executable, "-m", "scoring.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def warm(self, *args: str) -> Result:
        """A process forked from the launcher, running ``scoring.cli.main(ARGS)``."""
        if not hasattr(os, "fork"):
            return self.cold(*args)
        if self.launcher is None:
            self.launcher_err = (self.folder / "launcher.err").open("w", encoding="utf-8")
            self.launcher = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.launcher_err,
                text=True,
                env=self.env,
                cwd=ROOT,
            )
        self.count += 1
        out, err = self.folder / f"out{self.count}.txt", self.folder / f"err{self.count}.txt"
        assert self.launcher.stdin is not None and self.launcher.stdout is not None
        job = {"args": list(args), "out": str(out), "err": str(err)}
        self.launcher.stdin.write(json.dumps(job) + "\n")
        self.launcher.stdin.flush()
        answer = self.launcher.stdout.readline()
        if not answer:
            launcher_err = (self.folder / "launcher.err").read_text("utf-8", errors="replace")
            return Result(-1, "", f"the launcher stopped:\n{launcher_err}")
        code = json.loads(answer)["code"]
        return Result(code, out.read_text("utf-8"), err.read_text("utf-8"))

    def close(self) -> None:
        if self.launcher is not None:
            assert self.launcher.stdin is not None
            self.launcher.stdin.close()
            self.launcher.wait(timeout=CLI_TIMEOUT)
            self.launcher.stdout.close()
            self.launcher_err.close()


def run_campaign(cli: Reviewdesk, s: Scenario, *, cold: bool) -> Outcome:
    folder = cli.folder / s.slug
    write_files(s, folder)
    steps: list[tuple[str, ...]] = [
        ("campaign", "create", str(folder / "campaign.toml")),
        ("import-entries", s.slug, str(folder / "entries.csv")),
    ]
    if s.shortlist == []:
        steps.append(("shortlist", s.slug, "--all-accepted"))
    elif s.shortlist:
        steps.append(("shortlist", s.slug, "--codes", ",".join(s.shortlist)))
    steps.append(("import-votes", s.slug, str(folder / "votes.csv")))
    if s.sheets:
        steps.append(("import-scores", s.slug, str(folder / "scores.csv"), "--submit"))
    steps.append(("standings", s.slug, "--format", "json"))
    for args in steps:
        result = cli.cold(*args) if cold else cli.warm(*args)
        if result.returncode != 0:
            return Outcome(
                failure=f"`reviewdesk {' '.join(args)}` -> {result.returncode}:\n{result.stderr}"
            )
    return Outcome(records=json.loads(result.stdout))


def run_shard(folder: Path, scenarios: list[Scenario]) -> dict[str, Outcome]:
    """One database: users once, then each campaign in turn; outcomes by slug."""
    folder.mkdir(parents=True)
    cli = Reviewdesk(folder)
    try:
        users = cli.cold("import-users", str(users_file(folder / "users.csv")))
        if users.returncode != 0:
            failed = Outcome(failure=f"import-users failed:\n{users.stderr}")
            return {s.slug: failed for s in scenarios}
        return {s.slug: run_campaign(cli, s, cold=index == 0) for index, s in enumerate(scenarios)}
    finally:
        cli.close()


# ----------------------------------------------------------------------- comparison


def differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    """Every way the CLI's JSON differs from the reference, one line each."""
    problems = []
    codes = [r["code"] for r in expected]
    if [r.get("code") for r in actual] != codes:
        problems.append(f"order/codes: expected {codes}, got {[r.get('code') for r in actual]}")
    by_code = {r.get("code"): r for r in actual}
    for want in expected:
        got = by_code.get(want["code"])
        if got is None:
            continue
        where = f"{want['code']}"
        if set(got) != JSON_FIELDS:
            problems.append(f"{where}: fields {sorted(got)} are not those of SPEC §5.6")
        for name in ("title", "category", "domain", "group", "rank"):
            if got.get(name) != want[name]:
                problems.append(f"{where}.{name}: expected {want[name]!r}, got {got.get(name)!r}")
        for name in ("tie", "provisional", "award", "tie_at_cutline"):
            if got.get(name) is not want[name]:
                problems.append(f"{where}.{name}: expected {want[name]}, got {got.get(name)!r}")
        if not _close(want["composite"], got.get("composite")):
            problems.append(
                f"{where}.composite: expected {want['composite']!r}, got {got.get('composite')!r}"
            )
        comps = got.get("components") or {}
        if set(comps) != set(want["components"]):
            problems.append(f"{where}.components: keys {sorted(comps)}")
        for key, value in want["components"].items():
            if not _close(value, comps.get(key)):
                problems.append(
                    f"{where}.components.{key}: expected {value!r}, got {comps.get(key)!r}"
                )
    return problems


def _close(want: float | None, got: Any) -> bool:
    if want is None or got is None:
        return want is None and got is None
    return isinstance(got, int | float) and not isinstance(got, bool) and abs(want - got) <= TOL


# ----------------------------------------------------------------------------- tests


def untallied_scenario() -> Scenario:
    """Three entries; U-3 has no vote tally in any file (SPEC is silent, docs decide)."""
    s = Scenario(
        seed=0,
        slug="xc-untallied",
        categories=["数字政府"],
        domains=["大数据"],
        vote_group="category",
        rank_group="category",
        award_quota=1,
        written={"vote_group", "rank_group", "award_quota"},
        components=[
            Component("votes", "votes", 60.0),
            Component("expert", "panel", 40.0, min_reviews=1, written=frozenset({"min_reviews"})),
        ],
        criteria={"expert": [Criterion("e1", "创新性", 10.0, 1.0, write_step=False)]},
    )
    for code in ("U-1", "U-2", "U-3"):
        s.entries.append(Entry(code, f"案例{code}", "数字政府", "大数据", "shortlisted", True))
    s.votes = {"U-1": 120, "U-2": 60}
    s.sheets = {("exp01", "U-1"): {"e1": 8.0}, ("exp01", "U-2"): {"e1": 6.0}}
    s.sheets[("exp01", "U-3")] = {"e1": 10.0}
    return s


def _selected(request: pytest.FixtureRequest) -> list[Scenario]:
    """The scenarios the selected tests of this module need (so ``-k`` stays fast)."""
    items = [i for i in request.session.items if i.module is request.module]
    seeds: set[int] = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "seed" in callspec.params:
            seeds.add(callspec.params["seed"])
    scenarios = [build_scenario(seed) for seed in sorted(seeds)]
    if any(i.originalname == "test_an_entry_without_a_vote_tally" for i in items):
        scenarios.append(untallied_scenario())
    return scenarios


@pytest.fixture(scope="module")
def cli_standings(request: pytest.FixtureRequest, tmp_path_factory) -> dict[str, Outcome]:
    """The CLI's standings of every selected scenario by slug, in parallel shards (one DB each)."""
    root = tmp_path_factory.mktemp("crosscheck")
    scenarios = _selected(request)
    shards = [scenarios[i::WORKERS] for i in range(WORKERS)]
    outcomes: dict[str, Outcome] = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        jobs = [pool.submit(run_shard, root / f"db{i}", shard) for i, shard in enumerate(shards)]
        for job in jobs:
            outcomes.update(job.result())
    return outcomes


def _check(outcome: Outcome, expected: list[dict[str, Any]], what: str) -> None:
    if outcome.failure is not None:
        pytest.fail(outcome.failure)
    problems = differences(expected, outcome.records or [])
    assert not problems, f"{what}: CLI standings differ from SPEC §3:\n" + "\n".join(problems)


@pytest.mark.parametrize("seed", SEEDS)
def test_standings_match_the_independent_calculation(cli_standings, seed):
    scenario = build_scenario(seed)
    _check(cli_standings[scenario.slug], reference_standings(scenario), f"seed {seed}")


def test_an_entry_without_a_vote_tally(cli_standings):
    """docs/decisions.md: "A missing vote tally is a missing component (provisional)"."""
    scenario = untallied_scenario()
    _check(cli_standings[scenario.slug], reference_standings(scenario), scenario.slug)


def test_the_reference_reads_spec_3_as_written():
    """A campaign small enough to work out by hand: the reference itself is checked here."""
    s = Scenario(
        seed=0,
        slug="by-hand",
        categories=["A"],
        domains=["d"],
        vote_group="all",
        rank_group="all",
        tie_break=["expert", "jury", "votes"],
        award_quota=2,
        components=[
            Component("votes", "votes", 50.0),
            Component("expert", "panel", 50.0, aggregate="trimmed", trim=1, min_reviews=3),
        ],
        criteria={
            "expert": [
                Criterion("c1", "创新性", 10.0, 1.0, write_step=False),
                Criterion("c2", "成效性", 10.0, 0.5, write_step=True),
            ]
        },
    )
    for code in ("P", "Q", "R", "S", "T", "N"):
        s.entries.append(Entry(code, code, "A", "d", "shortlisted", code != "N"))
    s.votes = {"P": 200, "Q": 100, "R": 100, "S": 0, "T": 100, "N": 999}
    s.sheets = {
        ("exp01", "P"): {"c1": 10.0, "c2": 10.0},  # 100
        ("exp02", "P"): {"c1": 8.0, "c2": 7.5},  # 77.5, the only one left after trimming
        ("exp03", "P"): {"c1": 5.0, "c2": 5.0},  # 50
        ("exp01", "Q"): {"c1": 10.0, "c2": 10.0},  # n = 2 <= 2 * trim: mean of both
        ("exp02", "Q"): {"c1": 10.0, "c2": 10.0},
        ("exp01", "R"): {"c1": 10.0, "c2": 10.0},
        ("exp02", "R"): {"c1": 10.0, "c2": 10.0},
        ("exp01", "T"): {"c1": 10.0},  # incomplete: a draft, never counts
    }
    got = [
        (
            r["code"],
            r["components"],
            r["composite"],
            r["rank"],
            r["tie"],
            r["provisional"],
            r["award"],
            r["tie_at_cutline"],
        )
        for r in reference_standings(s)
    ]
    assert got == [
        ("P", {"votes": 100.0, "expert": 77.5}, 88.75, 1, False, False, True, False),
        ("Q", {"votes": 50.0, "expert": 100.0}, 75.0, 2, True, True, True, True),
        ("R", {"votes": 50.0, "expert": 100.0}, 75.0, 2, True, True, True, True),
        ("T", {"votes": 50.0, "expert": None}, 25.0, 4, False, True, False, False),
        ("S", {"votes": 0.0, "expert": None}, 0.0, 5, False, True, False, False),
    ]


def test_the_random_campaigns_reach_every_rule():
    """The generator must keep producing the corners this file exists to check."""
    seen: set[str] = set()
    groupings: set[tuple[str, str]] = set()
    features: set[str] = set()
    for seed in SEEDS:
        s = build_scenario(seed)
        reference_standings(s, seen)
        groupings |= {("vote", s.vote_group), ("rank", s.rank_group)}
        for comp in s.panels:
            features.add(f"{comp.aggregate}/{comp.normalise}")
            features.add(f"min_reviews {comp.min_reviews}")
        features |= {f"step {c.step:g}" for r in s.criteria.values() for c in r}
        features.add("panels only" if not s.component("votes") else "with votes")
        features.add(f"{len(s.components)} components")
        if any(c.weight == 0 for c in s.components):
            features.add("zero weight")
        features.add(
            "file shortlist"
            if s.shortlist is None
            else "--all-accepted"
            if s.shortlist == []
            else "--codes"
        )
    assert {(w, g) for w in ("vote", "rank") for g in GROUPINGS} <= groupings
    want = {
        "median",
        "trimmed (trim 1)",
        "trimmed (trim 2)",
        "trimmed fallback (trim 1)",
        "trimmed fallback (trim 2)",
        "zscore shift (< 3 totals)",
        "zscore shift (sd 0)",
        "zscore scaled",
        "zscore clipped",
        "draft (incomplete sheet)",
        "provisional (n < min_reviews)",
        "panel missing",
        "vote group without votes",
        "tie-break key skipped",
        "tie",
        "composite tie broken by tie-break",
        "3-way tie at the cut line",
        "missing and 0 tie on a tie-break key",
    }
    assert want <= seen, f"never reached: {sorted(want - seen)}"
    want_features = {
        "mean/none",
        "trimmed/zscore",
        "median/zscore",
        *(f"min_reviews {n}" for n in range(1, 6)),
        "step 1",
        "step 0.5",
        "panels only",
        "with votes",
        "1 components",
        "2 components",
        "3 components",
        "zero weight",
        "file shortlist",
        "--all-accepted",
        "--codes",
    }
    assert want_features <= features, f"never reached: {sorted(want_features - features)}"
