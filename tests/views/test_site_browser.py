"""The site of `jfm site`, served on loopback and used in headless Chromium (Debian's, as in
test_browser.py): by clicks and by keyboard, its search, its compare page, its print style, what
it requests, and axe-core's accessibility rules. Its screenshots land in test-output/ (the README's,
docs/site-*.png, are copies of them).
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator

import pytest
from test_browser import SCREENSHOTS, browser  # noqa: F401 (a fixture, shared)
from typer.testing import CliRunner

from jfmfactory.cli import app
from published import published_project

P6 = "roles/PRODUC0.PRODUCTM716F.P6.html"

runner = CliRunner()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site of an approved project, served over http on loopback (Pagefind needs http)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root = published_project(tmp_path_factory.mktemp("site-browser") / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = runner.invoke(app, ["site", "site"], env={})
    assert result.exit_code == 0, result.output
    handler = functools.partial(Quiet, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser, served: str) -> Iterator[object]:  # type: ignore[no-untyped-def]  # noqa: F811
    """A page that records every request it makes; none may leave the site's server."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    yield page
    page.close()
    assert requested
    outside = [url for url in requested if not url.startswith((served, "data:"))]
    assert outside == [], f"requests outside the site: {outside}"


def search(page, served: str, words: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.goto(served + "index.html")
    page.locator("#search-box input").fill(words)
    results = page.locator(".pagefind-ui__result-link")
    results.first.wait_for(timeout=10_000)
    return [link.inner_text() for link in results.all()]


def test_from_the_index_to_a_level_page_by_clicks(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "index.html")
    page.get_by_role("link", name="Product Management P6").click()
    page.wait_for_url(served + P6)
    assert page.locator("h1").inner_text() == "Product Management — P6"
    here = page.locator("section.level.here")
    assert here.count() == 1 and here.get_attribute("data-level") == "P6"
    highlighted = here.evaluate("el => getComputedStyle(el).backgroundColor")
    plain = page.locator("section.level[data-level='P5']").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert highlighted != plain
    assert page.locator("#approval-summary").inner_text().startswith("Version 1, approved by Ana Ruiz")
    assert page.locator("#section-responsibilities-P6 blockquote.evidence").first.is_visible()
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.screenshot(path=str(SCREENSHOTS / "site-level.png"))


def test_from_the_index_to_a_level_page_by_keyboard_alone(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "index.html")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Product Management P6":
            break
    else:
        pytest.fail("Tab never reached the link to Product Management P6")
    page.keyboard.press("Enter")
    page.wait_for_url(served + P6)
    assert page.locator("h1").inner_text() == "Product Management — P6"
    page.keyboard.press("Tab")  # the first stop of every page skips the navigation
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.locator(".skip").is_visible()


@pytest.mark.parametrize("alias", ["Product Owner", "Head of Product"])
def test_a_title_alias_finds_its_role(page, served: str, alias: str) -> None:  # type: ignore[no-untyped-def]
    found = search(page, served, alias)
    assert found and all(title.startswith("Product Management — P") for title in found)
    if alias == "Product Owner":  # a title of the catalog's; the profile's sources do not use it
        page.screenshot(path=str(SCREENSHOTS / "site-search.png"))
    page.locator(".pagefind-ui__result-link").first.click()
    page.wait_for_url(f"{served}roles/PRODUC0.PRODUCTM716F.P*.html")
    assert alias in page.locator(".titles").inner_text()


def test_two_levels_side_by_side(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + P6)
    page.get_by_role("link", name="P5", exact=True).click()
    table = page.locator("#compare")
    table.locator("tr").nth(1).wait_for()
    headings = table.locator("tr").first.locator("th").all_inner_texts()
    assert headings == ["Aspect", "Product Management — P5", "Product Management — P6"]
    assert table.locator("tr").count() == 10
    assert "PRODUC0.PRODUCTM716F.P5" in table.locator("tr").nth(1).inner_text()


def test_print_leaves_out_the_site_chrome(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + P6)
    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible()
    assert not page.get_by_role("link", name="P5", exact=True).is_visible()
    assert page.locator("h1").is_visible() and page.locator(".override, #approval").first.is_visible()
    page.goto(served + "index.html")
    page.emulate_media(media="print")
    assert not page.locator("#search").is_visible() and page.locator("li.focus").is_visible()


def test_no_serious_accessibility_violation(page, served: str) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = {}
    search(page, served, "Product Owner")  # the index with the search's results showing
    for where in ("index.html?q", P6, "compare.html?a=PRODUC0.PRODUCTM716F.P2&b=PRODUC0.PRODUCTM716F.P3"):
        if where != "index.html?q":
            page.goto(served + where)
            page.wait_for_load_state("networkidle")
        violations = axe.run(page).response["violations"]
        found[where] = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
    assert found == {where: [] for where in found}
