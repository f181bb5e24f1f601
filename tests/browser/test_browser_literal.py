"""Hostile text in every field is shown as typed: no outside request, no link, no markup.

A campaign's data comes from workbooks, forms and addresses that anybody may have typed.
Here every text field the product stores and shows (campaign, category, domain and group
names, criteria, entry codes, titles, applicants, summaries, file names, display names,
reasons, comments) holds Markdown and HTML that would fetch an outside image, show a
"sign in again" link or render bold, KaTeX and colour. Every page is visited as the
organiser and as each kind of reviewer, and the entry page also with such query parameters.
The browser must make no request to any host but the app's own, no data may become a
link, an image, bold text or a formula, and the hostile title must be readable as typed.
The module plants its own campaigns, so it runs on a server of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from browser_helpers import (
    DEMO_PASSWORD,
    RUN_TIMEOUT_MS,
    main_area,
    open_app,
    open_logged_in,
    screenshot,
    submit_login,
    wait_for_app,
)
from playwright.sync_api import Page, expect

HOSTILE = (
    "![x](http://evil.test/t.png) [Sign in again](http://evil.test/p) <b>B</b> "
    "<img src=http://evil.test/i.png> :red[R] $x$ **bold** https://evil.test/u"
)
"""Everything a renderer could make of data: an image, a link, HTML, colour, KaTeX, bold."""
SHORT = "![x](http://evil.test/t.png) [P](http://evil.test/p) <b>B</b> :red[R] $x$ **bold**"
"""The same within a 100-character column (names of categories, criteria, people)."""
SHORT_2 = "<img src=http://evil.test/i.png> https://evil.test/u **bold** <b>B</b>"
FILE_STEM = "![x](evil.test) <b>B <img src=evil.test> **bold** $x$ [P](evil.test)"
"""A file name may hold neither ``/`` nor ``:`` (scoring/assets.check_file_name): no ``</b>``."""
IMAGE_LITERAL = "![x](http://evil.test/t.png)"
TAG_LITERAL = "<b>B</b>"
TITLE = f"{HOSTILE} 智慧城市 1.5 A-01"
CODES = [
    IMAGE_LITERAL,  # an entry code may hold anything but a formula prefix, up to 40 characters
    "[P](http://evil.test/p)<b>B</b>",
    "<img src=http://evil.test/i.png>",
    ":red[R]$x$**b**https://evil.test/u",
    "A-01",
]
PASSWORD = DEMO_PASSWORD
USERS = [
    ("organiser", f"主办方 {SHORT}", "organiser"),
    ("expert1", f"专家一 {SHORT}", "expert"),
    ("expert2", f"专家二 {SHORT_2}", "expert"),
    ("media1", f"媒体一 {SHORT}", "media"),
]
LIVE = "evil-live"
FINAL = "evil-final"
PAGES = {
    "organiser": [
        "overview",
        "setup",
        "intake",
        "entry_edit",
        "entries",
        "materials",
        "assign",
        "progress",
        "standings",
        "meeting",
        "finalise",
        "announce",
        "users",
        "audit",
        "account",
    ],
    "reviewer": ["entries", "progress", "my_scores", "account"],
}
REVIEWER_CODES = {"expert1": CODES[:3], "media1": CODES[3:]}
"""Between them the reviewers see every entry's score sheet (the organiser sees every entry)."""
FINALISED_PAGES = ["entries", "standings", "meeting", "finalise", "announce", "audit"]
"""What a finalised campaign shows differently; set-up, users and account pages hold the
same data in both campaigns and are seen once."""
HOSTILE_QUERIES = [
    "entry?code="
    + quote("![x](http://evil.test/t.png) [Sign in again](http://evil.test/p)")
    + "&campaign="
    + quote("<b>x</b>"),
    "entry?code=" + quote("<img src=http://evil.test/i.png> **bold** $x$") + f"&campaign={LIVE}",
    "entries?campaign=" + quote("![x](http://evil.test/t.png) :red[R]"),
    "standings?campaign=" + quote("[Sign in again](http://evil.test/p) https://evil.test/u"),
]

# ---------------------------------------------------------------------------------------
# The data: planted through the same use cases the pages and the command line call.


def _campaign(slug: str, tag: str) -> dict:
    return {
        "slug": slug,
        "name": f"{HOSTILE} {tag}",
        "year": 2020,
        "categories": [f"{SHORT} 类别甲", f"{SHORT_2} 类别乙"],
        "domains": [f"{SHORT_2} 领域甲", f"{SHORT} 领域乙"],
        "vote_group": "category",
        "rank_group": "category",
        "tie_break": ["expert", "media", "votes"],
        "award_quota": 1,
        "min_images": 1,
        "max_entries_per_applicant_per_domain": 5,
        "components": [
            {"key": "votes", "kind": "votes", "weight": 40},
            {"key": "expert", "kind": "panel", "weight": 40, "min_reviews": 2},
            {"key": "media", "kind": "panel", "weight": 20, "min_reviews": 1},
        ],
        "criteria": [
            {
                "panel": "expert",
                "key": "innovation",
                "name": f"创新 {SHORT}",
                "max_points": 30,
                "description": f"说明 {HOSTILE}",
            },
            {
                "panel": "expert",
                "key": "effect",
                "name": f"成效 {SHORT_2}",
                "max_points": 20,
                "step": 0.5,
                "description": HOSTILE,
            },
            {
                "panel": "media",
                "key": "reach",
                "name": f"传播 {SHORT}",
                "max_points": 40,
                "step": 0.5,
                "description": HOSTILE,
            },
        ],
    }


# (code, category index, domain index, votes, expert points, media points)
# Category 甲: the first entry wins; the second is given the award by the committee.
# Category 乙: two entries tie at the cut line (decided), the third trails.
ENTRIES = [
    (CODES[0], 0, 0, 900, (28, 18), 36),
    (CODES[1], 0, 1, 500, (20, 12), 25),
    (CODES[2], 1, 0, 700, (25, 15), 30),
    (CODES[3], 1, 1, 700, (25, 15), 30),
    (CODES[4], 1, 0, 100, (10, 5), 10),
]


def _entry_rows(folder: Path, names: dict) -> list[dict[str, str]]:
    from scoring.demo.media import demo_image, demo_pdf

    rows = []
    for number, (code, category, domain, votes, _, _) in enumerate(ENTRIES, start=1):
        image, material = f"{FILE_STEM} {number}.jpg", f"{FILE_STEM} {number}.pdf"
        (folder / image).write_bytes(demo_image(f"E{number}", "案例", 1, 1))
        (folder / material).write_bytes(demo_pdf(f"E{number}", "案例", "单位", "简介"))
        rows.append(
            {
                "code": code,
                "title": f"{TITLE} {number}",
                "applicant": f"申报单位{number} {HOSTILE}",
                "recommender": f"推荐单位 {HOSTILE}",
                "category": names["categories"][category],
                "domain": names["domains"][domain],
                "summary": f"简介 {HOSTILE}\n\n第二段 {HOSTILE}",
                "votes": str(votes),
                "images": image,
                "materials": material,
                "status": "accepted",
                "kind": "case",
            }
        )
    return rows


def _plant_campaign(session, store, folder: Path, slug: str, tag: str, finalise: bool) -> None:
    import csv

    from sqlmodel import select

    from scoring.importers.entries import apply_entries_import, plan_entries_import
    from scoring.permissions import Actor
    from scoring.services import finalise as final
    from scoring.services.accounts import actor_for, find_account
    from scoring.services.assignments import assign
    from scoring.services.campaigns import create_campaign
    from scoring.services.entries import shortlist
    from scoring.services.meeting import open_rounds
    from scoring.services.review import declare_conflict
    from scoring.services.sheets import write_sheet
    from scoring.storage.models import Entry

    cli = Actor.command_line()
    organiser = actor_for(session, "organiser")
    data = _campaign(slug, tag)
    campaign = create_campaign(session, cli, data)
    rows = _entry_rows(folder, data)
    sheet = folder / f"{slug}.csv"
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plan = plan_entries_import(session, cli, campaign, sheet, folder, store=store)
    plan.report.raise_if_invalid("entries")
    apply_entries_import(session, cli, plan)
    shortlist(session, cli, campaign, all_accepted=True)
    entries = {
        e.code: e for e in session.exec(select(Entry).where(Entry.campaign_id == campaign.id))
    }
    comment = f"评语 {HOSTILE}"
    for code, _, _, _, (innovation, effect), reach in ENTRIES:
        entry = entries[code]
        for username in ("expert1", "expert2"):
            reviewer = find_account(session, username)
            assign(session, cli, entry=entry, reviewer=reviewer)
            if code == CODES[4] and username == "expert2":
                continue  # declared a conflict below: one expert review only, provisional
            write_sheet(
                session,
                cli,
                reviewer=reviewer,
                entry=entry,
                points={"innovation": innovation, "effect": effect},
                comment=comment,
                submit=True,
            )
        media = find_account(session, "media1")
        assign(session, cli, entry=entry, reviewer=media)
        write_sheet(
            session,
            cli,
            reviewer=media,
            entry=entry,
            points={"reach": reach},
            comment=comment,
            submit=True,
        )
    declare_conflict(session, actor_for(session, "expert2"), campaign, CODES[4], f"回避 {HOSTILE}")
    open_rounds(session, organiser, campaign, [CODES[2]])
    groups = data["categories"]
    final.set_group_quota(session, organiser, campaign, groups[0], 1, f"名额 {HOSTILE}")
    final.set_override(session, organiser, campaign, CODES[1], True, f"委员会决定 {HOSTILE}")
    for code in (CODES[2], CODES[3]):
        final.decide_tie(session, organiser, campaign, code, code == CODES[2], f"并列 {HOSTILE}")
    for panel in ("expert", "media"):
        final.set_panel_lock(session, organiser, campaign, panel, True, f"锁定 {HOSTILE}")
    if finalise:
        pending = final.pending_decisions(session, organiser, campaign)
        provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
        acknowledgements = {code: f"确认 {HOSTILE}" for code in provisional}
        final.finalise(session, organiser, campaign, acknowledgements)
        final.unfinalise(session, organiser, campaign, f"撤销 {HOSTILE}")
        final.finalise(session, organiser, campaign, acknowledgements)


def plant(data_dir: Path) -> None:
    """Accounts with hostile display names, one live and one finalised hostile campaign."""
    import tempfile

    from scoring import context
    from scoring.permissions import Actor
    from scoring.services.accounts import create_account
    from scoring.settings import Settings

    settings = Settings(data_dir=data_dir, database_url=None)
    store = context.asset_store(settings)

    def work(session) -> None:
        for username, name, role in USERS:
            create_account(
                session,
                Actor.command_line(),
                username=username,
                display_name=name,
                role=role,
                password=PASSWORD,
            )
        with tempfile.TemporaryDirectory(prefix="reviewdesk-literal-") as tmp:
            _plant_campaign(session, store, Path(tmp), LIVE, "进行中", finalise=False)
            _plant_campaign(session, store, Path(tmp), FINAL, "已定稿", finalise=True)

    context.database(settings).write(work)


# ---------------------------------------------------------------------------------------
# The server, the browser, and what every page is checked for.


class Visit:
    """One signed-in browser: every request it makes, and what each page showed wrongly.

    Findings are collected over the whole walk rather than failing at the first, so that
    one run names every page and field that still renders data.
    """

    def __init__(self, browser, server, username: str) -> None:
        self.server = server
        self.origin = urlsplit(server.base_url).netloc
        self.where = "login"
        self.requests: list[tuple[str, str]] = []
        self.findings: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        self.context.set_default_timeout(RUN_TIMEOUT_MS)
        self.context.on("request", lambda request: self.requests.append((self.where, request.url)))
        self.page = self.context.new_page()
        open_app(self.page, server.base_url)
        submit_login(self.page, username, PASSWORD)
        self.page.get_by_test_id("stSidebarNav").wait_for(state="attached")
        wait_for_app(self.page)

    def open(self, path: str, label: str | None = None) -> Page:
        self.where = label or path
        open_logged_in(self.page, self.server.base_url, path)
        self.page.wait_for_timeout(300)  # images, charts and components load after the run
        wait_for_app(self.page)
        self.check(self.where)
        return self.page

    def go(self, name: str) -> Page:
        """Another page through the sidebar: one run, and the session keeps the campaign."""
        link = self.page.locator(f"a[data-testid='stSidebarNavLink'][href$='/{name}']")
        if not link.count():
            return self.open(name)
        self.where = name
        link.click()
        wait_for_app(self.page)
        self.page.wait_for_timeout(300)
        wait_for_app(self.page)
        self.check(f"{name} ({self.campaign()})")
        return self.page

    def campaign(self) -> str:
        return self.page.evaluate("new URL(location.href).searchParams.get('campaign')") or ""

    def check(self, where: str) -> None:
        """Record what the page shows that data could only have made (see LEAKS_JS)."""
        self.where = where
        for leak in self.page.evaluate(LEAKS_JS):
            self.findings.append(f"{where}: {leak}")

    def expect_literal(self, where: str, text: str | None = None) -> None:
        """The hostile title must be readable as typed, without escaping backslashes."""
        text = shown_text(self.page) if text is None else _as_read(text)
        for literal in (IMAGE_LITERAL, TAG_LITERAL):
            if literal not in text:
                self.findings.append(f"{where}: the title's {literal!r} is not shown as typed")
        for slashed in ("\\[", "\\*", "\\<", "\\$"):
            if slashed in text:
                self.findings.append(f"{where}: an escaping backslash is visible ({slashed!r})")

    def finish(self) -> None:
        """Fail with every outside request (and the page that made it) and every finding.

        Each kind of finding is listed once, with the pages it was seen on, so that the
        message reads as a to-do list.
        """
        outside = sorted({(w, u) for w, u in self.requests if _host(u) not in ("", self.origin)})
        where_seen: dict[str, list[str]] = {}
        for url_where, url in outside:
            where_seen.setdefault(f"request to another host: {url}", []).append(url_where)
        for finding in self.findings:
            where, _, what = finding.partition(": ")
            where_seen.setdefault(what, []).append(where)
        log = self.server.log.read_text("utf-8", errors="replace")
        problems = [
            f"{what}\n      on {len(set(pages))} page(s): {', '.join(dict.fromkeys(pages))}"
            for what, pages in where_seen.items()
        ]
        if "Traceback" in log:
            problems.append(f"the app raised:\n{log[-3000:]}")
        assert not problems, f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)

    def close(self) -> None:
        self.context.close()


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc if parts.scheme in ("http", "https", "ws", "wss") else ""


AUTOLINK = "bare address made a link:"
"""GitHub-flavoured Markdown links an address it finds in text, escaped or not."""
LEAKS_JS = (
    """
() => {
  const AUTOLINK = '"""
    + AUTOLINK
    + """';
  const leaks = [];
  const say = (what, el) => leaks.push(what + ': ' + (el.outerHTML || '').slice(0, 120));
  const outside = (value) => value.split(/[\\s,]+/).some((part) => {
    try { return new URL(part, location.href).host !== location.host; } catch (e) { return false; }
  });
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (!attr.value.includes('evil.test')) continue;
      if (/(^|:)(href|src|srcset|poster|data|action|formaction)$/.test(name)
          ? outside(attr.value) : name === 'style' && attr.value.includes('url(')) {
        const bare = el.tagName === 'A' && el.textContent.includes('evil.test');
        say((bare ? AUTOLINK + ' ' : '') + name + ' to evil.test', el);
      }
    }
  }
  const own = new Set(['B', 'bold', 'R', 'b']);
  for (const el of document.querySelectorAll('b, strong')) {
    if (own.has(el.textContent.trim())) say('markup rendered bold', el);
  }
  for (const el of document.querySelectorAll('.katex, .katex-display, math')) {
    if (el.textContent.includes('x')) say('KaTeX formula rendered', el);
  }
  for (const el of document.querySelectorAll('span[class*="colored"], span[style*="color"]')) {
    if (el.textContent.trim() === 'R') say('colour rendered', el);
  }
  for (const el of document.querySelectorAll('.js-plotly-plot tspan, .js-plotly-plot text')) {
    const weight = (el.getAttribute('style') || '') + ' ' + (el.getAttribute('font-weight') || '');
    if (el.textContent.trim() === 'B' && /bold|700/.test(weight)) say('plotly rendered <b>', el);
  }
  return leaks;
}
"""
)


def shown_text(page: Page) -> str:
    """Everything a reader sees of the main area: its text, the grid cells, the chart labels."""
    area = main_area(page)
    texts = [area.inner_text()]
    texts += area.locator("[role='gridcell'], [role='columnheader']").all_text_contents()
    texts += area.locator(".js-plotly-plot").all_text_contents()
    return _as_read("\n".join(texts))


def _as_read(text: str) -> str:
    """Text as a reader sees it: the invisible word joiners that keep an address from
    becoming a link (scoring.literal) are not there for the eye."""
    return text.replace("\u2060", "")


@pytest.fixture(scope="module")
def visits(browser, planted_server) -> Iterator[dict[str, Visit]]:
    opened: dict[str, Visit] = {}
    try:
        for username in ("organiser", "expert1", "media1"):
            opened[username] = Visit(browser, planted_server, username)
        yield opened
    finally:
        for visit in opened.values():
            visit.close()


@pytest.mark.timeout(480)
def test_the_organiser_sees_every_field_as_typed_on_every_page(visits):
    visit = visits["organiser"]
    for slug in (LIVE, FINAL):
        visit.open(f"overview?campaign={slug}")
        for name in PAGES["organiser"][1:] if slug == LIVE else FINALISED_PAGES:
            page = visit.go(name)
            if name == "standings":
                visit.expect_literal(f"standings {slug}")
                screenshot(page, f"e2e-literal-standings-{slug}")
                if slug == LIVE:
                    _walk_the_charts(visit)
            if name == "finalise" and slug == LIVE:
                page.get_by_role("button", name="定稿…").click()
                wait_for_app(page)
                dialog = page.get_by_role("dialog")
                expect(dialog).to_be_visible()
                visit.check("finalise dialog")
                visit.expect_literal("finalise dialog", dialog.inner_text())
                screenshot(page, "e2e-literal-finalise-dialog")
                page.keyboard.press("Escape")  # leave without finalising
                expect(dialog).to_have_count(0)
                wait_for_app(page)
        for code in CODES if slug == LIVE else CODES[:1]:
            page = visit.open(f"entry?code={quote(code)}&campaign={slug}", f"entry {code} ({slug})")
            visit.expect_literal(visit.where)
        screenshot(page, f"e2e-literal-entry-{slug}")
    _walk_the_announcement(visit)
    for query in HOSTILE_QUERIES:
        visit.open(query, f"address {query}")
    visit.finish()


def _walk_the_charts(visit: Visit) -> None:
    """Every chart of the standings: plotly draws each label as SVG text of its own."""
    page = visit.page
    pick = main_area(page).get_by_test_id("stButtonGroup")
    pick.get_by_text("图表", exact=True).click()
    wait_for_app(page)
    labels: list[str] = []
    for index, name in enumerate(["综合得分", "得分构成", "评分分布", "评审诊断", "权重稳定性"]):
        pick.get_by_text(name, exact=True).click()
        wait_for_app(page)
        page.wait_for_timeout(700)  # plotly lays out a chart once it is drawn
        visit.check(f"standings chart {index + 1}")
        labels += main_area(page).locator(".js-plotly-plot").all_text_contents()
        if index == 0:
            screenshot(page, "e2e-literal-standings-chart")
    assert labels, "the standings show no plotly chart"
    visit.expect_literal("standings charts", "\n".join(labels))
    pick.get_by_text("排名表", exact=True).click()
    wait_for_app(page)


def _walk_the_announcement(visit: Visit) -> None:
    page = visit.open(f"announce?campaign={FINAL}")
    page.set_viewport_size({"width": 1600, "height": 1000})
    main_area(page).get_by_role("button", name="开始发布").click()
    wait_for_app(page)
    page.mouse.move(800, 500)
    seen = []
    for step in range(12):
        visit.check(f"announce step {step}")
        seen.append(" | ".join(main_area(page).locator("[class^='rd-']").all_inner_texts()))
        if step == 2:
            screenshot(page, "e2e-literal-announce-step")
        if main_area(page).locator(".rd-seal").count():
            break
        page.keyboard.press("ArrowRight")
        wait_for_app(page)
        expect(page.locator("[data-stale='true']")).to_have_count(0)
        wait_for_app(page)
    visit.expect_literal("announcement", "\n".join(seen))
    page.keyboard.press("Escape")
    wait_for_app(page)
    page.set_viewport_size({"width": 1400, "height": 900})


@pytest.mark.timeout(300)
@pytest.mark.parametrize("username", ["expert1", "media1"])
def test_a_reviewer_sees_every_field_as_typed_on_every_page(visits, username):
    visit = visits[username]
    for slug in (LIVE, FINAL):
        visit.open(f"entries?campaign={slug}")
        for name in PAGES["reviewer"][1:] if slug == LIVE else ["progress"]:
            visit.go(name)
        for code in REVIEWER_CODES[username] if slug == LIVE else CODES[:1]:
            page = visit.open(f"entry?code={quote(code)}&campaign={slug}", f"entry {code} ({slug})")
            visit.expect_literal(visit.where)
    screenshot(page, f"e2e-literal-entry-{username}")
    query = HOSTILE_QUERIES[0 if username == "expert1" else 1]
    visit.open(query, f"address {query}")
    visit.finish()
