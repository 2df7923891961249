"""A draft against an approved version, item by item: added, removed, changed words marked."""

from __future__ import annotations

from conftest import REPO, canned_profile
from jfmfactory.inputs.seeds import load_role
from jfmfactory.views.diff import ItemChange, item_changes

APPROVED = canned_profile(load_role(REPO / "seeds", "product-management"))


def test_items_added_removed_and_changed_are_told_apart_and_nothing_else_is_listed() -> None:
    draft = APPROVED.model_copy(deep=True)
    p3 = draft.responsibilities["P3"]
    gone = p3.pop(1)
    p3[0] = p3[0].model_copy(update={"text": p3[0].text.replace(" ", " closely ", 1)})
    draft.responsibilities["P5"].append(
        draft.responsibilities["P5"][0].model_copy(update={"text": "Mentors peers."})
    )
    cell = draft.guidelines["P2"].knowledge
    draft.guidelines["P2"].knowledge = cell.model_copy(update={"text": cell.text + " Widely."})
    changes = item_changes(APPROVED, draft)
    assert [(c.section, c.change) for c in changes] == [
        ("responsibilities.P3", "changed"),
        ("responsibilities.P3", "removed"),
        ("responsibilities.P5", "added"),
        ("guidelines.P2", "changed"),
    ]
    assert changes[1].old == gone.text and changes[2].new == "Mentors peers."
    assert item_changes(APPROVED, APPROVED) == []
    # What names the profile comes first: a changed code moves every page of the site.
    renamed = APPROVED.model_copy(update={"title": "Product Leadership"})
    assert [(c.section, c.old, c.new) for c in item_changes(APPROVED, renamed)] == [
        ("title", APPROVED.title, "Product Leadership")
    ]


def test_a_change_marks_the_words_removed_and_added() -> None:
    change = ItemChange("skills", "changed", "Runs market research.", "Runs user research.")
    assert change.words() == [
        ("kept", "Runs"),
        ("removed", "market"),
        ("added", "user"),
        ("kept", "research."),
    ]
    assert ItemChange("skills", "added", None, "New skill").words() == [("added", "New skill")]
