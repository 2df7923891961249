from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO, Script, canned_profile, draft_answer, level_of
from jfmfactory.api import DraftOptions, draft
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.views.level import level_view
from jfmfactory.views.outputs import load_outputs
from jfmfactory.views.report import citing_items, highlight, report_html
from scripted_server import ScriptedServer

runner = CliRunner()
ISSUE = {
    "section": "responsibilities.P3",
    "quote": "Collaborates with cross-functional partners",
    "problem": "Which partners?",
}


@pytest.fixture
def drafted(project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]) -> Path:
    from conftest import RESPONSIBILITIES, cited

    script.verdicts["Clarity"] = [(3, [ISSUE]), (5, [])]
    revised = [*RESPONSIBILITIES["P3"]]
    revised[1] = "Collaborates with engineers and designers to deliver the product"

    def drafter(request):
        if "Faults to fix" in request["messages"][-1]["content"]:
            return {"responsibilities": [cited(text) for text in revised]}
        return draft_answer("ResponsibilitiesDraft", level_of(request))

    script.overrides["ResponsibilitiesDraft"] = drafter
    draft(project, DraftOptions(role="product-management", model="m"), endpoint_env)
    return project.out_dir("product-management", None)


def test_highlight_marks_each_quote_once_and_escapes_the_rest() -> None:
    html = highlight("Leads <complex> work;  leads TEAMS well", ["leads teams", "<complex>", "absent words"])
    marked = '<mark class="quote">&lt;complex&gt;</mark> work;  <mark class="quote">leads TEAMS</mark>'
    assert html == f"Leads {marked} well"


def test_the_report_holds_grid_quotes_diffs_sources_and_calls(drafted: Path) -> None:
    html = report_html(load_outputs(drafted))
    assert html.count('<tr class="here"><th>2 (kept)</th>') == 1
    assert (
        '<mark class="quote">Collaborates with cross-functional partners</mark>' not in html
    )  # round 2 is kept
    assert "“Collaborates with cross-functional partners” — Which partners?" in html
    assert "Round 1 → 2: responsibilities.P3" in html
    added = '<span class="add">+   &#34;text&#34;: &#34;Collaborates with engineers and designers'
    assert added in html and '<span class="del">-   &#34;text&#34;: &#34;Collaborates with cross' in html
    assert "[S1] How do the skills you need differ" in html and "item(s) cite it" in html
    assert html.count("<td>drafter:") + html.count("<td>reviewer:") == 21 + 6


def test_every_item_citing_a_source_is_counted_aliases_included() -> None:
    citing = citing_items(canned_profile(load_role(REPO / "seeds", "product-management")))
    assert {source: len(cited) for source, cited in citing.items()} == {"S1": 57, "S2": 53}
    assert ("aliases", "Senior Product Manager") in citing["S1"]
    assert ("skills", "Prioritization: Makes trade-offs in product prioritization") in citing["S2"]


def test_the_kept_rounds_verified_quotes_are_marked_in_the_profile(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    script.verdicts["Clarity"] = [(3, [ISSUE])]
    draft(project, DraftOptions(role="product-management", model="m", max_rounds=1), endpoint_env)
    html = report_html(load_outputs(project.out_dir("product-management", None)))
    assert '<mark class="quote">Collaborates with cross-functional partners</mark>' in html


def test_a_level_page_highlights_its_level_in_every_format(drafted: Path) -> None:
    outputs = load_outputs(drafted)
    md = level_view(outputs, "P6", "md")
    assert md.startswith("# Product Management — P6") and "### ▶ P6 (your level)" in md
    assert "| **▶ P6** |" in md and "`PRODUC0.PRODUCTM716F.P6`" in md
    html = level_view(outputs, "P6", "html")
    assert html.count('class="level here"') == 1 and '<tr class="here" id="section-guidelines-P6"' in html
    data = json.loads(level_view(outputs, "P6", "json"))
    assert data["level"] == "P6" and data["profile"]["levels"][-2] == "P6" and "catalog" not in data
    with pytest.raises(BadInput, match="--level P9: the profile has levels P2, P3"):
        level_view(outputs, "P9", "md")
    with pytest.raises(BadInput, match="--format pdf"):
        level_view(outputs, "P6", "pdf")


def test_show_prints_status_grid_verdicts_and_sources(
    drafted: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jfmfactory.cli import app

    monkeypatch.chdir(project.root)
    result = runner.invoke(
        app, ["show", "--role", "product-management", "--round", "1"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "passed (stopped: passed); kept round 2" in result.stdout
    assert "Round 1" in result.stdout and "check:duplicates" in result.stdout
    assert (
        '[✓] responsibilities.P3: "Collaborates with cross-functional partners" — Which partners?'
        in result.stdout
    )
    # Every item that cites S1: 30 responsibilities, 18 guideline cells (typical years are judged
    # against the rubric, not the sources), 5 skills, 3 tools, 1 alias.
    assert "[S1] How do the skills you need differ" in result.stdout
    assert "cited by 57 item(s): aliases, guidelines.P2," in result.stdout
    missing = runner.invoke(app, ["show", "--role", "product-management", "--round", "7"])
    assert missing.exit_code == 2 and "--round 7: no such round" in missing.stderr


def test_views_of_a_role_never_drafted_say_so(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from jfmfactory.cli import app

    monkeypatch.chdir(project.root)
    for command in (["show"], ["report"], ["render", "--level", "P6"]):
        result = runner.invoke(app, [*command, "--role", "product-management"])
        assert result.exit_code == 2 and "no finished run here (run jfm draft first)" in result.stderr


def test_report_and_render_write_beside_the_run(
    drafted: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jfmfactory.cli import app

    monkeypatch.chdir(project.root)
    assert runner.invoke(app, ["report", "--role", "product-management"]).exit_code == 0
    assert (drafted / "report.html").read_text().startswith("<!doctype html>")
    result = runner.invoke(app, ["render", "--role", "product-management", "--level", "P6"])
    assert result.exit_code == 0 and "### ▶ P6 (your level)" in result.stdout
    assert (drafted / "product-management-P6.md").is_file()
    shutil.rmtree(drafted / "drafts")
    assert "The rounds' drafts are not in this folder" in report_html(load_outputs(drafted))


def test_a_level_page_carries_the_catalog_layer(
    drafted: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from jfmfactory.cli import app

    monkeypatch.chdir(project.root)
    result = runner.invoke(
        app, ["render", "--role", "product-management", "--level", "P6"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    md = (drafted / "product-management-P6.md").read_text()
    code = re.search(r"`([A-Z0-9.]+)`", md)
    assert code and re.match(r"^[A-Z]{6}[0-9]\.[A-Z]{8}[0-9A-F]{4}\.P6$", code.group(1))
    assert "## Level — P6 — Principal Professional" in md and "- **Typical experience** — 15–20 yrs" in md
    assert "- code=11-2021 (Marketing Managers; O*NET 11-2021.00) — primary: O*NET lists" in md
    assert "— alternate 1:" in md and "source=jfm-factory.resolve" in md
    assert (
        "- Product Management — P5 (`PRODUC0.PRODUCTM716F.P5`): distance 0.05, strong" in md
    )  # both drafted: 0.3 · 1/6, skills identical
    assert "- Senior Product Manager [S1]" in md


def test_compare_two_levels_side_by_side_in_the_terminal_and_html(
    drafted: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jfmfactory.cli import app

    monkeypatch.chdir(project.root)
    html = project.root / "compare.html"
    args = ["compare", "product-management@P5", "product-management@P6", "--html", str(html)]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "product-management@P5 vs product-management@P6 — distance 0.05 (strong)" in result.stdout
    assert (
        "Expert Professional (12–15 yrs)" in result.stdout
        and "Principal Professional (15–20 yrs)" in result.stdout
    )
    assert "Leads the product strategy for a portfolio of products" in result.stdout
    page = html.read_text()
    assert page.count("<tr><th>") >= 10 and "Oversees a group of products or an entire product line" in page
    unknown = runner.invoke(app, ["compare", "product-management@P5", "data-science"])
    assert unknown.exit_code == 2 and "data-science" in unknown.stderr


def test_the_json_level_page_carries_the_catalog_layer(
    drafted: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jfmfactory.views.entry import render_level

    _, text = render_level(project, "product-management", None, "P6", "json")
    catalog = json.loads(text)["catalog"]
    assert catalog["level_block"]["name"] == "Principal Professional"
    assert [m["code"] for m in catalog["classification"]] == ["11-2021", "11-3021", "11-9199"]
    assert catalog["adjacent"][0]["band"] == "strong"


def test_profile_text_that_looks_like_markup_is_printed_as_is(
    drafted: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jfmfactory.cli import app

    path = drafted / "profile.json"
    data = json.loads(path.read_text())
    data["responsibilities"]["P5"][0]["text"] = "Leads [sic] the [/x] strategy"
    path.write_text(json.dumps(data))
    monkeypatch.chdir(project.root)
    result = runner.invoke(
        app, ["compare", "product-management@P5", "product-management@P6"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "Leads [sic] the [/x] strategy" in result.stdout
