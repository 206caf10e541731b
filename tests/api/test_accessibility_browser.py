"""Accessibility (RGAA basics) in a real Chromium (Debian's, headless, Playwright) over the served
demo: axe-core, pinned and read from ``tests/vendor`` (never served to users), finds no serious or
critical WCAG 2 A/AA violation on the portal's pages and maps, in French and English, as the
public and as signed-in partners and staff; the keyboard reaches the search box, the language
switch and the maps' layer control; every map has a list or table beside it. Screenshots go to
the test's artifacts directory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from atlas.policy.tiers import Tier
from tests.api.live_server import serving
from tests.portal.gate_sheets import gate_of
from tests.served_demo import Served

pytestmark = pytest.mark.browser
VENDOR = Path(__file__).resolve().parents[1] / "vendor"
AXE = VENDOR / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA: the rules RGAA's criteria map to.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
# Third-party markup we cannot change and whose violation cannot be fixed through an option.
# Each entry is one exact selector with the reason; never a whole rule.
EXCLUDED: list[str] = []
RUN_AXE = """async ([tags, exclude]) => {
  const result = await axe.run({include: [document], exclude: exclude.map((s) => [s])},
                               {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
  }));
}"""


def _axe_source() -> str:
    """axe-core's script, after checking it is the file the manifest pins."""
    manifest = json.loads((VENDOR / "manifest.json").read_text())
    (entry,) = [f for p in manifest["packages"] if p["name"] == "axe-core" for f in p["files"]]
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"], "axe-core differs from its pin"
    return data.decode()


def audit(page, artifacts: Path, name: str) -> list[dict]:
    """Run axe on the loaded page (screenshot first); its serious or critical violations."""
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    page.add_script_tag(content=_axe_source())
    found = page.evaluate(RUN_AXE, [TAGS, EXCLUDED])
    return [v for v in found if v["impact"] in BLOCKING]


def report(violations: dict[str, list[dict]]) -> str:
    """Each page's violations: rule id, impact and the nodes' selectors."""
    lines = []
    for url, found in violations.items():
        for v in found:
            targets = "; ".join(n["target"] for n in v["nodes"][:8])
            lines.append(f"{url}: {v['id']} ({v['impact']}) {v['help']} -> {targets}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def origin(served: Served) -> Iterator[str]:
    """The served demo behind a real socket, for this module's pages."""
    with serving(served.client.app) as (host, port):
        yield f"http://{host}:{port}"


def _sign_in(page, origin: str, key: str) -> None:
    """Signed in through the sign-in page with ``key`` (the session cookie, as a user would)."""
    page.goto(f"{origin}/signin")
    page.fill("#key", key)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".signed-in").count() == 1


def _check(chromium, origin, artifacts, pages: list[str], lang: str, key: str = "") -> None:
    """axe on each page, in one browser context (signed in with ``key`` if given)."""
    # The pages' CSP refuses inline scripts, axe's tag among them: bypassed for these pages only
    # (the CSP itself is tested by the other browser tests and tests/api/test_security_headers).
    context = chromium.new_context(
        locale=LOCALES[lang], viewport={"width": 1200, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    if key:
        _sign_in(page, origin, key)
    violations, langs = {}, {}
    for i, path in enumerate(pages):
        page.goto(f"{origin}{path}", wait_until="networkidle")
        langs[path] = page.locator("html").get_attribute("lang")
        found = audit(page, artifacts, f"{lang}-{i}")
        if found:
            violations[path] = found
    context.close()
    assert not violations, "axe-core:\n" + report(violations)
    assert set(langs.values()) == {lang}, langs  # RGAA 8.3: the page's language is declared


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_public_pages_pass_axe(served, origin, chromium, artifacts, lang) -> None:
    gate = gate_of(served, Tier.PUBLIC)
    site = gate.query("activity-sites", _first()).features[0]
    plot = gate.query("activity-plots", _first()).features[0].id
    pages = ["/", "/sites", f"/sites/{site.id}", f"/plots/{plot}", "/signin", "/selection"]
    # Search results (a commune's sites), an unknown sheet's 404 page, the atlas map.
    commune = quote(str(site.properties["site_comm_nom"]))
    pages += [f"/search?q={commune}", "/sites/no-such-site", f"/maps/public?lang={lang}"]
    _check(chromium, origin, artifacts, [_in(p, lang) for p in pages], lang)


def test_partner_pages_pass_axe(served, origin, chromium, artifacts) -> None:
    gate = gate_of(served, Tier.B2B)
    plot = gate.query("activity-plots", _first()).features[0].id
    selection = "/selection?min_area_ha=20&exclude_flood_classes=4"
    pages = ["/", selection, f"/plots/{plot}", "/maps/b2b", "/maps/b2b/selection?min_area_ha=20"]
    key = served.headers[Tier.B2B]["Authorization"].removeprefix("Bearer ")
    _check(chromium, origin, artifacts, pages, "fr", key)


def test_staff_pages_pass_axe(served, origin, chromium, artifacts) -> None:
    key = served.headers[Tier.INTERNAL]["Authorization"].removeprefix("Bearer ")
    _check(chromium, origin, artifacts, ["/exports", "/maps/internal"], "fr", key)


def _first():
    from atlas.query.features import FeatureQuery

    return FeatureQuery(limit=1)


def _in(path: str, lang: str) -> str:
    """``path`` in ``lang`` (French is the default; English by the query parameter)."""
    if lang == "fr" or "lang=" in path:
        return path
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


# The element that has the keyboard's focus, as a short description.
FOCUSED = """() => {
  const e = document.activeElement;
  return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className || '',
          hreflang: e.getAttribute('hreflang') || '', name: e.getAttribute('aria-label') || '',
          href: e.getAttribute('href') || ''};
}"""


def _tab_until(page, found, limit: int = 80) -> list[dict]:
    """Press Tab until ``found(focused)`` holds (or ``limit`` presses); every element focused."""
    seen: list[dict] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        seen.append(focused)
        if found(focused):
            break
    return seen


def test_the_keyboard_reaches_search_language_and_layers(origin, chromium, artifacts) -> None:
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{origin}/", wait_until="networkidle")
    skip = _tab_until(page, lambda _: True)[-1]  # the first stop: past the header
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'main'", timeout=5000)
    to_search = _tab_until(page, lambda f: f["id"] == "q")
    page.keyboard.type("Lisses")
    typed = page.input_value("#q")
    page.goto(f"{origin}/", wait_until="networkidle")
    to_switch = _tab_until(page, lambda f: f["hreflang"] == "en")
    with page.expect_navigation(wait_until="networkidle"):
        page.keyboard.press("Enter")  # the switch, followed from the keyboard
    switched = page.locator("html").get_attribute("lang")
    # The public map: Tab to the layer control's button, Enter opens it, Space ticks a layer.
    page.goto(f"{origin}/maps/public?lang=fr", wait_until="networkidle")
    control = page.locator(".leaflet-control-layers")
    closed = control.get_attribute("class") or ""
    searches = page.locator(".leaflet-control-search input").evaluate_all(
        "inputs => inputs.map((i) => i.getAttribute('aria-label'))"
    )
    to_layers = _tab_until(page, lambda f: "leaflet-control-layers-toggle" in f["cls"])
    page.keyboard.press("Enter")
    opened = control.get_attribute("class") or ""
    flood = control.locator("label", has_text="Aléa inondation").locator("input")
    to_flood = _tab_until(page, lambda _: flood.evaluate("e => e === document.activeElement"))
    page.keyboard.press("Space")
    ticked = flood.is_checked()
    kind = flood.evaluate("e => e.type")
    page.screenshot(path=str(artifacts / "map-layers-by-keyboard.png"))
    context.close()
    assert "skip-link" in skip["cls"] and skip["href"].endswith("/#main"), skip
    assert to_search[-1]["id"] == "q" and typed == "Lisses", to_search
    assert to_switch[-1]["hreflang"] == "en" and switched == "en", to_switch
    assert searches == ["Chercher une commune", "Chercher un parc d’activités"]  # named
    assert "leaflet-control-layers-expanded" not in closed  # collapsed over the map at first
    assert "leaflet-control-layers-toggle" in to_layers[-1]["cls"], to_layers
    assert to_layers[-1]["name"] == "Couches"  # named in the page's language
    assert "leaflet-control-layers-expanded" in opened
    assert kind == "checkbox" and ticked, to_flood


def test_every_map_has_a_text_alternative(served, origin, chromium, artifacts) -> None:
    sites = served.get(Tier.PUBLIC, "/collections/activity-sites/items").json()["features"]
    plot = gate_of(served, Tier.PUBLIC).query("activity-plots", _first()).features[0].id
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{origin}/", wait_until="networkidle")
    listed = page.locator(".home-map .site-list a").count()  # beside the home's map
    # The atlas map: its first stop for the keyboard is the link to the directory's table.
    page.goto(f"{origin}/maps/public?lang=en", wait_until="networkidle")
    first = _tab_until(page, lambda _: True)[-1]
    with page.expect_navigation(wait_until="networkidle"):
        page.keyboard.press("Enter")
    page_url = page.url
    directory = urlsplit(page_url)
    rows = page.locator("table.directory tbody tr").count()
    english = page.locator("html").get_attribute("lang")
    # A sheet's small map says where its content is written out.
    page.goto(f"{origin}/plots/{plot}", wait_until="networkidle")
    described = page.locator("#portal-map").get_attribute("aria-describedby") or ""
    note = page.locator(f"#{described}").inner_text() if described else ""
    tables = page.locator("main table").count()
    page.screenshot(path=str(artifacts / "plot-sheet-map-note.png"), full_page=True)
    context.close()
    assert listed == len(sites) > 0
    assert first["href"] == "/sites?lang=en", first
    assert directory.path == "/sites" and directory.query == "lang=en", page_url
    assert rows == len(sites) and english == "en"
    assert "tableaux" in note and tables >= 2
