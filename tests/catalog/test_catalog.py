from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from jfmfactory.catalog.catalog import band, distance, family_code, focus_code, load_catalog
from jfmfactory.errors import BadInput

CODE = re.compile(r"^[A-Z]{6}[0-9]\.[A-Z]{8}[0-9A-F]{4}\.P6$")


@pytest.fixture
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog(REPO / "catalog")


def test_every_code_has_the_seed_shape_and_none_collide(catalog) -> None:  # type: ignore[no-untyped-def]
    codes = [focus.code("P6") for focus in catalog.foci]
    assert all(CODE.match(code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert catalog.for_role("product-management").code("P6").startswith("PRODUC")


def test_the_same_names_always_give_the_same_code_and_short_names_are_padded() -> None:
    # Fixed values: a change to the scheme would re-code every published profile.
    assert (
        family_code("Product") == "PRODUC0" and focus_code("Product", "Product Management") == "PRODUCTM716F"
    )
    assert family_code("QA")[:6] == "QAXXXX" and focus_code("QA", "UX")[:8] == "UXXXXXXX"
    assert focus_code("Product", "Product Management") != focus_code("Product", "Product Marketing")
    assert focus_code("Product", "Product Management")[:8] == focus_code("Product", "Product Marketing")[:8]


def test_two_names_that_would_share_a_code_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from jfmfactory.catalog import catalog as module

    monkeypatch.setattr(module, "focus_code", lambda family, focus: "SAMECODE0000")
    with pytest.raises(BadInput, match="share the code SAMECODE0000"):
        load_catalog(REPO / "catalog")


@pytest.mark.parametrize(
    ("other", "other_level", "expected", "expected_band"),
    [
        ("Product Management", "P5", (0.3 * 1 / 6) / 0.8, "strong"),  # same focus, a level down
        ("Product Design", "P6", (0.5 * 1 / 3) / 0.8, "strong"),  # same family
        ("Engineering Management", "P6", (0.5 * 2 / 3) / 0.8, "partial"),  # same domain
        ("Account Management", "P6", 0.5 / 0.8, "weak"),  # nothing shared
        ("Account Management", "P2", (0.5 + 0.3 * 4 / 6) / 0.8, "weak"),
    ],
)
def test_distances_match_the_hand_worked_formula(
    catalog, other, other_level, expected, expected_band
) -> None:  # type: ignore[no-untyped-def]
    pm = catalog.for_role("product-management")
    target = next(f for f in catalog.foci if f.name == other)
    d = distance(pm, "P6", target, other_level, None, None)
    assert d == pytest.approx(expected, abs=1e-4) and band(d) == expected_band


def test_drafted_skills_add_their_overlap(catalog) -> None:  # type: ignore[no-untyped-def]
    pm = catalog.for_role("product-management")
    design = next(f for f in catalog.foci if f.name == "Product Design")
    d = distance(pm, "P6", design, "P6", ["Research", "Roadmapping", "SQL"], ["research", "SQL", "Figma"])
    assert d == pytest.approx(0.5 / 3 + 0.2 * 0.5, abs=1e-4) and band(d) == "partial"


def test_adjacent_roles_are_the_nearest_first(catalog) -> None:  # type: ignore[no-untyped-def]
    pm = catalog.for_role("product-management")
    near = catalog.adjacent(pm, "P6", {})
    assert [(a.focus, a.level) for a in near[:2]] == [
        ("Product Management", "P5"),
        ("Product Management", "P7"),
    ]
    assert [(a.focus, a.level, round(a.distance, 4), a.band) for a in near] == [
        ("Product Management", "P5", 0.0625, "strong"),
        ("Product Management", "P7", 0.0625, "strong"),
        ("Product Design", "P6", 0.2083, "strong"),
        ("Product Marketing", "P6", 0.2083, "strong"),
        ("Program Management", "P6", 0.2083, "strong"),
    ]


def test_the_rubric_and_soc_data_load(catalog) -> None:  # type: ignore[no-untyped-def]
    block = catalog.rubric.block("P6")
    assert block.name == "Principal Professional" and block.years_text == "15–20 yrs"
    assert catalog.soc.detailed["11-2021"].title == "Marketing Managers" and len(catalog.soc.major) == 23
    primary = catalog.for_role("product-management").entry.classification.primary
    assert primary.code == "11-2021" and "Product Manager" in primary.reason


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        (
            "roles.toml",
            lambda t: t.replace('code = "11-2021"', 'code = "11-9999"', 1),
            "SOC 11-9999 is not in",
        ),
        ("roles.toml", lambda t: t.replace('family = "Data"', 'family = "Science"'), "is in no domain"),
        (
            "levels.toml",
            lambda t: t.replace("years = [0, 2]", "years = [0, 2]\ncolour = 1"),
            "P1.colour: Extra inputs",
        ),
        ("levels.toml", lambda t: t.split("[P7]")[0], "P7: no block"),
        ("levels.toml", lambda t: t.replace("years = [15, 20]", "years = [1, 3]"), "typical years must rise"),
        (
            "roles.toml",
            lambda t: t.replace('"Program Manager"]', '"Product Owner"]'),
            "belong to more than one focus",
        ),
    ],
)
def test_a_malformed_catalog_file_is_named(tmp_path: Path, file: str, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "catalog"
    shutil.copytree(REPO / "catalog", folder)
    (folder / file).write_text(edit((folder / file).read_text()))
    with pytest.raises(BadInput, match=re.escape(message)) as failure:
        load_catalog(folder)
    assert str(folder / file) in str(failure.value)


def _manifest(seeds: Path, role: str, focus: str, family: str) -> None:
    (seeds / role).mkdir(parents=True)
    (seeds / role / "manifest.toml").write_text(
        f'title = "T"\nfamily = "{family}"\nfocus = "{focus}"\nlevels = ["P2"]\n'
    )


def test_a_focus_without_seeds_is_drafted_from_the_role_whose_manifest_names_it(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    _manifest(seeds, "ds-b", "data science", "Data")  # named in another case
    _manifest(seeds, "ds-a", "Data Science", "Data")  # the first by name takes it
    _manifest(seeds, "design", "Product Design", "Engineering")  # not that focus's family
    _manifest(seeds, "product-management", "Software Engineering", "Engineering")  # a focus's own seeds
    (seeds / "broken").mkdir()
    (seeds / "broken" / "manifest.toml").write_text("focus = [")  # passed over, not a failure
    catalog = load_catalog(REPO / "catalog", seeds)
    seeded = {focus.name: focus.entry.seeds for focus in catalog.foci if focus.entry.seeds}
    assert seeded == {"Product Management": "product-management", "Data Science": "ds-a"}
    assert catalog.for_role("ds-a").name == "Data Science" and catalog.for_role("ds-b") is None
    # By default the catalog reads the seeds/ beside it: the repository's own roles.
    assert load_catalog(REPO / "catalog").for_role("ds-a") is None
