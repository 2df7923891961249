"""How often the gate is right: `calibrate` runs the panel on labelled cases and planted faults;
`label` records a person's verdict on a drafted profile as a case."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

from .. import __version__
from ..calibration.cases import (
    CASE_FILE,
    Case,
    CaseFile,
    Label,
    PassFail,
    add_label,
    load_case,
    load_cases,
    with_label,
)
from ..calibration.items import (
    FAULTS,
    ItemTrial,
    ItemVerdict,
    Verdict,
    append_verdict,
    item_measures,
    labelled_items,
    readers_pairs,
)
from ..calibration.measures import Trial, agreement, dimension_measures, operator_measures
from ..calibration.operators import OPERATORS, Operator, World, load_operator_data, prompt_echoes
from ..calibration.run import (
    AS_LABELLED,
    CALIBRATION_JSON,
    CalibrationRecord,
    Judged,
    item_trials,
    judge_set,
    load_floors,
    summarise,
)
from ..errors import BadInput
from ..inputs.project import Project
from ..inputs.seeds import load_role
from ..llm.parallel import run_to_completion
from ..llm.provider import Route
from ..pipeline.item_kinds import drafting_instructions
from ..pipeline.panel import PanelSettings, load_panel
from ..pipeline.role_inputs import read_inputs
from ..records.evidence import Evidence
from ..records.profile import Profile
from ..records.runlog import Endpoint, Usage
from ..records.sections import section_keys
from ..records.store import RunStore, read_profile_file, write_atomic
from .options import DraftOptions, calls_at_once, check_options, rate_limiter
from .runs import profile_to_read
from .session import REVIEW_MAX_TOKENS, endpoints, llm_for

CALIBRATION_OUT = "calibration"
CASES_DIR = "cases"
FLOORS_FILE = "floors.toml"


def calibrate(
    project: Project,
    options: DraftOptions,
    env: Mapping[str, str],
    seed: int = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> CalibrationRecord:
    """Run the panel on every case of `calibration/` and every planted fault; measure how often it
    agrees with the labels; write `calibration.json` (default out/calibration/) and return it.

    Cases as labelled are judged by the whole panel; a planted fault by its dimension's members.
    """
    check_options(options)
    reviewers = load_panel(project.panel)
    dimensions = [reviewer.name for reviewer in reviewers]
    cases = load_cases(project.calibration / CASES_DIR, dimensions)
    floors, item_floors = load_floors(project.calibration / FLOORS_FILE, dimensions)
    data = load_operator_data(project.calibration)
    echoes = prompt_echoes(drafting_instructions(project.prompts))
    # A case judged against sources of its own (its seeds/ROLE/) reads them; the others, the project's.
    seeds_of = {case.name: case_seeds(project.calibration / CASES_DIR / case.name, project) for case in cases}
    read = {(seeds, case.spec.role) for case in cases for seeds in [seeds_of[case.name]]}
    by_seeds = {(seeds, role): read_inputs(Project(project.root, seeds), role) for seeds, role in read}
    # Items rest on the case's own quotes (evidence.json); a case without one, on none.
    inputs = {
        case.name: by_seeds[(seeds_of[case.name], case.spec.role)].with_evidence(case.quotes)
        for case in cases
    }
    store = RunStore(options.out or project.out / CALIBRATION_OUT)
    by_name = {reviewer.name: reviewer for reviewer in reviewers}

    def world_for(case: Case) -> World:
        role_inputs = inputs[case.name]
        catalog = role_inputs.catalog
        focus = catalog.for_role(case.spec.role) if catalog else None
        others = (
            [t for f in catalog.foci if f is not focus for t in (f.name, *f.entry.aliases)] if catalog else []
        )
        return World(data, role_inputs.seeds, echoes, others)

    async def judged_on_endpoint() -> tuple[list[Judged], list[Trial], Endpoint]:
        with endpoints(options, env, store, Route(limiter=rate_limiter(options))) as (_, _, judge_connection):
            judge_llm = llm_for(judge_connection, REVIEW_MAX_TOKENS)
            settings = PanelSettings(
                threshold=options.threshold,
                samples=options.samples,
                calls_at_once=calls_at_once(options, judge_connection.endpoint.embedded),
            )

            async def judge(
                case: Case, operator: Operator | None, names: list[str], profile: Profile
            ) -> Judged:
                asked = [by_name[name] for name in names]
                role_inputs = inputs[case.name]
                panel = role_inputs.panel(judge_llm, asked, section_keys(profile.levels), settings)
                where = f"{case.name}/{operator.name if operator else AS_LABELLED}"
                # A planted fault's trial is decided once a check fails its dimension, and so is a
                # case of item verdicts only (judged as the loop judges a draft).
                undecided = operator is not None or not case.spec.labels
                verdict = await panel.judge(
                    profile, 1, lambda call: progress(f"{where} {call}"), only_undecided=undecided
                )
                variant = RunStore(store.folder / "judged" / where)
                for transcript in verdict.transcripts:
                    variant.write_transcript(transcript)
                usage = sum((a.usage for t in verdict.transcripts for a in t.attempts), Usage())
                return Judged(
                    case=case.name,
                    operator=operator.name if operator else None,
                    scores=verdict.scores,
                    reviews=verdict.reviews,
                    usage=usage,
                )

            judged, trials = await judge_set(cases, dimensions, world_for, judge, options.threshold, seed)
            return judged, trials, judge_connection.endpoint

    judged, trials, endpoint = run_to_completion(judged_on_endpoint())
    measures = dimension_measures(
        trials, dimensions, {d: (f.gold_pass, f.fault_catch) for d, f in floors.items()}
    )
    as_labelled = {j.case: j for j in judged if j.operator is None}
    labelled_items: list[ItemTrial] = []
    unsettled = 0
    for case in cases:
        found, left = item_trials(case, as_labelled[case.name], dimensions)
        labelled_items += found
        unsettled += left
    # The readers' agreement on drafted items (the published profiles are the bar, not a draft).
    pairs = [
        pair for case in cases if case.items and not case.spec.published for pair in readers_pairs(case.items)
    ]
    items = item_measures(labelled_items, item_floors, unsettled, pairs)
    record = CalibrationRecord(
        jfm_version=__version__,
        # A port the embedded server happened to get would make no two records alike.
        panel=endpoint.model_copy(update={"base_url": "embedded"}) if endpoint.embedded else endpoint,
        threshold=options.threshold,
        samples=options.samples,
        seed=seed,
        dimensions=dimensions,
        floors=floors,
        item_floors=item_floors,
        cases=[summarise(case) for case in cases],
        operators=operator_measures(trials, {o.name: (o.dimension, o.does) for o in OPERATORS}),
        measures=measures,
        agreement=agreement(trials),
        items=items,
        passed=all(m.meets_floors for m in measures) and items.meets_floors,
        usage=sum((j.usage for j in judged), Usage()),
        trials=trials,
        item_trials=labelled_items,
        judged=judged,
    )
    write_atomic(store.folder / CALIBRATION_JSON, record.model_dump_json(indent=2) + "\n")
    return record


def case_seeds(folder: Path, project: Project) -> Path:
    """The seeds a case is judged against: its own `seeds/` when it has one (a draft of a role
    from sources the project does not keep), else the project's."""
    own = folder / "seeds"
    return own if own.is_dir() else project.seeds


def label(
    project: Project,
    role: str,
    dimension: str,
    verdict: PassFail,
    note: str,
    by: str,
    profile_path: Path | None = None,
    case_name: str | None = None,
    tell: Callable[[str], None] = lambda line: None,
) -> Path:
    """Record a person's verdict on one dimension of a drafted profile as a calibration case.

    The case keeps the evidence.json beside the profile (the quotes its items rest on), if there
    is one. It is named after the role and the digest of the profile and its evidence unless
    `case_name` says, so labels of the same profile gather in one case. Other people's verdicts
    are kept beside it; the person's own earlier one is replaced. `tell` hears of a replaced
    verdict and of readers who disagree. Returns the case's folder.
    """
    reviewers = load_panel(project.panel)
    dimensions = [reviewer.name for reviewer in reviewers]
    if dimension not in dimensions:
        raise BadInput(f"--dimension {dimension}: the panel's dimensions are {', '.join(dimensions)}")
    if not note.strip():
        raise BadInput("--note: say in one line why")
    name, spec, profile, evidence = _case_to_label(project, role, profile_path, case_name)
    new_label = Label(verdict=verdict, by=by, why=" ".join(note.split()))
    where = project.calibration / CASES_DIR / name / CASE_FILE
    spec, said = with_label(where, spec, dimension, new_label)
    folder = add_label(project.calibration / CASES_DIR, name, spec, profile, evidence)
    for line in said:
        tell(line)
    return folder


def label_item(
    project: Project,
    role: str,
    item: str,
    verdict: Verdict,
    fault: str | None,
    note: str,
    by: str,
    profile_path: Path | None = None,
    case_name: str | None = None,
) -> Path:
    """Record a person's verdict on one item of a drafted profile (keep, or strike for a class of
    fault) in the case's `items.toml`, next to other readers' verdicts. Returns the case's folder."""
    name, spec, profile, evidence = _case_to_label(project, role, profile_path, case_name)
    held = {labelled.id: labelled.text for labelled in labelled_items(profile)}
    if item not in held:
        some = ", ".join(list(held)[:3])
        raise BadInput(f"--item {item}: the profile has no such item (its items are named like {some})")
    if verdict == "strike" and fault not in FAULTS:
        raise BadInput(f"--fault {fault or ''}: name the class of the fault, one of {', '.join(FAULTS)}")
    if verdict == "keep" and fault is not None:
        raise BadInput(f"--fault {fault}: only a struck item has a fault")
    judged = ItemVerdict.model_validate(
        {
            "item": item,
            "text": held[item],
            "verdict": verdict,
            "fault": fault,
            "by": by,
            "why": " ".join(note.split()),
        }
    )
    folder = add_label(project.calibration / CASES_DIR, name, spec, profile, evidence)
    append_verdict(folder, judged, profile)
    return folder


def _case_to_label(
    project: Project, role: str, profile_path: Path | None, case_name: str | None
) -> tuple[str, CaseFile, Profile, Evidence | None]:
    """The case a label of this profile goes in: its name, its case file as it stands (a new one
    with no labels), the profile and the evidence beside it. A case of that name holding another
    profile or other evidence is refused."""
    manifest = load_role(project.seeds, role).manifest
    path, where = profile_to_read(project, role, profile_path)
    profile = read_profile_file(path, where, role, manifest.levels).model_copy(update={"provenance": None})
    evidence = RunStore(path.parent).read_evidence()
    text = profile.model_dump_json(indent=2)
    evidence_text = evidence.model_dump_json(indent=2) if evidence is not None else ""
    digest = hashlib.sha256((text + evidence_text).encode()).hexdigest()
    name = case_name or f"{role}-{digest[:8]}"
    folder = project.calibration / CASES_DIR / name
    if (folder / CASE_FILE).is_file():
        case = load_case(folder)
        if case.profile.model_dump_json(indent=2) != text:
            raise BadInput(f"--case {name}: {folder} holds another profile; name a new case")
        if (case.evidence.model_dump_json(indent=2) if case.evidence else "") != evidence_text:
            raise BadInput(f"--case {name}: {folder} holds the profile with other evidence; name a new case")
        return name, case.spec, profile, evidence
    root = project.root.resolve()
    shown = path.resolve().relative_to(root) if path.resolve().is_relative_to(root) else path
    return name, CaseFile(role=role, gold=False, origin=f"jfm label: {shown}"), profile, evidence
