"""The calibration set (`calibration/cases/<case>/`): profiles with people's verdicts per dimension.

Each case is a folder holding `case.toml` (the role whose sources it is judged against, whether
planted faults are generated from it, and per dimension each person's label: pass or fail, who
said so and why; `[labels.X]` for one person, `[[labels.X]]` for several), `profile.json` and,
when its items rest on quotes, `evidence.json` (the quotes their `evidence` ids name). A case
without one is judged by no quote: every item that cites a source fails check:grounding-support,
as it should when no one can say what the item rests on. Content ops grow the set by adding
folders, or with `jfm label`.

People label blind of each other, and their disagreement is data: every verdict is kept. What
calibration measures the panel by is the verdict that stands, by the rule of items.toml: a
verdict `by = "settled"`, else the people's when they agree; a dimension they disagree on that
nobody settled is left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import BadInput, first_error
from ..inputs.datafile import load_model
from ..records.evidence import Evidence
from ..records.profile import Profile
from ..records.store import read_profile_file, write_atomic
from .items import SETTLED, ItemLabels, load_item_labels

CASE_FILE = "case.toml"
PROFILE_FILE = "profile.json"
EVIDENCE_FILE = "evidence.json"
CASE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")

PassFail = Literal["pass", "fail"]


class Label(BaseModel):
    """A person's verdict on one dimension of a case."""

    model_config = ConfigDict(extra="forbid")

    verdict: PassFail = Field(description="pass or fail.")
    by: str = Field(min_length=1, description="Who labelled it.")
    why: str = Field(min_length=1, description="One line on why.")


class CaseFile(BaseModel):
    """`case.toml`: what a case is and how people judged it."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Role whose seeds it is judged against.")
    gold: bool = Field(description="Whether planted faults are generated from it.")
    published: bool = Field(
        default=False, description="Whether it is a published profile: the bar its items are measured by."
    )
    origin: str = Field(min_length=1, description="Where the profile comes from.")
    verdicts: dict[str, list[Label]] = Field(
        default_factory=dict,
        validation_alias="labels",
        description="`labels`: per dimension, each person's verdict, first come first "
        "(none for a case of item verdicts only).",
    )
    unlabelled: dict[str, str] = Field(
        default_factory=dict, description="Dimensions left unlabelled on purpose, with why."
    )

    @field_validator("verdicts", mode="before")
    @classmethod
    def _one_or_several(cls, labels: object) -> object:
        # One person's verdict is a table (`[labels.X]`), as every case had it; several, an array.
        if isinstance(labels, dict):
            return {d: [v] if isinstance(v, dict) else v for d, v in labels.items()}
        return labels

    @property
    def labels(self) -> dict[str, Label]:
        """Per dimension, the verdict that stands, what calibration measures the panel by: the
        settled one, else the people's when they all agree (the first person's words)."""
        standing = {}
        for dimension, verdicts in self.verdicts.items():
            settled = [v for v in verdicts if v.by == SETTLED]
            if settled:
                standing[dimension] = settled[0]
            elif len({v.verdict for v in verdicts}) == 1:
                standing[dimension] = verdicts[0]
        return standing

    @property
    def disputed(self) -> list[str]:
        """The dimensions people disagree on that nobody settled: no verdict stands."""
        return [dimension for dimension in self.verdicts if dimension not in self.labels]


@dataclass(frozen=True)
class Case:
    """One labelled profile."""

    name: str
    spec: CaseFile
    profile: Profile
    #: The quotes its items rest on; None when the case has no `evidence.json`.
    evidence: Evidence | None = None
    #: Readers' verdicts on its single items (`items.toml`), if any.
    items: ItemLabels | None = None

    @property
    def quotes(self) -> Evidence:
        """The evidence the case is judged by: its own, or none at all (never the role's sources
        cut afresh, whose quote ids would name other quotes than the profile's items meant)."""
        return self.evidence or no_evidence(self.spec.role)


def no_evidence(role: str) -> Evidence:
    """Evidence holding no quote: every item that cites a source rests on nothing."""
    return Evidence(role=role, level_titles={}, quotes=[], sections={})


def load_case(folder: Path) -> Case:
    spec = load_model(folder / CASE_FILE, CaseFile, "calibration case")
    for dimension, verdicts in spec.verdicts.items():
        people = [verdict.by for verdict in verdicts]
        twice = next((by for by in people if people.count(by) > 1), None)
        if twice is not None:
            raise BadInput(f"{folder / CASE_FILE}: labels.{dimension}: {twice} labelled it twice")
    profile = read_profile_file(folder / PROFILE_FILE, str(folder / PROFILE_FILE), role=spec.role)
    evidence = load_evidence(folder / EVIDENCE_FILE, spec.role)
    return Case(folder.name, spec, profile, evidence, load_item_labels(folder, profile))


def load_evidence(path: Path, role: str) -> Evidence | None:
    """A case's `evidence.json`, if it has one; it must be evidence of the case's role."""
    if not path.is_file():
        return None
    try:
        evidence = Evidence.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read: {exc}") from exc
    except ValidationError as exc:
        raise BadInput(f"{path}: {first_error(exc)}") from exc
    if evidence.role != role:
        raise BadInput(f"{path}: is evidence of {evidence.role!r}, not {role!r}")
    ids = [quote.id for quote in evidence.quotes]
    if len(set(ids)) != len(ids):
        raise BadInput(f"{path}: quote ids repeat")
    return evidence


def load_cases(folder: Path, dimensions: list[str]) -> list[Case]:
    """Every case in `folder`, in name order; a label of a dimension no reviewer judges is refused."""
    folders = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not folders:
        raise BadInput(f"{folder}: no calibration cases (folders holding {CASE_FILE})")
    cases = [load_case(path) for path in folders]
    for case in cases:
        unknown = sorted((set(case.spec.verdicts) | set(case.spec.unlabelled)) - set(dimensions))
        if unknown:
            raise BadInput(
                f"{folder / case.name / CASE_FILE}: no reviewer judges {', '.join(unknown)} "
                f"(the panel's dimensions: {', '.join(dimensions)})"
            )
    return cases


def add_label(
    folder: Path, name: str, case: CaseFile, profile: Profile, evidence: Evidence | None = None
) -> Path:
    """Write a case (a new one, or new labels for an existing one) as people would by hand, with
    the evidence its profile's items rest on, if any."""
    if not CASE_NAME.fullmatch(name):
        raise BadInput(f"--case {name!r}: use lower-case letters, digits and hyphens")
    target = folder / name
    write_atomic(target / PROFILE_FILE, profile.model_dump_json(indent=2) + "\n")
    if evidence is not None:
        write_atomic(target / EVIDENCE_FILE, evidence.model_dump_json(indent=2) + "\n")
    write_atomic(target / CASE_FILE, case_toml(case))
    return target


def case_toml(case: CaseFile) -> str:
    """`case.toml` text; TOML strings are written as JSON strings, which TOML reads the same."""
    lines = [
        f"role = {json.dumps(case.role)}",
        f"gold = {'true' if case.gold else 'false'}",
        *(["published = true"] if case.published else []),
        f"origin = {json.dumps(case.origin, ensure_ascii=False)}",
    ]
    for dimension, verdicts in case.verdicts.items():
        # One verdict stays a table, as cases have always been written; several, an array.
        header = f"[labels.{dimension}]" if len(verdicts) == 1 else f"[[labels.{dimension}]]"
        for label in verdicts:
            lines += [
                "",
                header,
                f"verdict = {json.dumps(label.verdict)}",
                f"by = {json.dumps(label.by, ensure_ascii=False)}",
                f"why = {json.dumps(label.why, ensure_ascii=False)}",
            ]
    if case.unlabelled:
        lines += ["", "[unlabelled]"]
        lines += [f"{key} = {json.dumps(why, ensure_ascii=False)}" for key, why in case.unlabelled.items()]
    return "\n".join(lines) + "\n"


def with_label(path: Path, case: CaseFile, dimension: str, label: Label) -> tuple[CaseFile, list[str]]:
    """`case` with `label` on `dimension`, beside other people's verdicts: a person's own earlier
    verdict is replaced. With it, what to tell the person (`path` names the case file): that their
    verdict replaced their earlier one, that the readers disagree."""
    verdicts = case.verdicts.get(dimension, [])
    earlier = next((v for v in verdicts if v.by == label.by), None)
    kept = [label if v.by == label.by else v for v in verdicts] if earlier else [*verdicts, label]
    labelled = case.model_copy(update={"verdicts": {**case.verdicts, dimension: kept}})
    said = []
    if earlier is not None and earlier != label:
        said.append(
            f"{path}: {dimension}: {label.by}'s earlier verdict ({earlier.verdict}: {earlier.why}) "
            f"replaced by {label.verdict}"
        )
    if dimension in labelled.disputed:
        others = ", ".join(f"{v.by} said {v.verdict}" for v in kept if v.by != label.by)
        said.append(
            f"{path}: {dimension}: {label.by} says {label.verdict}, {others}; the readers disagree, so it "
            f'is left out of calibration until a verdict by "{SETTLED}" decides'
        )
    return labelled, said
