from __future__ import annotations

from conftest import REPO, RESPONSIBILITIES, canned_profile
from jfmfactory.inputs.seeds import load_role
from jfmfactory.pipeline.drafter import RESPONSIBILITIES as RESPONSIBILITIES_KIND
from jfmfactory.pipeline.drafter import SECTION_KINDS, items, section_keys

PROFILE = canned_profile(load_role(REPO / "seeds", "product-management"))


def test_sections_are_keyed_in_profile_order() -> None:
    assert section_keys(["P2", "P3"]) == [
        "overview",
        "responsibilities.P2",
        "responsibilities.P3",
        "guidelines.P2",
        "guidelines.P3",
        "skills",
        "tools",
        "aliases",
    ]
    assert RESPONSIBILITIES_KIND.key("P4") == "responsibilities.P4"
    assert all((REPO / "prompts" / kind.template).is_file() for kind in SECTION_KINDS)


def test_every_item_is_walked_with_its_section_text_and_sources() -> None:
    walked = items(PROFILE)
    overview = [item for item in walked if item.section == "overview"]
    assert [item.text for item in overview] == [PROFILE.description, "Product Design: UX craft"]
    assert all(item.sources is None for item in overview)
    by_section = {item.section: item for item in reversed(walked)}  # the first item of each
    assert by_section["responsibilities.P3"].text == RESPONSIBILITIES["P3"][0]
    assert by_section["skills"].text == "Prioritization: Makes trade-offs in product prioritization"
    assert (by_section["tools"].text, by_section["tools"].sources) == ("OKR", ["S1"])
    assert (by_section["aliases"].text, by_section["aliases"].sources) == ("Senior Product Manager", ["S1"])
    assert len(walked) == 2 + 6 * 5 + 6 * 4 + 5 + 3 + 1
