"""axe-core finds no serious or critical violation on the public pages, on a phone and a desktop.

axe-core is a pinned dev dependency (package.json, package-lock.json) that `make test` installs
into node_modules with `npm ci`; it is injected into the page by Playwright, never served by the
app. Keyboard basics are checked here too: Tab reaches the header search, the main navigation and
the first product card, and whatever has focus shows an outline.
"""

import os
from pathlib import Path

import pytest

#: The pages' HTML does not depend on the database: `make test` runs these in the SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.backend_independent]

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")

PRODUCT = "banh-phu-the-nhan-do-dua"
COOPERATIVE = "htx-banh-phu-the-song-hy-dinh-bang-demo"
PROGRAMME = "tuan-hang-htx-ocop-bac-ninh-xuan-2027"

#: (test id, path, language) — every public page a buyer meets, two of them also in English.
PAGES = [
    ("home", "/", "vi"),
    ("catalogue", "/san-pham", "vi"),
    ("catalogue-filtered", "/san-pham?sector=nong-nghiep&ocop=3&sort=price_asc", "vi"),
    ("search", "/tim-kiem?q=banh", "vi"),
    ("product", f"/san-pham/{PRODUCT}", "vi"),
    ("cooperatives", "/htx", "vi"),
    ("cooperative", f"/htx/{COOPERATIVE}", "vi"),
    ("programme", f"/chuong-trinh/{PROGRAMME}", "vi"),
    ("booth", f"/chuong-trinh/{PROGRAMME}/gian-hang/1", "vi"),
    ("login", "/tai-khoan/dang-nhap", "vi"),
    ("home-en", "/?lang=en", "en"),
    ("product-en", f"/san-pham/{PRODUCT}?lang=en", "en"),
]
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="session")
def axe_path():
    """The axe-core script; its absence is an error, with the command that installs it."""
    if AXE.is_file():
        return AXE
    where = "in CI" if os.environ.get("CI") else "here"
    pytest.fail(
        f"{AXE.relative_to(ROOT)} is missing {where}: axe-core is a dev dependency installed by "
        "`make setup-test` (run by `make test`), i.e. `npm ci --no-audit --no-fund` at the "
        "repository root.",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def contexts(browser, live_server):
    """One browser context per (viewport, language), shared by the module's tests."""
    made = {}

    def get(viewport: str, lang: str):
        key = (viewport, lang)
        if key not in made:
            width, height = VIEWPORTS[viewport]
            made[key] = browser.new_context(
                viewport={"width": width, "height": height},
                base_url=live_server.url,
                locale="vi-VN" if lang == "vi" else "en-GB",
            )
        return made[key]

    yield get
    for context in made.values():
        context.close()


def describe(violations: list[dict]) -> str:
    """A readable list of violations: rule, impact, help, then each failing node."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} nodes)")
        lines.append(f"    {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"    - {' '.join(str(t) for t in node['target'])}")
            lines.append(f"      {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def blocking_violations(page, axe_path) -> list[dict]:
    # Evaluated through the browser's devtools, so the page's Content-Security-Policy (no
    # inline script without the page's nonce) stays on while axe-core looks at it.
    page.evaluate(Path(axe_path).read_text(encoding="utf-8"))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize(("path", "lang"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_no_serious_or_critical_violation(contexts, axe_path, path, lang, viewport):
    page = contexts(viewport, lang).new_page()
    try:
        response = page.goto(path)
        assert response.status == 200, f"{path} answered {response.status}"
        assert page.locator("html").get_attribute("lang") == lang
        violations = blocking_violations(page, axe_path)
        assert not violations, f"axe-core on {path} at {viewport}:\n" + describe(violations)
    finally:
        page.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_open_search_suggestions_have_no_serious_violation(contexts, axe_path, viewport):
    page = contexts(viewport, "vi").new_page()
    try:
        page.goto("/")
        page.locator("#site-search-q").press_sequentially("banh", delay=20)
        page.locator(".suggestions:not([hidden]) [role=option]").first.wait_for()
        page.keyboard.press("ArrowDown")
        violations = blocking_violations(page, axe_path)
        assert not violations, f"axe-core on / with suggestions open at {viewport}:\n" + describe(
            violations
        )
    finally:
        page.close()


# --------------------------------------------------------------------------- keyboard

#: What has focus, and whether it (or the card it sits in) shows a focus outline.
FOCUSED = """() => {
  const el = document.activeElement;
  const shown = (node) => {
    const s = getComputedStyle(node);
    return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  };
  const card = el.closest('.product-card');
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    href: el.getAttribute('href') || '',
    inNav: !!el.closest('.main-nav'),
    inCard: !!card,
    outlined: shown(el) || (card !== null && shown(card)),
  };
}"""


def tab_through(page, stop, limit: int = 40) -> list[dict]:
    """Press Tab until `stop(focused)` is true; returns every element focused on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        seen.append(focused)
        if stop(focused):
            return seen
    pytest.fail(f"Tab never reached the target; focused in turn: {seen}")


@pytest.mark.parametrize("path", ["/", "/san-pham"], ids=["home", "catalogue"])
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_tab_reaches_search_nav_and_first_product_with_visible_focus(contexts, path, viewport):
    page = contexts(viewport, "vi").new_page()
    try:
        page.goto(path)
        seen = tab_through(page, lambda f: f["inCard"])
    finally:
        page.close()
    first_card = seen[-1]
    assert first_card["href"].startswith("/san-pham/")
    assert any(f["inNav"] and f["href"] == "/san-pham" for f in seen), seen
    assert any(f["id"] == "site-search-q" for f in seen), seen
    # The skip link comes first, and every stop on the way shows where focus is.
    assert "#main" in seen[0]["href"]
    assert [f for f in seen if not f["outlined"]] == []


def test_skip_link_moves_focus_to_the_content(contexts):
    page = contexts("phone", "vi").new_page()
    try:
        page.goto("/san-pham")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        page.close()


def test_reduced_motion_turns_transitions_off(browser, live_server):
    context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto("/san-pham")
        moving = page.evaluate(
            """() => [...document.querySelectorAll('body *')].filter((el) => {
                 const s = getComputedStyle(el);
                 const secs = (v) => Math.max(...v.split(',').map(parseFloat));
                 return s.animationName !== 'none' || secs(s.transitionDuration) > 0
                   || s.scrollBehavior === 'smooth';
               }).map((el) => el.outerHTML.slice(0, 80))"""
        )
    finally:
        context.close()
    assert moving == []
