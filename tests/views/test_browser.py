"""The report and a published level page, opened in headless Chromium (Debian's package).

Playwright drives the system browser (`/usr/bin/chromium`; Playwright's own browser download is
not used). Screenshots land in test-output/ for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO, Script, canned_profile
from jfmfactory.api import DraftOptions, draft
from jfmfactory.cli import app
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO / "test-output" / "screenshots"
CASSETTE = REPO / "tests" / "cassettes" / "product-management.yaml"
# Chromium as root, offline, with no profile of its own (see the machine notes in the README).
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip

runner = CliRunner()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./dev test installs Debian's chromium package")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose out/ holds the recorded embedded run, replayed."""
    root = tmp_path_factory.mktemp("browser") / "project"
    for folder in ("seeds", "prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, root / folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = runner.invoke(
            app,
            ["draft", "--role", "product-management", "--max-rounds", "2", "--replay", str(CASSETTE)],
            env={},
        )
        assert result.exit_code in (0, 3), result.output
    return root


@pytest.fixture
def faulted(project: Project, script: Script, endpoint_env: dict[str, str]) -> Path:
    """A project whose out/ holds a one-round run a reviewer faulted with a verified quote."""
    duty = canned_profile(load_role(REPO / "seeds", "product-management")).responsibilities["P3"][0]
    issue = {"section": "responsibilities.P3", "quote": " ".join(duty.text.split()[:4]), "problem": "vague"}
    script.verdicts["Clarity"] = [(3, [issue])]
    draft(project, DraftOptions(role="product-management", model="m", max_rounds=1), endpoint_env)
    return project.root


def _jfm(root: Path, *args: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = runner.invoke(app, list(args), env={})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_report_shows_the_grid_and_a_highlighted_quote(browser, faulted: Path) -> None:  # type: ignore[no-untyped-def]
    _jfm(faulted, "report", "--role", "product-management")
    report = faulted / "out" / "product-management" / "report.html"
    html = report.read_text()
    assert not re.search(r"<link|<script|@import|url\(|src=", html)  # nothing fetched: works offline
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(report.as_uri())
    grid = page.locator("#score-grid")
    assert grid.is_visible() and grid.locator("tr").count() >= 2
    assert grid.locator("td.fail").count() + grid.locator("td.pass").count() > 0
    quote = page.locator("#profile mark.quote").first
    quote.scroll_into_view_if_needed()
    assert quote.is_visible() and quote.inner_text().strip()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-top.png"))
    page.screenshot(path=str(SCREENSHOTS / "report-quote.png"), clip=_around(quote.bounding_box()))
    page.close()


def test_a_rendered_level_page_highlights_that_level(browser, replayed: Path) -> None:  # type: ignore[no-untyped-def]
    _jfm(replayed, "render", "--role", "product-management", "--level", "P6", "--format", "html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((replayed / "out" / "product-management" / "product-management-P6.html").as_uri())
    assert page.locator("h1").inner_text().endswith("— P6")
    here = page.locator("section.level.here")
    assert here.count() == 1 and here.get_attribute("data-level") == "P6" and here.is_visible()
    for section in ("#level-block", "#adjacent", "#classification"):
        assert page.locator(section).is_visible()
    assert "11-2021 Marketing Managers" in page.locator("#classification").inner_text()
    row = page.locator("table.guidelines tr.here")
    assert row.count() == 1 and row.locator("th").inner_text() == "P6"
    highlighted = row.evaluate("el => getComputedStyle(el.querySelector('td')).backgroundColor")
    plain = page.locator("table.guidelines tr[data-level='P5'] td").first.evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert highlighted != plain
    here.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "level-P6.png"), full_page=True)
    page.close()


def _around(box: dict[str, float] | None) -> dict[str, float]:
    assert box is not None
    return {"x": 0, "y": max(0, box["y"] - 200), "width": 1280, "height": 500}
