"""Readers' verdicts on single items (`items.toml`): recorded per reader by `jfm label --item`,
agreed or settled, and measured against the gate."""

from __future__ import annotations

import pytest
from test_cases import _drafted

from jfmfactory.calibration.cases import load_case
from jfmfactory.calibration.items import (
    ItemFloors,
    ItemLabels,
    ItemTrial,
    ItemVerdict,
    agreed,
    item_measures,
)
from jfmfactory.inputs.project import Project
from test_cli import jfm

FLOORS = ItemFloors(struck_flagged=0.9, fault_flagged=0.8, fault_min_items=2, published_flagged=0.05)


def test_a_readers_item_verdicts_gather_beside_another_readers_and_one_reader_judges_once(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drafted(project)
    item = ["label", "--role", "product-management", "--item", "responsibilities.P3.1"]
    first = jfm(
        project, monkeypatch, *item, "--strike", "--fault", "distorted", "--by", "ana", "--note", "adds"
    )
    second = jfm(project, monkeypatch, *item, "--keep", "--by", "bo")
    assert first.exit_code == second.exit_code == 0, first.stderr + second.stderr
    folder = project.root / first.stdout.split("labelled: ")[1].strip()
    case = load_case(folder)
    assert case.items is not None and not case.spec.labels
    assert [(v.item, v.verdict, v.fault, v.by) for v in case.items.verdicts] == [
        ("responsibilities.P3.1", "strike", "distorted", "ana"),
        ("responsibilities.P3.1", "keep", None, "bo"),
    ]
    assert case.items.verdicts[0].text == case.profile.responsibilities["P3"][0].text
    assert agreed(case.items) == {}  # the readers disagree and nobody settled it
    again = jfm(project, monkeypatch, *item, "--keep", "--by", "ana")
    assert again.exit_code == 2 and "ana has judged it already" in again.stderr
    assert len(load_case(folder).items.verdicts) == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--item", "responsibilities.P9.1", "--keep"], "--item responsibilities.P9.1: the profile has no"),
        (["--item", "skills.1", "--strike"], "--fault : name the class of the fault"),
        (["--item", "skills.1", "--strike", "--fault", "rude"], "--fault rude: name the class of the fault"),
        (["--item", "skills.1", "--keep", "--fault", "garbled"], "--fault garbled: only a struck item"),
        (["--item", "skills.1"], "--keep or --strike"),
        (["--item", "skills.1", "--dimension", "clarity", "--keep"], "--dimension or --item"),
    ],
)  # fmt: skip
def test_a_bad_item_verdict_is_refused_in_one_line_and_writes_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    _drafted(project)
    before = sorted(p.name for p in (project.calibration / "cases").iterdir())
    result = jfm(project, monkeypatch, "label", "--role", "product-management", *args, "--by", "ana")
    assert result.exit_code == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"jfm: error: {message}")
    assert sorted(p.name for p in (project.calibration / "cases").iterdir()) == before


def test_a_settled_verdict_stands_and_agreement_stands_without_one() -> None:
    def v(item: str, verdict: str, by: str, fault: str | None = None) -> ItemVerdict:
        return ItemVerdict(item=item, text="t", verdict=verdict, fault=fault, by=by)  # type: ignore[arg-type]

    labels = ItemLabels(verdicts=[
        v("a.1", "strike", "ana", "garbled"), v("a.1", "strike", "bo", "distorted"),
        v("a.2", "keep", "ana"), v("a.2", "strike", "bo", "garbled"), v("a.2", "keep", "settled"),
        v("a.3", "keep", "ana"), v("a.3", "strike", "bo", "repeat"),
    ])  # fmt: skip
    standing = agreed(labels)
    assert {item: (s.verdict, s.fault) for item, s in standing.items()} == {
        "a.1": ("strike", "garbled"),  # the first reader's class
        "a.2": ("keep", None),
    }
    with pytest.raises(ValueError, match="names its fault class"):
        ItemVerdict(item="a.1", text="t", verdict="strike", by="ana")


def test_the_gate_is_measured_per_class_and_on_the_published_items() -> None:
    def t(verdict: str, fault: str | None, flagged: bool, published: bool = False) -> ItemTrial:
        flagged_by = ["check:house-style"] if flagged else []
        return ItemTrial(case="c", item="i", text="t", verdict=verdict, fault=fault,  # type: ignore[arg-type]
                         published=published, flagged_by=flagged_by)  # fmt: skip

    trials = [
        t("strike", "second-person", True), t("strike", "second-person", True),
        t("strike", "garbled", True), t("strike", "garbled", False),
        t("keep", None, False), t("keep", None, True),
        *(t("keep", None, False, published=True) for _ in range(20)),
    ]  # fmt: skip
    measured = item_measures(trials, FLOORS, 1, [("keep", "keep"), ("strike", "keep"), ("strike", "strike")])
    assert (measured.struck, measured.struck_flagged, measured.struck_rate) == (4, 3, 0.75)
    assert (measured.kept, measured.kept_flagged) == (2, 1)
    assert (measured.published, measured.published_flagged) == (20, 0)
    by_class = {f.fault: (f.struck, f.flagged, f.meets_floor) for f in measured.faults}
    assert by_class["second-person"] == (2, 2, True) and by_class["garbled"] == (2, 1, False)
    assert by_class["repeat"] == (0, 0, None)
    assert not measured.meets_floors and measured.unsettled == 1
    assert (measured.read_twice, measured.readers_agree, measured.readers_kappa) == (3, 2, 0.4)
    published_flagged = [*trials[:2], t("keep", None, True, published=True)]
    assert not item_measures(published_flagged, FLOORS, 0, []).meets_floors  # 1 of 1 published flagged
