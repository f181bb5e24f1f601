"""Several app servers behind nginx, as docs/deploy/nginx.conf deploys them.

Two ``streamlit run`` servers on one fresh PostgreSQL database and one data folder, behind
nginx started from the checked-in configuration (rendered into a temp folder with its own
ports, logs and pid file, so it needs no root and leaves /etc/nginx alone). nginx logs which
server answered each request, keyed by the browser's routing cookie: every test proves that
the two browsers it compares really were served by different servers.

No cookie key and no vote key are configured: both servers start at once and must agree on
the ones they generate in the shared data folder, or a login made on one would not be valid
on the other, and a voter's IP would hash differently on each (one vote per server a day).
nginx is the trusted proxy (``REVIEWDESK_TRUSTED_PROXIES``), as the README deploys it.

Needs nginx, PostgreSQL (``REVIEWDESK_TEST_PG_URL``) and Debian's Chromium; without them the
module is skipped with the reason, and under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "browser"))  # the browser tests' helpers

from browser_helpers import (  # noqa: E402
    RUN_TIMEOUT_MS,
    alerts,
    criterion_input,
    go_to,
    login,
    login_form,
    main_area,
    metric,
    nav_labels,
    open_app,
    open_logged_in,
    screenshot,
    set_number,
    submit_login,
    titles,
    wait_for_app,
)
from playwright.sync_api import BrowserContext, Page, expect  # noqa: E402
from test_browser_intake import (  # noqa: E402
    CAMPAIGN,
    GOOD_ROWS,
    SLUG,
    choose_campaign,
    confirm_good_import,
    create_campaign,
    go,
    import_entries,
    write_assets,
    write_csv,
)
from test_browser_intake import campaign_toml as intake_campaign_toml  # noqa: E402

from tests.chromium import CHROMIUM  # noqa: E402
from tests.servers import (  # noqa: E402
    app_env,
    free_port,
    init_demo,
    start_streamlit,
    stop,
    wait_healthy,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

NGINX_CONF = REPO / "docs" / "deploy" / "nginx.conf"
ROUTE_COOKIE = "reviewdesk_server"
HEALTH_TIMEOUT_S = 90
REFRESH_BUDGET_MS = 20_000  # the standings fragment re-runs every 5 s by default

FAILED = "用户名或密码错误。"
LOCKED = "该账号因连续 5 次密码错误已被锁定 15 分钟，请稍后再试或联系组织者重置密码。"
MEDIA_WRITER = "media2"
MEDIA_ENTRY = "QD2020-036"  # still to score for media2 in the demo
MEDIA_POINTS = {"传播价值": "36.5", "社会反响": "25", "亮点特色": "27.5"}
MEDIA_TOTAL = "89.00"
DEMO_SLUG = "qd-2020"
HALL_ENTRY = "QD2020-001"  # shortlisted in the demo: shown in the hall


def skip_or_fail(reason: str) -> None:
    """As tests/conftest.py: skip on a newcomer's machine, fail under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this test must run)", pytrace=False)
    pytest.skip(reason)


def render_nginx_conf(root: Path, listen: int, upstreams: list[str]) -> Path:
    """The checked-in site configuration with test ports, inside a main file of the test's own.

    Only the upstream servers and the listen port change; the log format adds the route
    and the server that answered, which is what the tests read.
    """
    site = NGINX_CONF.read_text("utf-8")
    servers = re.findall(r"^( *)server 127\.0\.0\.1:\d+( [^;]*)?;$", site, flags=re.M)
    assert len(servers) == 2, "docs/deploy/nginx.conf should list two example app servers"
    indent, options = servers[0]
    lines = "".join(f"{indent}server {up}{options};\n" for up in upstreams)
    site, blocks = re.subn(
        r"(^ *server 127\.0\.0\.1:\d+[^;]*;\n)+", lambda _: lines, site, flags=re.M
    )
    assert blocks == 1
    site, listens = re.subn(r"^( *)listen 80;$", rf"\1listen 127.0.0.1:{listen};", site, flags=re.M)
    assert listens == 1
    (root / "site.conf").write_text(site, encoding="utf-8")
    temp = {name: root / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    main = f"""
daemon off;
master_process on;
worker_processes 1;
{"user root;" if os.geteuid() == 0 else ""}
pid {root / "nginx.pid"};
error_log {root / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {root / "site.conf"};
    log_format routes '$reviewdesk_route $upstream_addr $status "$request"';
    access_log {root / "access.log"} routes;
}}
"""
    conf = root / "nginx.conf"
    conf.write_text(main, encoding="utf-8")
    return conf


@dataclass(frozen=True)
class Cluster:
    url: str  # nginx
    upstreams: tuple[str, str]  # host:port of the two app servers
    access_log: Path
    server_logs: tuple[Path, Path]
    database_url: str

    def served(self, route: str) -> list[tuple[str, str]]:
        """(server, request line) of every request nginx logged for this routing cookie."""
        seen = []
        for line in self.access_log.read_text("utf-8").splitlines():
            found = re.match(r'^(\S+) (\S+) \d+ "(.*)"$', line)
            if found and found.group(1) == route:
                seen.append((found.group(2), found.group(3)))
        return seen

    def wait_for_stream(self, route: str, timeout_s: float = 10) -> bool:
        """True once nginx has logged the route's WebSocket (it logs one when it closes)."""
        deadline = time.monotonic() + timeout_s
        while not any("/_stcore/stream" in request for _, request in self.served(route)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)
        return True

    def logged_server(self, route: str, timeout_s: float = 5) -> str:
        """The server of the route's last logged request; nginx writes its log line just
        after the reply, so a reader right after the reply may find it not yet there."""
        deadline = time.monotonic() + timeout_s
        while not (served := self.served(route)):
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx logged no request for route {route}")
            time.sleep(0.05)
        return served[-1][0]

    def route_to(self, upstream: str) -> str:
        """A routing cookie value that nginx's consistent hash sends to ``upstream``."""
        for attempt in range(200):
            route = f"probe-{attempt}"
            request = urllib.request.Request(
                f"{self.url}/_stcore/health", headers={"Cookie": f"{ROUTE_COOKIE}={route}"}
            )
            with urllib.request.urlopen(request, timeout=5):
                pass
            if self.logged_server(route) == upstream:
                return route
        raise AssertionError(f"no route to {upstream} in 200 tries")


def server_of(cluster: Cluster, route: str) -> str:
    """The one server that answered every request of this route (the session is sticky)."""
    servers = {server for server, _ in cluster.served(route)}
    assert len(servers) == 1, f"route {route} was served by {servers}"
    return servers.pop()


@pytest.fixture(scope="module")
def cluster(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} not found: `apt-get install chromium` to run this test")
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if nginx is None:
        skip_or_fail("nginx not found: `apt-get install nginx` to run the several-servers test")

    # A database of this module's own: the servers keep connections to it all along.
    base = make_url(pg_server_url)
    name = f"{base.database}_servers_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = base.set(database=name).render_as_string(hide_password=False)

    root = tmp_path_factory.mktemp("several-servers")
    data_dir = root / "data"
    env = app_env(data_dir, database_url)
    env.pop("REVIEWDESK_COOKIE_KEY", None)  # the servers must agree on a generated one
    env.pop("REVIEWDESK_VOTE_KEY", None)  # likewise
    env["REVIEWDESK_TRUSTED_PROXIES"] = "127.0.0.1/32"  # nginx, on this host
    processes: list[subprocess.Popen] = []
    try:
        init_demo(env)
        assert not (data_dir / ".cookie_key").exists()
        _open_the_hall(database_url)

        ports = (free_port(), free_port())
        logs = (root / "server-a.log", root / "server-b.log")
        processes += [
            start_streamlit(port, env, log) for port, log in zip(ports, logs, strict=True)
        ]
        for port, process, log in zip(ports, processes, logs, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", process, log, HEALTH_TIMEOUT_S)

        listen = free_port()
        upstreams = (f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}")
        nginx_root = root / "nginx"
        nginx_root.mkdir()
        conf = render_nginx_conf(nginx_root, listen, list(upstreams))
        command = [nginx, "-p", str(nginx_root), "-c", str(conf)]
        command += ["-e", str(nginx_root / "error.log")]
        checked = subprocess.run(
            [*command, "-t"],
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stderr
        nginx_log = nginx_root / "nginx.out"
        with nginx_log.open("w", encoding="utf-8") as out:
            processes.append(
                subprocess.Popen(
                    command,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_healthy(
            f"http://127.0.0.1:{listen}/_stcore/health", processes[-1], nginx_log, HEALTH_TIMEOUT_S
        )
        yield Cluster(
            url=f"http://127.0.0.1:{listen}",
            upstreams=upstreams,
            access_log=nginx_root / "access.log",
            server_logs=logs,
            database_url=database_url,
        )
    finally:
        stop(reversed(processes))
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _open_the_hall(database_url: str) -> None:
    """The demo campaign's hall on and voting open, as an organiser sets it (SPEC §8)."""
    from scoring.storage.database import Database
    from scoring.storage.models import Campaign, utcnow

    def open_hall(session) -> None:
        campaign = session.exec(select(Campaign).where(Campaign.slug == DEMO_SLUG)).one()
        campaign.public_gallery = True
        campaign.vote_opens_at = utcnow() - timedelta(days=1)
        campaign.vote_closes_at = utcnow() + timedelta(days=30)
        session.add(campaign)

    database = Database(database_url)
    try:
        database.write(open_hall)
    finally:
        database.dispose()


@pytest.fixture(autouse=True)
def no_app_errors(cluster: Cluster) -> Iterator[None]:
    """An exception on either server fails the test, even one a later rerun painted over."""
    starts = [log.stat().st_size for log in cluster.server_logs]
    yield
    for log, start in zip(cluster.server_logs, starts, strict=True):
        with log.open("rb") as handle:
            handle.seek(start)
            during = handle.read().decode("utf-8", errors="replace")
        if "Uncaught app execution" in during or "Traceback" in during:
            pytest.fail(f"{log.name} raised during this test:\n{during[-4000:]}", pytrace=False)


@contextlib.contextmanager
def client(
    browser, cluster: Cluster, route: str | None = None, forwarded_for: str | None = None
) -> Iterator[Page]:
    """A fresh browser (no cookies); pinned to one server when ``route`` is given.

    ``forwarded_for`` stands for the browser's own internet address: every browser here
    connects from 127.0.0.1, so it sends the address that an outer proxy would have put in
    ``X-Forwarded-For``; nginx appends 127.0.0.1, and the app reads past it.
    """
    context: BrowserContext = browser.new_context(
        viewport={"width": 1400, "height": 900},
        locale="zh-CN",
        extra_http_headers={"X-Forwarded-For": forwarded_for} if forwarded_for else None,
    )
    context.set_default_timeout(RUN_TIMEOUT_MS)
    if route is not None:
        context.add_cookies([{"name": ROUTE_COOKIE, "value": route, "url": cluster.url}])
    try:
        yield context.new_page()
    finally:
        context.close()


def route_of(page: Page) -> str:
    """The routing cookie nginx gave this browser."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert ROUTE_COOKIE in cookies, "nginx set no routing cookie"
    return cookies[ROUTE_COOKIE]


def other(cluster: Cluster, upstream: str) -> str:
    return next(u for u in cluster.upstreams if u != upstream)


def score_sheet(page: Page):
    return (
        main_area(page)
        .get_by_test_id("stColumn")
        .filter(has=page.get_by_role("heading", name="媒体评测评分表"))
    )


@pytest.mark.timeout(600)
def test_a_submission_on_one_server_shows_in_the_standings_on_the_other(browser, cluster):
    with client(browser, cluster) as organiser:
        # The organiser's browser is routed the way every browser is: by nginx's cookie.
        open_app(organiser, cluster.url)
        route = route_of(organiser)
        login(organiser, "organiser")
        go_to(organiser, "实时排名")
        expect(titles(organiser)).to_have_text(["实时排名"])
        coverage = (
            main_area(organiser)
            .get_by_test_id("stMetricLabel")
            .filter(has_text=re.compile(r"^媒体评测：已评 \d+ 份$"))
        )
        expect(coverage).to_have_count(1)
        reviews = int(re.search(r"已评 (\d+) 份", coverage.inner_text()).group(1))
        organiser_server = server_of(cluster, route)
        reviewer_route = cluster.route_to(other(cluster, organiser_server))

        with client(browser, cluster, reviewer_route) as reviewer:
            open_app(reviewer, cluster.url)
            login(reviewer, MEDIA_WRITER)
            open_logged_in(reviewer, cluster.url, f"entry?code={MEDIA_ENTRY}")
            sheet = score_sheet(reviewer)
            for criterion, points in MEDIA_POINTS.items():
                set_number(reviewer, criterion_input(sheet, criterion), points)
            expect(
                metric(sheet, "合计（折算百分制）").get_by_test_id("stMetricValue")
            ).to_have_text(MEDIA_TOTAL)
            sheet.get_by_role("button", name="提交评分").click()
            wait_for_app(reviewer)
            reviewer.locator("[class*='st-key-confirm_box_']").get_by_role(
                "button", name="确认提交"
            ).click()
            wait_for_app(reviewer)
            submitted_at = time.monotonic()
            expect(score_sheet(reviewer).get_by_text("已提交", exact=True)).to_be_visible()
            screenshot(reviewer, "several-servers-submitted")

        # No click on the organiser's page: its standings refresh by themselves.
        expect(coverage).to_have_text(f"媒体评测：已评 {reviews + 1} 份", timeout=REFRESH_BUDGET_MS)
        waited = time.monotonic() - submitted_at
        print(f"the other server's standings showed it {waited:.1f} s after the submission")
        screenshot(organiser, "several-servers-standings")

    # Closing the browsers closed their WebSockets, which nginx logs only now.
    assert server_of(cluster, route) == organiser_server
    assert server_of(cluster, reviewer_route) == other(cluster, organiser_server)
    for each in (route, reviewer_route):
        assert cluster.wait_for_stream(each), cluster.served(each)


def test_failed_logins_on_both_servers_count_towards_one_lockout(browser, cluster):
    routes = [cluster.route_to(upstream) for upstream in cluster.upstreams]
    with (
        client(browser, cluster, routes[0]) as first,
        client(browser, cluster, routes[1]) as second,
    ):
        open_app(first, cluster.url)
        open_app(second, cluster.url)
        # Four failures, two on each server: not yet locked.
        for attempt in range(1, 5):
            page = (first, second)[attempt % 2]
            submit_login(page, "media3", f"wrong-password-{attempt}")
            expect(alerts(page)).to_have_text([FAILED])
        submit_login(first, "media3", "wrong-password-5")
        expect(alerts(first)).to_have_text([LOCKED])
        # The other server refuses even the right password.
        submit_login(second, "media3", "review2020")
        expect(alerts(second)).to_have_text([LOCKED])
        expect(login_form(second)).to_be_visible()
        expect(nav_labels(second)).to_have_count(0)
        screenshot(second, "several-servers-locked")
    assert [server_of(cluster, route) for route in routes] == list(cluster.upstreams)


@pytest.mark.timeout(600)
def test_images_imported_through_one_server_are_shown_by_the_other(browser, cluster, tmp_path):
    importer, shower = cluster.upstreams
    toml = tmp_path / "campaign.toml"
    toml.write_text(intake_campaign_toml(SLUG, CAMPAIGN), encoding="utf-8")
    entries_csv = write_csv(tmp_path / "entries.csv", GOOD_ROWS)
    assets = write_assets(tmp_path / "images.zip")
    to_importer, to_shower = cluster.route_to(importer), cluster.route_to(shower)

    with client(browser, cluster, to_importer) as page:
        open_app(page, cluster.url)
        login(page, "organiser")
        create_campaign(page, toml, SLUG, CAMPAIGN)
        go(page, "作品导入与审核")
        choose_campaign(page)
        confirm_good_import(page, import_entries(page, entries_csv, assets))
        assert server_of(cluster, to_importer) == importer

        # The same browser, moved to the other server (as when its server goes down): the
        # login cookie is still valid there, and the images come from the shared files.
        page.context.add_cookies([{"name": ROUTE_COOKIE, "value": to_shower, "url": cluster.url}])
        media = []
        page.on("response", lambda r: media.append(r.status) if "/media/" in r.url else None)
        open_logged_in(page, cluster.url)
        go(page, "作品库")
        choose_campaign(page)
        count = f"显示 {len(GOOD_ROWS)} / {len(GOOD_ROWS)} 件"
        expect(main_area(page).get_by_text(count)).to_be_visible()
        images = main_area(page).get_by_test_id("stImage").locator("img")
        expect(images).to_have_count(len(GOOD_ROWS))
        for image in images.all():
            image.scroll_into_view_if_needed()
            expect(image).to_have_js_property("complete", True)
            assert image.evaluate("img => img.naturalWidth") > 0
        screenshot(page, "several-servers-gallery")
        assert media and set(media) == {200}, media

    assert server_of(cluster, to_shower) == shower
    assert any("/media/" in request for _, request in cluster.served(to_shower))


VOTE = "为本作品投票"


def _vote(page: Page, cluster: Cluster, code: str) -> None:
    open_app(page, cluster.url, f"hall?campaign={DEMO_SLUG}&entry={code}")
    page.wait_for_timeout(1000)  # the cookie component's own rerun comes after the load
    wait_for_app(page)
    main_area(page).get_by_role("button", name=VOTE).click()
    wait_for_app(page)


def _public_votes(database_url: str) -> list[tuple[str, str]]:
    from scoring.storage.database import Database
    from scoring.storage.models import PublicVote

    database = Database(database_url)
    try:
        with database.read() as session:
            return [
                tuple(r)
                for r in session.exec(select(PublicVote.client_key, PublicVote.network_key)).all()
            ]
    finally:
        database.dispose()


@pytest.mark.timeout(600)
def test_one_vote_per_ip_a_day_holds_across_servers_behind_nginx(browser, cluster):
    """The voter's IP is nginx's X-Forwarded-For, hashed alike on both servers."""
    first, second = cluster.upstreams
    to_first, to_second = cluster.route_to(first), cluster.route_to(second)
    before = len(_public_votes(cluster.database_url))

    with client(browser, cluster, to_first, forwarded_for="203.0.113.5") as voter:
        _vote(voter, cluster, HALL_ENTRY)
        expect(main_area(voter).get_by_text("投票成功")).to_be_visible()
    assert server_of(cluster, to_first) == first

    # The same address on the other server: already voted today, whichever server it reaches.
    with client(browser, cluster, to_second, forwarded_for="203.0.113.5") as again:
        open_app(again, cluster.url, f"hall?campaign={DEMO_SLUG}&entry={HALL_ENTRY}")
        again.wait_for_timeout(1000)
        wait_for_app(again)
        expect(main_area(again).get_by_text("您今天已为本作品投票")).to_be_visible()
        expect(main_area(again).get_by_role("button", name=VOTE)).to_be_disabled()
        # A neighbour in the same office network has an address of its own: counted.
    with client(browser, cluster, to_second, forwarded_for="203.0.113.6") as neighbour:
        _vote(neighbour, cluster, HALL_ENTRY)
        expect(main_area(neighbour).get_by_text("投票成功")).to_be_visible()
    assert server_of(cluster, to_second) == second

    votes = _public_votes(cluster.database_url)[before:]
    assert len(votes) == 2, votes  # not nginx's one address for everybody
    assert len({client_key for client_key, _ in votes}) == 2
    assert len({network for _, network in votes}) == 1  # one /24: the vote watch sees it
