"""`jfm site OUT`: the pages, their URLs and what each shows, and OUT refused or replaced whole."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner

from jfmfactory.catalog.catalog import load_catalog
from jfmfactory.cli import app
from jfmfactory.errors import JfmError
from jfmfactory.records.versions import VersionStore
from jfmfactory.views import site
from jfmfactory.views.site import MARKER, CompareColumn, SiteMarker
from published import ROLE, approve, published_project

runner = CliRunner()


def jfm_site(root: Path, out: Path) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = runner.invoke(app, ["site", str(out)], env={})
    return result.exit_code, result.stdout, result.stderr


def build(root: Path, out: Path) -> Path:
    code, stdout, stderr = jfm_site(root, out)
    assert code == 0, stderr
    assert stdout.startswith(f"site: {out}")
    return out


def codes(root: Path) -> dict[str, str]:
    """The role's code at each of its levels, as the catalog computes it."""
    focus = load_catalog(root / "catalog", root / "seeds").for_role(ROLE)
    assert focus is not None
    levels = VersionStore(root, ROLE).versions()[-1].profile.levels
    return {level: focus.code(level) for level in levels}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return published_project(tmp_path_factory.mktemp("site") / "project")


@pytest.fixture
def project_copy(published: Path, tmp_path: Path) -> Path:
    """A copy of the approved project that a test may change."""
    return Path(shutil.copytree(published, tmp_path / "project"))


@pytest.fixture(scope="module")
def built(published: Path) -> Path:
    return build(published, published.parent / "site")


def page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_text(encoding="utf-8"))


def has(name: str) -> str:
    """XPath: the element has the class `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_each_level_has_a_page_at_its_code_linked_from_the_index(published: Path, built: Path) -> None:
    by_level = codes(published)
    assert list(by_level) == ["P2", "P3", "P4", "P5", "P6", "P7"]
    index = page(built / "index.html")
    links = {a.get("href") for a in index.iter("a")}
    for level, code in by_level.items():
        assert (built / "roles" / f"{code}.html").is_file()
        assert f"roles/{code}.html" in links
        column = CompareColumn.model_validate_json((built / "data" / f"{code}.json").read_text())
        assert column.label == f"Product Management — {level}" and column.rows[0].text == code
    assert by_level["P6"] == "PRODUC0.PRODUCTM716F.P6"
    # Domain → family → focus, in the catalog's words.
    assert [text(h) for h in index.iter("h2")][1:] == ["Product and Technology"]
    assert [text(h) for h in index.iter("h3")] == ["Product"]
    marker = SiteMarker.model_validate_json((built / MARKER).read_text())
    assert (marker.generator, marker.roles, marker.pages) == ("jfm site", 1, 6)
    entry = json.loads((built / "pagefind" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == 6  # the level pages; index and compare are not searched


def test_a_level_page_highlights_its_level_with_verdict_approval_and_quotes(
    published: Path, built: Path
) -> None:
    version = VersionStore(published, ROLE).versions()[-1]
    doc = page(built / "roles" / f"{codes(published)['P6']}.html")
    assert text(doc.xpath("//h1")[0]) == "Product Management — P6"
    here = doc.xpath(f"//section[{has('level')} and {has('here')}]")
    assert [s.get("data-level") for s in here] == ["P6"]
    assert [
        text(row.xpath("th")[0]) for row in doc.xpath(f"//table[{has('guidelines')}]//tr[{has('here')}]")
    ] == ["P6"]
    # The panel's verdict: every score, the lowest, the threshold, passed.
    verdict = text(doc.get_element_by_id("verdict"))
    provenance = version.profile.provenance
    assert provenance is not None and provenance.passed
    assert "Panel verdict: passed (lowest score 4, threshold 4)" in verdict
    for dimension in provenance.scores:
        assert dimension in verdict
    # The approval record: version, who, when, the note; no override.
    record = doc.get_element_by_id("approval").xpath(".//tr")
    approval = {text(row.xpath("th")[0]): text(row.xpath("td")[0]) for row in record}
    assert approval["Version"] == "1" and approval["Approved by"] == "Ana Ruiz"
    assert approval["When"] == "2026-11-23T09:30:00+00:00" and "P7 checked with" in approval["Note"]
    assert approval["Profile digest"] == version.digest
    assert approval["Override"] == "none: the profile passed the panel"
    assert text(doc.get_element_by_id("approval-summary")).startswith("Version 1, approved by Ana Ruiz")
    assert not doc.xpath(f"//*[{has('override')}]")
    # The quotes the items rest on, word for word.
    assert version.evidence is not None
    quotes = [
        text(q)
        for q in doc.get_element_by_id("section-responsibilities-P6").xpath(
            f".//blockquote[{has('evidence')}]"
        )
    ]
    duty = version.profile.responsibilities["P6"][0]
    cited = version.evidence.quote(duty.evidence[0])
    assert cited is not None and any(" ".join(cited.text.split()) in quote for quote in quotes)
    # The adjacent roles the site has are links: here, the same role a level down and up.
    adjacent = doc.get_element_by_id("adjacent").xpath(".//a/@href")
    assert {"PRODUC0.PRODUCTM716F.P5.html", "PRODUC0.PRODUCTM716F.P7.html"} <= set(adjacent)
    # What the search reads: the page's body, its filters, and a title alias of the catalog.
    body = doc.xpath("//*[@data-pagefind-body]")[0]
    filters = {f.get("data-pagefind-filter"): text(f) for f in body.xpath(".//*[@data-pagefind-filter]")}
    assert filters == {"domain": "Product and Technology", "family": "Product", "level": "P6"}
    assert "Product Owner" in text(body.xpath(f".//*[{has('titles')}]")[0])


def test_an_override_is_shown_prominently(project_copy: Path) -> None:
    approve(project_copy, by="Kim Lee", override="The grounding reviewer misread two quotes")
    out = build(project_copy, project_copy / "site")
    doc = page(out / "roles" / "PRODUC0.PRODUCTM716F.P3.html")
    banner = doc.get_element_by_id("approval-summary")
    assert "Version 2, approved by Kim Lee" in text(banner)
    override = banner.xpath(f".//*[{has('override')}]")[0]
    assert override.get("role") == "note"
    assert (
        text(override)
        == "Approved over the panel’s verdict. Reason: The grounding reviewer misread two quotes"
    )
    assert "The grounding reviewer misread two quotes" in text(
        doc.get_element_by_id("approval").xpath(f".//*[{has('override-text')}]")[0]
    )
    assert "over the panel’s verdict" in text(page(out / "index.html").xpath(f"//li[{has('focus')}]")[0])


def test_a_role_the_catalog_lacks_is_published_apart(project_copy: Path) -> None:
    shutil.rmtree(project_copy / "catalog")
    out = build(project_copy, project_copy / "site")
    index = page(out / "index.html")
    assert [text(h) for h in index.iter("h2")][1:] == ["Not in the catalog"]
    assert [text(h) for h in index.iter("h3")] == ["Product"]  # the profile's family
    doc = page(out / "roles" / "PRODUC0.PRODUCTM716F.P4.html")
    assert (
        text(doc.xpath("//h1")[0]) == "Product Management — P4"
        and doc.get_element_by_id("approval") is not None
    )


def test_no_page_loads_anything_from_the_network(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    assert len(pages) == 8
    for path in pages:
        html = path.read_text(encoding="utf-8")
        for element, attribute, link, _ in lxml.html.fromstring(html).iterlinks():
            if attribute in ("src", "href"):
                assert not re.match(r"(?i)^(https?:)?//", link), (
                    f"{path.name}: {element.tag} {attribute}={link}"
                )
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html), path.name
    for path in [*built.glob("*.css"), *(built / "pagefind").glob("*.css")]:
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", path.read_text()), path.name


def test_a_second_build_replaces_the_site_whole(project_copy: Path) -> None:
    out = build(project_copy, project_copy / "site")
    (out / "left-over.html").write_text("<p>from before</p>")
    build(project_copy, out)
    assert not (out / "left-over.html").exists() and (out / "index.html").is_file()
    assert [p.name for p in project_copy.iterdir() if p.name.startswith(".site")] == []


def test_a_site_reached_by_a_link_is_rebuilt_where_the_link_leads(project_copy: Path) -> None:
    real = build(project_copy, project_copy / "site")
    (real / "left-over.html").write_text("<p>from before</p>")
    link = project_copy / "current"
    link.symlink_to(real)
    code, _, err = jfm_site(project_copy, link)
    assert code == 0, err
    assert link.is_symlink() and not (real / "left-over.html").exists() and (real / "index.html").is_file()


def test_a_failed_build_leaves_the_site_that_was_there(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = build(project_copy, project_copy / "site")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))

    def broken(folder: Path) -> None:
        raise JfmError("pagefind could not index the site: out of disk")

    monkeypatch.setattr(site, "_index_search", broken)
    code, _, stderr = jfm_site(project_copy, out)
    assert code == 1 and stderr == "jfm: error: pagefind could not index the site: out of disk\n"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert [p.name for p in project_copy.iterdir() if p.name.startswith(".site")] == []


def _file(root: Path) -> Path:
    (root / "notes.txt").write_text("mine")
    return root / "notes.txt"


def _foreign(root: Path) -> Path:
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("<p>someone's own site</p>")
    return root / "docs"


def _under_a_file(root: Path) -> Path:
    return _file(root) / "site"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_file, "a file, not a folder"),
        (_foreign, f"holds files jfm did not write (no {MARKER} of a site)"),
        (_under_a_file, "cannot be made"),
    ],
)
def test_an_out_that_cannot_hold_a_site_is_one_line(project_copy: Path, make, said: str) -> None:  # type: ignore[no-untyped-def]
    out = make(project_copy)
    code, stdout, stderr = jfm_site(project_copy, out)
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"jfm: error: OUT {out}: ") and said in stderr and stderr.count("\n") == 1


def test_no_approved_role_is_one_line_and_writes_nothing(project_copy: Path) -> None:
    for path in (project_copy / "published").rglob("v*.json"):
        path.unlink()
    code, _, stderr = jfm_site(project_copy, project_copy / "site")
    assert code == 2
    said = "no approved role to publish (approve a drafted profile first)"
    assert stderr == f"jfm: error: {project_copy / 'published'}: {said}\n"
    assert not (project_copy / "site").exists()


def test_a_version_file_that_does_not_read_is_named(project_copy: Path) -> None:
    broken = project_copy / "published" / ROLE / "v2.json"
    broken.write_text('{"version": 2}')
    code, _, stderr = jfm_site(project_copy, project_copy / "site")
    assert code == 2 and stderr.startswith(f"jfm: error: {broken}: ") and stderr.count("\n") == 1
