"""Every page of the hall in every state people see, at the sizes the hall uses: one table for checks and screens.

``tests/e2e/test_page_checks.py`` opens each state in Chromium and checks it (overflow, primary actions on screen,
text sizes, console errors, failed requests, axe-core WCAG 2.1 AA); ``python -m tests.e2e.screens`` (``make
screens``) writes a PNG of each into ``instance/screens/``. Both seed one demo hall the same way (:func:`seed`).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.server import staff_session

ROOT = Path(__file__).resolve().parents[2]
# axe-core comes from npm (package-lock.json); `make assets` copies it next to the other vendored browser assets.
AXE_PATHS = (ROOT / "hall/web/static/vendor/axe.min.js", ROOT / "node_modules/axe-core/axe.min.js")
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
LANGS = ("zh", "en")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

PHONE = (390, 844)
PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)
COUNTER = (1366, 768)
WALL = (1920, 1080)
TABLET = (1280, 800)


@dataclass(frozen=True)
class Page:
    """One page: where it is, who must be logged in, when it is ready, what must be on screen, how text is sized."""

    path: str  # may name a seeded ticket secret: {waiting}, {called}, {done}
    ready: str  # a JavaScript expression that is true once the page shows its data
    actions: tuple[str, ...]  # selectors of the primary actions/content: each must be visible inside the viewport
    role: str | None = None  # the demo account to log in as
    min_text: tuple[str, float] | None = None  # (selector of text elements, smallest font size in CSS px on screen)
    steps: tuple[str, ...] = ()  # selectors clicked in order after the page is ready (kiosk screens)
    status: int = 200  # the page's own HTTP status
    mobile: bool = False
    one_line: tuple[str, ...] = ()  # selectors whose text must not wrap (a call, a button label)


PHONE_TEXT = ("main *", 16.0)
KIOSK_LINES = ("header.top h1", "#elderly", "#speak", "header .tools a")
PAGES: dict[str, Page] = {
    "phone-waiting": Page(
        "/t/{waiting}",
        "document.querySelector('#ahead').textContent.trim() !== ''",
        (".number", "#status", "#ahead", "#cancel"),
        min_text=PHONE_TEXT,
        mobile=True,
    ),
    "phone-called": Page(
        "/t/{called}",
        "!document.querySelector('#call').hidden",
        (".number", "#call", "#status"),
        min_text=PHONE_TEXT,
        mobile=True,
    ),
    "phone-done": Page(
        "/t/{done}",
        "!document.querySelector('#rate').hidden",
        (".number", "#status", "#rate [data-score='5']"),
        min_text=PHONE_TEXT,
        mobile=True,
    ),
    "phone-missing": Page("/t/no-such-ticket", "true", ("main",), min_text=PHONE_TEXT, status=404, mobile=True),
    "kiosk-home": Page(
        "/kiosk?device=demo-kiosk-1",
        "document.querySelectorAll('#categories button').length > 0",
        ("#elderly", "#categories button", "#priority", "#booking", "header .tools a"),
        one_line=KIOSK_LINES,
    ),
    "kiosk-item": Page(
        "/kiosk?device=demo-kiosk-1",
        "document.querySelectorAll('#categories button').length > 0",
        ("#d-title", "#take", "#add"),
        steps=("#categories button", "#cat-items button"),
        one_line=KIOSK_LINES,
    ),
    "kiosk-idpad": Page(
        "/kiosk?device=demo-kiosk-1",
        "document.querySelectorAll('#categories button').length > 0",
        ("#id-value", "#idpad button >> nth=0", "#id-ok", "#id-skip"),
        steps=("#priority", "#groups [data-group=elderly]"),
        one_line=KIOSK_LINES,
    ),
    "counter": Page(
        "/counter",
        "document.querySelector('#number').textContent.trim() !== '—'",
        (
            "#number",
            "[data-act=call-next]",
            "[data-act=recall]",
            "[data-act=no-show]",
            "[data-act=start]",
            "[data-act=complete]",
            "#waiting",
        ),
        role="clerk2",
    ),
    "hall-display": Page(
        "/display/hall",
        "document.querySelector('#latest').textContent.trim() !== '—'"
        " && document.querySelectorAll('#windows li').length > 0",
        ("#latest", "#recent li", "#queues li", "#windows li"),
        min_text=("#latest, #recent li, #recent li *", 40.0),
        one_line=("#latest",),
    ),
    "window-display": Page(
        "/display/window/1",
        "document.querySelector('#current').textContent.trim() !== '—'"
        " && document.querySelector('#current').textContent.trim() !== ''",
        ("#window-name", "#current", "#state"),
    ),
    "dashboard": Page(
        "/manager",
        "document.querySelector('#kpi-tickets .v').textContent.trim() !== '—'"
        " && !!document.querySelector('[data-window=\"1\"]')",
        (
            "#kpi-waiting",
            "#queues",
            "#windows",
            "#alerts",
            "#chart-arrivals",
            "#chart-wait",
            "#chart-satisfaction",
            "#chart-windows",
        ),
        role="manager",
    ),
    "reports": Page(
        "/manager/reports",
        "document.querySelectorAll('#report tbody tr').length > 0",
        ("#report-form button[type=submit]", "#export-csv", "#export-xlsx", ".report-wrap"),
        role="manager",
    ),
    "admin": Page(
        "/admin",
        "!document.querySelector('#app').hidden && document.querySelectorAll('table tbody tr').length > 0",
        ("nav [role=tab] >> nth=0", "nav [role=tab] >> nth=-1", "[data-logout] >> visible=true"),
        role="admin",
    ),
    "city": Page(
        "/city",
        "document.querySelectorAll('#halls tr').length > 0",
        ("#halls",),
        role="city",
    ),
    **{
        f"{name}-login": Page(
            path,
            "!document.querySelector('#login').hidden",
            ("#login-form input[name=username]", "#login-form input[name=password]", "#login-form button"),
        )
        for name, path in (
            ("counter", "/counter"),
            ("dashboard", "/manager"),
            ("reports", "/manager/reports"),
            ("admin", "/admin"),
            ("city", "/city"),
        )
    },
    "rating-tablet": Page(
        "/rate/window/3?device=demo-rate-3",
        "!document.querySelector('#rate').hidden",
        ("#rate [data-score='5']", "#rate [data-score='1']", "#rate-send"),
    ),
}


@dataclass(frozen=True)
class State:
    """One page at one size in one mode (the kiosk's 大字模式 is ``large``)."""

    page: str
    size: tuple[int, int]
    mode: str = "normal"

    @property
    def id(self) -> str:
        """A short name for test ids and screenshot files."""
        return f"{self.page}-{self.size[0]}x{self.size[1]}" + ("-large" if self.mode == "large" else "")


STATES: list[State] = [
    *(State(p, PHONE) for p in ("phone-waiting", "phone-called", "phone-done", "phone-missing")),
    *(
        State(p, s, m)
        for p in ("kiosk-home", "kiosk-item", "kiosk-idpad")
        for s in (PORTRAIT, LANDSCAPE)
        for m in ("normal", "large")
    ),
    State("counter-login", COUNTER),
    State("counter", COUNTER),
    *(State(f"{p}-login", WALL) for p in ("dashboard", "reports", "admin", "city")),
    State("hall-display", WALL),
    State("window-display", WALL),
    State("dashboard", WALL),
    *(State(p, s) for p in ("reports", "admin", "city") for s in (WALL, COUNTER)),
    State("rating-tablet", TABLET),
]


# The seeded morning has clerks "at" windows with no console open to beat for them; without this the presence sweep
# signs them out 40 s in (and puts their called tickets back in line), and the states change under the checks.
SERVER_ENV = {"HALL_PRESENCE_SWEEP_SECONDS": "0"}


def axe_source() -> str:
    """The axe-core script, read from the vendored copy (offline once `make assets` ran)."""
    for path in AXE_PATHS:
        if path.exists():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError("axe-core missing: run `make assets` (npm ci)")


def seed(url: str) -> dict[str, str]:
    """Bring the demo hall into a morning's state; return the ticket secrets the phone pages open."""

    def take(item: str) -> dict:
        r = requests.post(f"{url}/api/v1/tickets", json={"items": [item]}, headers=KIOSK, timeout=10)
        r.raise_for_status()
        return r.json()["ticket"]

    def secret(ticket: dict) -> str:
        return ticket["track_url"].rsplit("/", 1)[1]

    secrets: dict[str, str] = {}
    done = take("YB001")
    clerk3 = staff_session(url, "clerk3")
    for step in ("call-next", "start", "complete"):
        r = clerk3.post(f"{url}/api/v1/windows/3/{step}", timeout=10)
        r.raise_for_status()
    secrets["done"] = secret(done)
    called = take("YB001")
    r = staff_session(url, "clerk1").post(f"{url}/api/v1/windows/1/call-next", timeout=10)
    r.raise_for_status()
    assert r.json()["ticket"]["number"] == called["number"], r.text
    secrets["called"] = secret(called)
    take("YB007")
    clerk2 = staff_session(url, "clerk2")
    for step in ("call-next", "start"):  # the counter console opens on a ticket in service
        clerk2.post(f"{url}/api/v1/windows/2/{step}", timeout=10).raise_for_status()
    waiting = [take(item) for item in ("YB001", "YB007", "YB002", "YB001")]
    secrets["waiting"] = secret(waiting[-1])
    return secrets


def wait_until(page: Any, expression: str, timeout: float = 10) -> None:
    """Poll a JavaScript condition over CDP (staff pages forbid eval in their CSP, which wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"page not ready: {expression}")
        page.wait_for_timeout(50)


@dataclass
class Loaded:
    """What a page showed: measurements taken in the browser and what went wrong while it loaded."""

    page: Any
    context: Any
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    problem: str = ""


class Pages:
    """Opens states in one browser against one seeded server, logging each role in once."""

    def __init__(self, browser: Any, url: str, secrets: dict[str, str]) -> None:
        self.browser, self.url, self.secrets = browser, url, secrets
        self._sessions: dict[str, dict] = {}

    def session(self, role: str) -> dict:
        """Cookies of a logged-in demo account (logged in once over the API, as the pages' login forms do)."""
        if role not in self._sessions:
            ctx = self.browser.new_context()
            r = ctx.request.post(f"{self.url}/api/v1/auth/login", data={"username": role, "password": "demo"})
            assert r.ok, r.text()
            self._sessions[role] = ctx.storage_state()
            ctx.close()
        return self._sessions[role]

    def open(self, state: State, lang: str, *, strict: bool = True) -> Loaded:
        """Open one state, ready and settled; the caller closes ``loaded.context``.

        ``strict=False`` (screenshots) returns whatever the page shows when it answers an error or never gets
        ready, with the problem in ``loaded.problem``.
        """
        page_def = PAGES[state.page]
        w, h = state.size
        ctx = self.browser.new_context(
            viewport={"width": w, "height": h},
            is_mobile=page_def.mobile,
            has_touch=page_def.mobile,
            device_scale_factor=3 if page_def.mobile else 1,
            locale="en-US" if lang == "en" else "zh-CN",
            storage_state=self.session(page_def.role) if page_def.role else None,
        )
        page = ctx.new_page()
        loaded = Loaded(page, ctx)
        path = page_def.path.format(**self.secrets)
        path += ("&" if "?" in path else "?") + ("lang=en" if lang == "en" else "lang=zh_CN")

        def expected(url: str, status: int) -> bool:
            # The page's own status when it is meant to be an error (an unknown ticket is a 404 page), and the
            # icon, which Chromium asks for once per browser whichever page comes first: test_icon checks it.
            # A login screen first asks the API as whoever is there: a 401 is the answer "nobody", and the form.
            return (
                (url == self.url + path and status == page_def.status != 200)
                or url.endswith("/favicon.ico")
                or (state.page.endswith("-login") and url.startswith(f"{self.url}/api/v1/") and status == 401)
            )

        def console(m: Any) -> None:
            code = re.search(r"status of (\d{3})", m.text)
            if m.type == "error" and not expected(m.location.get("url", ""), int(code[1]) if code else 0):
                loaded.console_errors.append(f"{m.text} {m.location.get('url')}")

        page.on("console", console)
        page.on("requestfailed", lambda r: loaded.failed_requests.append(f"{r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and not expected(r.url, r.status)
                and loaded.failed_requests.append(f"{r.status} {r.request.method} {r.url}")
            ),
        )
        response = page.goto(self.url + path)
        status = response.status if response is not None else None
        if status != page_def.status:
            loaded.problem = f"HTTP {status}"
            assert not strict, (path, status)
            return loaded
        try:
            wait_until(page, page_def.ready, timeout=10 if strict else 5)
        except TimeoutError as exc:
            loaded.problem = str(exc)
            if strict:
                raise
            return loaded
        if state.mode == "large":
            page.click("#elderly")
            wait_until(page, "document.querySelector('#elderly').getAttribute('aria-pressed') === 'true'")
        for selector in page_def.steps:
            page.locator(selector).first.click()
        page.evaluate("document.fonts.ready.then(() => new Promise(requestAnimationFrame))")
        return loaded

    def measure(self, loaded: Loaded, state: State) -> dict:
        """Overflow, primary actions off screen and text too small, measured in the page."""
        page_def = PAGES[state.page]
        offscreen = []
        w, h = state.size
        for selector in page_def.actions:
            loc = loaded.page.locator(selector).first
            box = loc.bounding_box() if loc.count() and loc.is_visible() else None
            scale = loaded.page.evaluate("visualViewport.scale")
            if box is None:
                offscreen.append(f"{selector}: not visible")
                continue
            x, y, bw, bh = (v * scale for v in (box["x"], box["y"], box["width"], box["height"]))
            if x < 0 or y < 0 or x + bw > w + 0.5 or y + bh > h + 0.5:
                offscreen.append(f"{selector}: at ({x:.0f},{y:.0f}) {bw:.0f}×{bh:.0f} outside {w}×{h}")
        return loaded.page.evaluate(
            """([w, minText, lines]) => {
              const scale = visualViewport.scale;  // a phone without <meta viewport> lays out at 980 px and zooms out
              const width = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) * scale;
              const small = [];
              if (minText) {
                for (const el of document.querySelectorAll(minText[0])) {
                  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
                  const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
                  if (!own || !r.width || !r.height || cs.visibility === 'hidden') continue;
                  const px = parseFloat(cs.fontSize) * scale;
                  if (px < minText[1] - 0.01) small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
                    + ` "${el.textContent.trim().slice(0, 24)}" ${px.toFixed(1)}px`);
                }
              }
                const wrapped = [];
              for (const sel of lines) {
                for (const el of document.querySelectorAll(sel)) {
                  const range = document.createRange(); range.selectNodeContents(el);
                  const rs = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0)
                    .sort((a, b) => a.top - b.top);
                  let n = 0, bottom = -Infinity;  // a box whose middle is below the line so far starts a new line
                  for (const r of rs) { if (r.top + r.height / 2 > bottom) { n += 1; bottom = r.bottom; } }
                  if (n > 1) wrapped.push(`${sel} "${el.textContent.trim().slice(0, 24)}" on ${n} lines`);
                }
              }
              const icon = document.querySelector('link[rel~=icon]');
              return {overflow: Math.round(width - w), small: small.slice(0, 12), wrapped,
                      lang: document.documentElement.lang, icon: icon ? icon.href : location.origin + '/favicon.ico'};
            }""",
            [w, list(page_def.min_text) if page_def.min_text else None, list(page_def.one_line)],
        ) | {"offscreen": offscreen}

    def axe(self, loaded: Loaded) -> list[str]:
        """axe-core's serious and critical WCAG 2.1 AA violations, one line per rule with its first nodes."""
        loaded.page.add_script_tag(content=axe_source())
        found = loaded.page.evaluate(
            """async (tags) => {
              const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
              return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
                .map((v) => `${v.id} (${v.impact}, ${v.nodes.length}): ` + v.nodes.slice(0, 4)
                  .map((n) => n.target.join(' ') + ' — ' + ((n.any[0] || n.all[0] || n.none[0] || {}).message || ''))
                  .join(' | '));
            }""",
            AXE_TAGS,
        )
        return found


def describe(result: dict) -> str:
    """A result as readable JSON for an assertion message."""
    return json.dumps(result, ensure_ascii=False, indent=1)
