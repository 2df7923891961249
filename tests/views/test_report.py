from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from conftest import REPO, Script, canned_profile
from jfmfactory.api import DraftOptions, draft
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.records.evidence import Evidence
from jfmfactory.records.markdown import render_markdown
from jfmfactory.views.level import level_view
from jfmfactory.views.outputs import load_outputs
from jfmfactory.views.report import citing_items, highlight, report_html
from scripted_answers import cells_from_quotes, round_one_calls
from scripted_server import ScriptedServer

runner = CliRunner()
#: What the scripted drafter writes for the shipped role (a run's first draft).
PROFILE = canned_profile(load_role(REPO / "seeds", "product-management"))
#: The P3 responsibility a reviewer faults in round 1; round 2 redrafts it from another quote.
P3_ITEM = PROFILE.responsibilities["P3"][3]
ISSUE = {
    "section": "responsibilities.P3",
    "quote": " ".join(P3_ITEM.text.split()[:4]),
    "problem": "Which partners?",
}
#: The first draft's calls: per level five responsibilities and three guideline cells, six
#: skills, five tools and the overview; then the five reviewers.
ROUND_ONE_CALLS = round_one_calls() + 5


@pytest.fixture
def drafted(project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]) -> Path:
    script.verdicts["Clarity"] = [(3, [ISSUE]), (5, [])]
    # Cells drafted from quotes, so that every kind of cited item is shown with its quote.
    draft(cells_from_quotes(project), DraftOptions(role="product-management", model="m"), endpoint_env)
    return project.out_dir("product-management", None)


def _evidence(folder: Path) -> Evidence:
    return Evidence.model_validate_json((folder / "evidence.json").read_text())


def test_highlight_marks_each_quote_once_and_escapes_the_rest() -> None:
    html = highlight("Leads <complex> work;  leads TEAMS well", ["leads teams", "<complex>", "absent words"])
    marked = '<mark class="quote">&lt;complex&gt;</mark> work;  <mark class="quote">leads TEAMS</mark>'
    assert html == f"Leads {marked} well"


def test_the_report_holds_grid_quotes_diffs_sources_and_calls(drafted: Path) -> None:
    outputs = load_outputs(drafted)
    html = report_html(outputs)
    assert html.count('<tr class="here"><th>2 (kept)</th>') == 1
    assert f'<mark class="quote">{escape(ISSUE["quote"])}</mark>' not in html  # round 2 is kept
    assert f"“{escape(ISSUE['quote'])}” — Which partners?" in html
    assert "Round 1 → 2: responsibilities.P3" in html
    # The faulted item is gone: drafted again from another quote, or left out where none passes.
    removed = f'<span class="del">-   &#34;text&#34;: &#34;{escape(P3_ITEM.text)}&#34;,</span>'
    assert removed in html and escape(P3_ITEM.text) not in html.split("Round 1 → 2")[0]
    assert "[S1] How do the skills you need differ" in html and "item(s) cite it" in html
    calls = sum(len(round_record.calls) for round_record in outputs.run.rounds)
    assert calls > ROUND_ONE_CALLS  # round 2 redrafted the faulted item and asked the panel again
    assert html.count("<td>drafter:") + html.count("<td>reviewer:") == calls


def test_the_report_shows_beside_each_item_the_quotes_it_rests_on(drafted: Path) -> None:
    html = report_html(load_outputs(drafted))
    evidence = _evidence(drafted)
    profile = load_outputs(drafted).profile
    assert "Under each item, the words of the sources it rests on." in html
    first = profile.responsibilities["P2"][0]
    quote = evidence.quote(first.evidence[0])
    assert quote is not None
    words = escape(" ".join(quote.text.split()))
    shown = f'<blockquote class="evidence">“{words}” <span class="muted">({quote.source})</span></blockquote>'
    assert f'{escape(first.text)} <span class="muted">[{quote.source}]</span>{shown}</li>' in html
    cell = profile.guidelines["P4"].knowledge
    cell_quote = evidence.quote(cell.evidence[0])
    assert (
        cell_quote is not None
        and f"“{escape(cell_quote.text)}”" in html.split('id="section-guidelines-P4"')[1]
    )
    # Every item that cites a quote shows it: the responsibilities, 18 guideline cells (not the
    # years), the skills and tools; an alias is its quote word for word, so it shows nothing more.
    duties = sum(len(level) for level in profile.responsibilities.values())
    assert html.count('<blockquote class="evidence">') == duties + 18 + len(profile.skills) + len(
        profile.tools
    )


def test_a_quote_that_looks_like_markup_is_shown_as_text(drafted: Path) -> None:
    item = load_outputs(drafted).profile.responsibilities["P2"][0]
    data = json.loads((drafted / "evidence.json").read_text())
    hostile = '<script>alert("x")</script> **bold** [link](http://x) & <b>_it_</b> `code`'
    for quote in data["quotes"]:
        if quote["id"] == item.evidence[0]:
            quote["text"] = hostile
    (drafted / "evidence.json").write_text(json.dumps(data))

    html = report_html(load_outputs(drafted))
    assert "<script>" not in html and "<b>" not in html
    assert f"“{escape(hostile)}”" in html

    markdown = render_markdown(load_outputs(drafted).profile, _evidence(drafted))
    escaped = r'\<script>alert("x")\</script> \*\*bold\*\* \[link\](http://x) & \<b>\_it\_\</b> \`code\`'
    assert f"- {item.text} [{', '.join(item.sources)}]\n  > “{escaped}” (" in markdown


def test_profile_md_carries_the_quote_of_every_item(drafted: Path) -> None:
    text = (drafted / "profile.md").read_text()
    evidence = _evidence(drafted)
    profile = load_outputs(drafted).profile
    for level in profile.levels:
        for item in profile.responsibilities[level]:
            (qid,) = item.evidence
            quote = evidence.quote(qid)
            assert quote is not None
            cited = f"- {item.text} [{quote.source}]\n  > “{' '.join(quote.text.split())}” ({quote.source})\n"
            assert cited in text
    notes = text.split("What the cells rest on, word for word:")[1].split("## Skills")[0]
    cell = profile.guidelines["P5"].complexity
    cell_quote = evidence.quote(cell.evidence[0])
    assert cell_quote is not None
    assert f"- P5, Complexity & Problem Solving\n  > “{cell_quote.text}” ({cell_quote.source})\n" in notes
    assert notes.count("\n- P") == 6 * 3  # every cell but the typical years, which is the rubric's
    skill = profile.skills[0]
    skill_quote = evidence.quote(skill.evidence[0])
    assert skill_quote is not None and f"[{skill_quote.source}]\n  > “{skill_quote.text}”" in text
    assert not re.search(r"\bE\d+\b", text)  # quote ids stay in profile.json


def test_a_profile_written_without_evidence_takes_the_evidence_json_beside_it(drafted: Path) -> None:
    from jfmfactory.records.store import RunStore

    store = RunStore(drafted)
    profile = store.read_profile()
    assert profile is not None
    before = (drafted / "profile.md").read_text()
    store.write_profile(profile)
    assert (drafted / "profile.md").read_text() == before and "\n  > “" in before
    (drafted / "evidence.json").unlink()
    store.write_profile(profile)
    bare = (drafted / "profile.md").read_text()
    assert "\n  > “" not in bare and "What the cells rest on" not in bare
    assert bare == render_markdown(profile)


def test_every_item_citing_a_source_is_counted_aliases_included() -> None:
    citing = citing_items(PROFILE)
    # Responsibilities, skills, tools, aliases; no guideline cell: the rubric writes them, and the
    # typical years.
    duties = sum(len(level) for level in PROFILE.responsibilities.values())
    lists = len(PROFILE.skills) + len(PROFILE.tools) + len(PROFILE.aliases)
    assert sum(len(cited) for cited in citing.values()) == duties + lists
    for alias in PROFILE.aliases:
        assert [("aliases", alias.title)] == [c for c in citing[alias.sources[0]] if c[1] == alias.title]
    skill = PROFILE.skills[0]
    assert ("skills", f"{skill.name}: {skill.description}") in citing[skill.sources[0]]


def test_the_kept_rounds_verified_quotes_are_marked_in_the_profile(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    script.verdicts["Clarity"] = [(3, [ISSUE])]
    draft(project, DraftOptions(role="product-management", model="m", max_rounds=1), endpoint_env)
    html = report_html(load_outputs(project.out_dir("product-management", None)))
    assert f'<mark class="quote">{escape(ISSUE["quote"])}</mark>' in html


def test_a_level_page_highlights_its_level_in_every_format(drafted: Path) -> None:
    outputs = load_outputs(drafted)
    md = level_view(outputs, "P6", "md")
    assert md.startswith("# Product Management — P6") and "### ▶ P6 (your level)" in md
    assert "| **▶ P6** |" in md and "`PRODUC0.PRODUCTM716F.P6`" in md
    html = level_view(outputs, "P6", "html")
    assert html.count('class="level here"') == 1 and '<tr class="here" id="section-guidelines-P6"' in html
    assert 'class="evidence"' not in html  # the published page leaves the quotes to the report
    data = json.loads(level_view(outputs, "P6", "json"))
    assert data["level"] == "P6" and data["profile"]["levels"][-2] == "P6" and "catalog" not in data
    with pytest.raises(BadInput, match="--level P9: the profile has levels P2, P3"):
        level_view(outputs, "P9", "md")
    with pytest.raises(BadInput, match="--format pdf"):
        level_view(outputs, "P6", "pdf")


def test_show_prints_status_grid_verdicts_sources_and_what_each_section_rests_on(
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
    assert f'[✓] responsibilities.P3: "{ISSUE["quote"]}" — Which partners?' in result.stdout
    profile = load_outputs(drafted).profile
    citing = citing_items(profile)
    first = sorted({section for section, _ in citing["S1"]})[:2]
    assert "[S1] How do the skills you need differ" in result.stdout
    assert f"cited by {len(citing['S1'])} item(s): {', '.join(first)}," in result.stdout
    assert "What each section rests on (kept round 2)" in result.stdout
    p3 = sorted({item.sources[0] for item in profile.responsibilities["P3"]})
    count = len(profile.responsibilities["P3"])
    assert f"  responsibilities.P3: {count} quote(s) of {', '.join(p3)}\n" in result.stdout
    assert "  guidelines.P7: 3 quote(s) of " in result.stdout and "overview:" not in result.stdout
    assert "on no quote" not in result.stdout
    missing = runner.invoke(app, ["show", "--role", "product-management", "--round", "7"])
    assert missing.exit_code == 2 and "--round 7: no such round" in missing.stderr


def test_a_reviewer_not_asked_in_a_round_is_said_so_in_the_report_and_by_show(drafted: Path) -> None:
    from rich.console import Console

    from jfmfactory.views.console import show

    outputs = load_outputs(drafted)
    first = outputs.run.rounds[0]
    # As the loop records a round whose grounding check failed: no grounding reviewer in it.
    first.reviews = [r for r in first.reviews if not (r.kind == "reviewer" and r.dimension == "grounding")]
    line = "grounding reviewer not asked: a check had already failed the dimension"
    assert report_html(outputs).count(line) == 1
    console = Console(record=True, width=200)
    show(console, outputs, 1)
    assert line in console.export_text()
    console = Console(record=True, width=200)
    show(console, outputs, 2)
    assert "not asked" not in console.export_text()


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
    (drafted / "evidence.json").unlink()
    html = report_html(load_outputs(drafted))
    assert "The rounds' drafts are not in this folder" in html
    assert "The quotes the items rest on are not in this folder" in html
    assert 'class="evidence"' not in html
    shown = runner.invoke(app, ["show", "--role", "product-management"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "What each section rests on" not in shown.stdout


def test_a_level_page_carries_the_catalog_layer(
    drafted: Path, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    alias = PROFILE.aliases[0]
    assert f"- {alias.title} [{', '.join(alias.sources)}]" in md


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
    shortest = min((item.text for item in PROFILE.responsibilities["P5"]), key=len)
    assert shortest in result.stdout
    page = html.read_text()
    cell = load_outputs(drafted).profile.guidelines["P6"].knowledge.text
    assert page.count("<tr><th>") >= 10 and str(escape(cell)) in page
    unknown = runner.invoke(app, ["compare", "product-management@P5", "data-science"])
    assert unknown.exit_code == 2 and "data-science" in unknown.stderr
    into_a_folder = runner.invoke(app, [*args[:3], "--html", str(project.root)])
    assert into_a_folder.exit_code == 2
    assert into_a_folder.stderr == f"jfm: error: --html {project.root}: cannot be written (Is a directory)\n"


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
