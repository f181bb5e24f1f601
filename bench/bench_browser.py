"""Browser benchmark of what users feel, against a bare Streamlit app timed in the same run.

Starts ``streamlit run app.py`` (the way a user does, same flags as tests/browser) on the
demo and on a generated campaign of SPEC §9's size (bench/big_campaign.py: 5,000
shortlisted entries, 400,000 scores), and beside them a bare Streamlit app written into a
temporary folder at run time (a form with a number input and its submit button, a button,
and a second page), started with the same streamlit, flags and ``.streamlit/config.toml``.
Debian's Chromium, driven by Playwright, then times:

* full loads (login page; the bare app's first page) from the navigation's start;
* clicks (login → first page, a page switch, opening an entry, save draft, submit, the
  standings) from the click itself.

Every time is taken inside the page (``performance.now()``, checked every 10 ms),
so Python's polling adds nothing. Two figures per repetition: *shown*, the first frame in
which the awaited text is on screen (the confirmation toast, the new page's title, the
bare app's new text), and *done*, the first frame after that in which the script run has
finished (the app reports ``notRunning`` and no skeleton is left). Each measure prints its
median, 95th percentile and its ratio to the bare app's equivalent: a full load against
the bare full load, a page switch against a bare page switch, a click that reruns a page
against a bare button rerun (a login against the bare form's submit). The standings'
idle refresh is the length of its timed reruns, read from the app's run state.

Then many reviewers on one server: N reviewer sessions (20, and 50 where asked) are
opened on the large campaign's server, each on an entry of its own; the server's resident
memory before and after gives memory per session, and all N press "保存草稿" at once,
a few rounds, for the save time under that load.

Figures only, no assertions; the load average is printed so that the figures can be
judged (the development machine is shared). Run: ``python bench/bench_browser.py``
(``--quick`` for a short check: 3 repetitions, 5 sessions).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "browser"))

import big_campaign  # noqa: E402
from browser_helpers import (  # noqa: E402
    DEMO_PASSWORD,
    LOGIN_LABELS,
    login,
    login_form,
    main_area,
    open_app,
    open_logged_in,
    wait_for_app,
)
from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
    sync_playwright,
)
from playwright.sync_api import (  # noqa: E402
    Error as PlaywrightError,
)

from tests.chromium import CHROMIUM  # noqa: E402
from tests.chromium import LAUNCH_ARGS as TEST_LAUNCH_ARGS  # noqa: E402
from tests.servers import app_env, free_port, start_streamlit, stop, wait_healthy  # noqa: E402

LAUNCH_ARGS = [
    *TEST_LAUNCH_ARGS,
    # Many sessions at once: keep every page's timers and frames running at full speed.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
TIMEOUT_MS = int(os.environ.get("BENCH_TIMEOUT_MS", "180000"))
VIEWPORT = {"width": 1400, "height": 900}
expect.set_options(timeout=TIMEOUT_MS)  # the helpers' expect(): a 5,000-entry login is slow
FAILURE = REPO / "test-artifacts" / "screenshots" / "bench-browser-failure.png"

BARE_APP = '''
"""A bare Streamlit app: what any Streamlit page costs, the benchmark's baseline."""
import streamlit as st


def home():
    st.title("基准页")
    with st.form("form"):
        st.number_input("数值", value=0)
        sent = st.form_submit_button("发送")
    if sent:
        st.session_state["sent"] = st.session_state.get("sent", 0) + 1
    st.write(f"表单 {st.session_state.get('sent', 0)}")
    if st.button("按钮"):
        st.session_state["clicks"] = st.session_state.get("clicks", 0) + 1
    st.write(f"按钮 {st.session_state.get('clicks', 0)}")


def other():
    st.title("另一页")
    st.write("另一页的内容")


st.navigation(
    [st.Page(home, title="基准页", default=True), st.Page(other, title="另一页", url_path="other")]
).run()
'''

# --- in-page timing ---------------------------------------------------------------------

IDLE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.dataset.testScriptState !== 'notRunning'
      || app.dataset.testConnectionState !== 'CONNECTED') return false;
  return ![...document.querySelectorAll("[data-testid='stSkeleton']")]
    .some(e => e.offsetParent !== null);
}"""

HELPERS_JS = """
  const main = () => document.querySelector("[data-testid='stMain']");
  const h1 = () => { const h = main() && main().querySelector('h1');
                     return h ? h.textContent.trim() : null; };
  const texts = (sel) => [...(main() || document).querySelectorAll(sel)]
                           .map(e => e.textContent.trim());
  const newToast = (text) => [...document.querySelectorAll("[data-testid='stToast']")]
    .some(e => !e.dataset.benchOld && e.textContent.includes(text));
  const nav = () => document.querySelector("[data-testid='stSidebarNav']");
"""

WATCH_JS = (
    """(t0, shownSource) => {
  const idle = """
    + IDLE_JS
    + """;
"""
    + HELPERS_JS
    + """
  const shown = new Function('main', 'h1', 'texts', 'newToast', 'nav',
                             'return (' + shownSource + ');');
  const bench = {t0: t0 === null ? performance.now() : t0, shown: null, done: null};
  window.__bench = bench;
  const tick = () => {
    const now = performance.now();
    try {
      if (bench.shown === null && shown(main, h1, texts, newToast, nav)) bench.shown = now;
      if (bench.shown !== null && idle()) { bench.done = now; return; }
    } catch (e) {}
    setTimeout(tick, 10);
  };
  setTimeout(tick, 0);
}"""
)

LOAD_INIT_JS = """(() => {
  if (window !== window.top) return;
  const start = () => (%s)(0, %s);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();"""

MARK_TOASTS_JS = """() => document.querySelectorAll("[data-testid='stToast']")
  .forEach(e => { e.dataset.benchOld = '1'; })"""

CLICK_JS = """(el, args) => {
  const [watch, shownSource] = args;
  const t0 = performance.now();
  (new Function('return (' + watch + ')'))()(t0, shownSource);
  el.click();
}"""

RUN_STATES_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  window.__runs = [];
  let last = app.dataset.testScriptState, since = performance.now();
  new MutationObserver(() => {
    const state = app.dataset.testScriptState, now = performance.now();
    if (state === last) return;
    if (last === 'running') window.__runs.push(now - since);
    last = state; since = now;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def js_text(value: str) -> str:
    """A JavaScript string literal of ``value``."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Sample:
    shown: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)

    def add(self, shown: float, done: float) -> None:
        self.shown.append(shown)
        self.done.append(done)


def _collect(page: Page) -> tuple[float, float]:
    handle = page.wait_for_function(
        "() => window.__bench && window.__bench.done !== null ? window.__bench : null",
        polling=50,
        timeout=TIMEOUT_MS,
    )
    bench = handle.json_value()
    return (bench["shown"] - bench["t0"]) / 1000, (bench["done"] - bench["t0"]) / 1000


def timed_click(page: Page, target: Locator, shown: str) -> tuple[float, float]:
    """Click ``target`` and time, in the page, until ``shown`` (a JS expression) holds."""
    try:
        target.wait_for(state="visible", timeout=TIMEOUT_MS)
        page.evaluate(MARK_TOASTS_JS)
        target.evaluate(CLICK_JS, [WATCH_JS, shown])
        result = _collect(page)
    except Exception:
        FAILURE.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURE))  # what the page showed instead
        raise
    wait_for_app(page, timeout=TIMEOUT_MS)
    return result


def timed_load(browser: Browser, url: str, shown: str) -> tuple[tuple[float, float], Page]:
    """Open ``url`` in a fresh context; seconds from the navigation's start."""
    context = new_context(browser)
    context.add_init_script(script=LOAD_INIT_JS % (WATCH_JS, js_text(shown)))
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    return _collect(page), page


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    return context


# --- servers ----------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def rss_mib(self) -> float:
        """Resident memory of the streamlit process (psutil-free: /proc/<pid>/status)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextlib.contextmanager
def serve(script: str, cwd: Path, data_dir: Path | None, log: Path) -> Iterator[Server]:
    """``streamlit run <script>`` as the browser tests start it, until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = app_env(data_dir if data_dir is not None else log.parent / "bare-data")
    process = start_streamlit(port, env, log, script=script, cwd=cwd)
    try:
        wait_healthy(f"{url}/_stcore/health", process, log, timeout_s=120)
        yield Server(url, process)
    finally:
        stop([process])


# --- report -----------------------------------------------------------------------------


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[round(0.95 * (len(ordered) - 1))]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


HEADER = (
    f"  {'measure':<34} {'n':>3}  {'shown med':>9} {'p95':>6}  {'done med':>8} {'p95':>6}"
    f"  {'ratio':>6}  vs"
)


def line(name: str, sample: Sample, base: Sample | None, base_name: str = "") -> None:
    shown, done = statistics.median(sample.shown), statistics.median(sample.done)
    text = (
        f"  {name:<34} {len(sample.done):>3}  {shown:>8.3f}s {_p95(sample.shown):>5.2f}s"
        f"  {done:>7.3f}s {_p95(sample.done):>5.2f}s"
    )
    if base is not None:
        ratio = done / statistics.median(base.done)
        text += f"  {ratio:>5.2f}×  {base_name}"
    print(text, flush=True)


# --- the bare app -----------------------------------------------------------------------


def measure_bare(browser: Browser, url: str, repeat: int) -> dict[str, Sample]:
    full, button, form, switch = Sample(), Sample(), Sample(), Sample()
    page = None
    for _ in range(repeat + 1):  # the first load warms the server up and is not counted
        if page is not None:
            page.context.close()
        times, page = timed_load(browser, url, 'h1() === "基准页" && texts("p").includes("按钮 0")')
        full.add(*times)
    del full.shown[0], full.done[0]
    for k in range(1, repeat + 1):
        target = main_area(page).get_by_role("button", name="按钮", exact=True)
        button.add(*timed_click(page, target, f'texts("p").includes("按钮 {k}")'))
    for k in range(1, repeat + 1):
        main_area(page).get_by_label("数值").fill(str(k))
        target = main_area(page).get_by_role("button", name="发送", exact=True)
        form.add(*timed_click(page, target, f'texts("p").includes("表单 {k}")'))
    links = page.get_by_test_id("stSidebarNavLink")
    for _ in range(repeat):
        for title in ("另一页", "基准页"):
            switch.add(
                *timed_click(page, links.filter(has_text=title), f"h1() === {js_text(title)}")
            )
    page.context.close()
    return {"full": full, "button": button, "form": form, "switch": switch}


def print_bare(bare: dict[str, Sample]) -> None:
    print("bare Streamlit app (baseline)")
    print(HEADER)
    line("full load", bare["full"], None)
    line("button rerun", bare["button"], None)
    line("form submit", bare["form"], None)
    line("page switch", bare["switch"], None)


# --- the product ------------------------------------------------------------------------

LOGIN = LOGIN_LABELS["zh"]
LOGIN_PAGE_SHOWN = (
    f'texts("h1, h2, h3").includes({js_text(LOGIN["title"])}) '
    "&& !!main().querySelector(\"input[type='password']\")"
)
SIGNED_IN_SHOWN = (
    f"!!nav() && h1() !== null && h1() !== {js_text(LOGIN['title'])} "
    "&& !document.querySelector(\"[data-testid='stForm'] input[type='password']\")"
)
GALLERY, PROGRESS, STANDINGS, BACK = "作品库", "我的进度", "实时排名", "← 返回作品库"
OVERVIEW = "活动概览"
SAVED, SUBMITTED = "草稿已保存", "评分已提交"


def nav_link(page: Page, title: str) -> Locator:
    return page.get_by_test_id("stSidebarNavLink").filter(has_text=title)


def fill_login(page: Page, username: str, password: str) -> Locator:
    form = login_form(page)
    form.get_by_label(LOGIN["username"], exact=True).fill(username)
    form.get_by_label(LOGIN["password"], exact=True).fill(password)
    return form.get_by_role("button", name=LOGIN["submit"], exact=True)


def fill_sheet(page: Page, value: str = "1") -> None:
    """Type ``value`` into every criterion of the open score sheet (each Enter reruns)."""
    fields = main_area(page).get_by_test_id("stNumberInput").locator("input")
    for index in range(fields.count()):
        field_ = fields.nth(index)
        field_.fill(value)
        field_.press("Enter")
        wait_for_app(page, timeout=TIMEOUT_MS)


def measure_product(
    browser: Browser,
    url: str,
    reviewer: str,
    password: str,
    open_codes: list[str],
    repeat: int,
    standings_only: bool = False,
) -> dict[str, Sample]:
    """The reviewer's and the organiser's work; ``open_codes``: the reviewer's unscored entries."""
    samples = {
        name: Sample()
        for name in (
            "login page",
            "login",
            "to progress",
            "to gallery",
            "open entry",
            "save draft",
            "submit",
            "back to gallery",
            "standings first",
            "standings",
            "refresh",
        )
    }
    if not standings_only:
        _measure_reviewer(browser, url, reviewer, password, open_codes, repeat, samples)
    _measure_standings(browser, url, password, repeat, samples)
    return samples


def _measure_reviewer(
    browser: Browser,
    url: str,
    reviewer: str,
    password: str,
    open_codes: list[str],
    repeat: int,
    samples: dict[str, Sample],
) -> None:
    # The login page, each time in a fresh browser (no cookie); the first one warms up.
    page = None
    for _ in range(repeat + 1):
        if page is not None:
            page.context.close()
        times, page = timed_load(browser, url, LOGIN_PAGE_SHOWN)
        samples["login page"].add(*times)
    del samples["login page"].shown[0], samples["login page"].done[0]
    page.context.close()
    # Login → the reviewer's first page.
    for _ in range(repeat):
        context = new_context(browser)
        page = context.new_page()
        open_app(page, url)
        samples["login"].add(
            *timed_click(page, fill_login(page, reviewer, password), SIGNED_IN_SHOWN)
        )
        if len(samples["login"].done) < repeat:
            context.close()
    # Page switches: gallery ↔ progress.
    for _ in range(repeat):
        samples["to progress"].add(
            *timed_click(page, nav_link(page, PROGRESS), f"h1() === {js_text(PROGRESS)}")
        )
        samples["to gallery"].add(
            *timed_click(page, nav_link(page, GALLERY), f"h1() === {js_text(GALLERY)}")
        )
    # Open an entry still to score from its card, save a draft, submit, back to the gallery.
    for code in open_codes[:repeat]:
        card = (
            main_area(page)
            .get_by_test_id("stColumn")
            .filter(has=page.get_by_test_id("stPageLink"))
            .filter(has_text=code)
        )
        link = card.get_by_role("link").filter(has_text="评分").first
        samples["open entry"].add(
            *timed_click(page, link, f"h1() && h1().startsWith({js_text(code + ' · ')})")
        )
        fill_sheet(page)
        draft = main_area(page).get_by_role("button", name="保存草稿")
        samples["save draft"].add(*timed_click(page, draft, f"newToast({js_text(SAVED)})"))
        main_area(page).get_by_role("button", name="提交评分").click()
        wait_for_app(page, timeout=TIMEOUT_MS)
        # The confirmation: a dialog, or a box in the sheet; either way its button.
        confirm = page.get_by_role("button", name="确认提交")
        samples["submit"].add(*timed_click(page, confirm, f"newToast({js_text(SUBMITTED)})"))
        back = main_area(page).get_by_role("link", name=BACK)
        samples["back to gallery"].add(*timed_click(page, back, f"h1() === {js_text(GALLERY)}"))
    page.context.close()


def _measure_standings(
    browser: Browser, url: str, password: str, repeat: int, samples: dict[str, Sample]
) -> None:
    # The organiser's standings: first load, switches, then left alone (timed reruns).
    context = new_context(browser)
    page = context.new_page()
    open_app(page, url)
    login(page, big_campaign.ORGANISER, password)
    away = f"h1() !== null && h1() !== {js_text(STANDINGS)}"  # the organiser's overview
    standings_shown = (
        f"h1() === {js_text(STANDINGS)} && !!main().querySelector(\"[data-testid='stDataFrame']\")"
    )
    samples["standings first"].add(*timed_click(page, nav_link(page, STANDINGS), standings_shown))
    for _ in range(repeat):
        timed_click(page, nav_link(page, OVERVIEW), away)
        samples["standings"].add(*timed_click(page, nav_link(page, STANDINGS), standings_shown))
    page.evaluate(RUN_STATES_JS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        runs = page.evaluate("() => window.__runs")
        if len(runs) >= repeat:
            break
        time.sleep(1)
    for seconds in page.evaluate("() => window.__runs")[:repeat]:
        samples["refresh"].add(seconds / 1000, seconds / 1000)
    context.close()


def print_product(title: str, got: dict[str, Sample], bare: dict[str, Sample]) -> None:
    print(title)
    print(HEADER)
    button, switch = bare["button"], bare["switch"]
    if got["login page"].done:  # not measured with --only standings
        _print_reviewer(got, bare)
    line("standings, first load", got["standings first"], switch, "bare page switch")
    line("standings, page switch", got["standings"], switch, "bare page switch")
    if got["refresh"].done:
        line("standings, idle refresh (rerun)", got["refresh"], button, "bare button rerun")
    else:
        print("  standings, idle refresh: no timed rerun seen")
    more = statistics.median(got["standings"].done) - statistics.median(switch.done)
    print(f"  standings minus bare page switch: {more:+.3f} s (done medians)", flush=True)


def _print_reviewer(got: dict[str, Sample], bare: dict[str, Sample]) -> None:
    full, button, form, switch = bare["full"], bare["button"], bare["form"], bare["switch"]
    line("login page, full load", got["login page"], full, "bare full load")
    line("login → first page", got["login"], form, "bare form submit")
    line("page switch → 我的进度", got["to progress"], switch, "bare page switch")
    line("page switch → 作品库", got["to gallery"], switch, "bare page switch")
    line("open an entry (card → entry page)", got["open entry"], switch, "bare page switch")
    line("save draft (click → toast)", got["save draft"], button, "bare button rerun")
    line("submit (确认提交 → toast)", got["submit"], button, "bare button rerun")
    line("entry → 作品库 (back link)", got["back to gallery"], switch, "bare page switch")


# --- many reviewers on one server -------------------------------------------------------


def measure_sessions(
    browser: Browser, server: Server, data_dir: Path, count: int, rounds: int
) -> None:
    """``count`` reviewers, each on an entry of their own; all save at once, ``rounds`` times."""
    before = server.rss_mib()
    pages: list[Page] = []
    started = time.perf_counter()
    try:
        for index in range(count):
            username = big_campaign.reviewer_name("expert", index)
            code = big_campaign.open_entries(data_dir, username)[-1]
            page = new_context(browser).new_page()
            open_app(page, server.url)
            login(page, username, big_campaign.PASSWORD)
            open_logged_in(page, server.url, f"entry?code={code}")
            fill_sheet(page, "2")
            pages.append(page)
        opened = server.rss_mib()
        setup = time.perf_counter() - started
        sample = Sample()
        saved = f"newToast({js_text(SAVED)})"
        missing = 0
        for _ in range(rounds):
            targets = []
            for page in pages:
                page.evaluate(MARK_TOASTS_JS)
                targets.append(main_area(page).get_by_role("button", name="保存草稿"))
            for page, target in zip(pages, targets, strict=True):
                # A trusted click (Playwright's), each timed from just before it.
                page.evaluate(f"(shown) => ({WATCH_JS})(null, shown)", saved)
                target.click(no_wait_after=True)
            for page in pages:
                try:
                    sample.add(*_collect(page))
                except PlaywrightError:
                    missing += 1  # no confirmation within TIMEOUT_MS: counted, not hidden
            for page in pages:
                with contextlib.suppress(PlaywrightError):
                    wait_for_app(page, timeout=TIMEOUT_MS)
        after = server.rss_mib()
    finally:
        for page in pages:
            page.context.close()
    print(
        f"  {count} sessions: server RSS {before:.0f} MiB before, {opened:.0f} MiB opened, "
        f"{after:.0f} MiB after {rounds} rounds of saves → "
        f"{(after - before) / count:.1f} MiB per session (opened in {setup:.0f} s; {load()})"
    )
    if sample.done:
        line(f"save draft, {count} at once", sample, None)
    print(f"  saves without a confirmation within {TIMEOUT_MS / 1000:.0f} s: {missing}", flush=True)


# --- main -------------------------------------------------------------------------------


def demo_data(root: Path) -> Path:
    data_dir = root / "demo-data"
    env = dict(os.environ, REVIEWDESK_DATA_DIR=str(data_dir))
    env.pop("REVIEWDESK_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "scoring.cli", "init-demo"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return data_dir


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="repetitions of each measure")
    parser.add_argument("--sessions", default="20,50", help="reviewer sessions at once")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of saves of all sessions")
    parser.add_argument("--scales", default="demo,5000", help="which campaigns to time")
    parser.add_argument("--quick", action="store_true", help="3 repetitions, 5 sessions")
    parser.add_argument(
        "--only",
        choices=["standings"],
        help="only the organiser's standings (with the bare app), no reviewer or session measures",
    )
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.sessions, args.rounds = 3, "5", 2
    if args.only:
        args.sessions = ""
    sessions = [int(n) for n in args.sessions.split(",") if n]
    scales = args.scales.split(",")
    print(
        f"browser benchmark · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · "
        f"{machine()} · {load()}"
    )
    print("  shown: the awaited text is on screen; done: the script run has finished too;")
    print("  ratio: done median / the bare app's equivalent done median", flush=True)
    with tempfile.TemporaryDirectory(prefix="reviewdesk-bench-") as tmp, sync_playwright() as pw:
        root = Path(tmp)
        bare_dir = root / "bare"
        (bare_dir / ".streamlit").mkdir(parents=True)
        (bare_dir / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
        shutil.copy(REPO / ".streamlit" / "config.toml", bare_dir / ".streamlit" / "config.toml")
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        with serve("bare_app.py", bare_dir, None, root / "bare.log") as bare_server:
            bare = measure_bare(browser, bare_server.url, args.repeat)
        print_bare(bare)
        if "demo" in scales:
            data_dir = demo_data(root)
            with serve("app.py", REPO, data_dir, root / "demo.log") as server:
                got = measure_product(
                    browser,
                    server.url,
                    "expert5",
                    DEMO_PASSWORD,
                    big_campaign.open_entries(data_dir, "expert5"),
                    args.repeat,
                    standings_only=args.only == "standings",
                )
            print_product(f"demo campaign (36 entries; {load()})", got, bare)
        if "5000" in scales or sessions:
            data_dir = root / "big-data"
            counts = big_campaign.build(data_dir)
            print(f"generated campaign: {counts}", flush=True)
            with serve("app.py", REPO, data_dir, root / "big.log") as server:
                if "5000" in scales:
                    reviewer = big_campaign.reviewer_name("media", 0)
                    got = measure_product(
                        browser,
                        server.url,
                        reviewer,
                        big_campaign.PASSWORD,
                        big_campaign.open_entries(data_dir, reviewer),
                        args.repeat,
                        standings_only=args.only == "standings",
                    )
                    print_product(f"5,000 entries, 400,000 scores ({load()})", got, bare)
                if sessions:
                    print(f"many reviewers on one server (5,000-entry campaign; {load()})")
                    print(HEADER)
                    for count in sessions:
                        measure_sessions(browser, server, data_dir, count, args.rounds)
        # The bare app again at the end: did the machine's load move under the run?
        with serve("bare_app.py", bare_dir, None, root / "bare2.log") as bare_server:
            again = measure_bare(browser, bare_server.url, max(3, args.repeat // 3))
        print(f"bare app again at the end ({load()})")
        print(HEADER)
        line("full load", again["full"], bare["full"], "first bare full load")
        line("button rerun", again["button"], bare["button"], "first bare button rerun")
        browser.close()


if __name__ == "__main__":
    main()
