"""Library entry points for looking at what runs left: roles, reports, level pages, comparisons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..calibration.run import CalibrationRecord
from ..catalog.catalog import Catalog, Focus, band, distance, load_catalog
from ..errors import BadInput
from ..inputs.project import Project
from ..inputs.seeds import check_role_name, list_roles, load_role
from ..records.profile import GUIDELINE_COLUMNS, Profile, code_at_level
from ..records.runlog import RunRecord
from ..records.store import PREVIOUS, PROFILE_JSON, RunStore, write_atomic
from ..records.versions import VersionStore, profile_digest
from .calibration import CALIBRATION_HTML, CALIBRATION_MD, calibration_html, calibration_markdown
from .diff import ProfileDiff, draft_against_approved, required_diff
from .level import CatalogView, catalog_view, level_view
from .outputs import Outputs, load_outputs
from .rendering import render_template
from .report import REPORT_HTML, citing_items, report_html

# A level is checked against the profile's levels, not spelled here.
ROLE_AT_LEVEL = re.compile(r"^(?P<role>[a-z0-9][a-z0-9-]*)(?:@(?P<level>[^@]+))?$")


def diff(project: Project, role: str) -> ProfileDiff:
    """The role's kept draft against its latest approved version."""
    return required_diff(project.root, outputs_for(project, role, None))


def project_catalog(project: Project) -> Catalog | None:
    return load_catalog(project.catalog, project.seeds) if project.catalog.is_dir() else None


def outputs_for(project: Project, role: str, out: Path | None) -> Outputs:
    check_role_name(role)
    return load_outputs(project.out_dir(role, out))


@dataclass(frozen=True)
class RoleState:
    """A role of the catalog or of seeds/, and the state of its outputs."""

    role: str | None
    family: str
    focus: str
    code: str
    status: str
    best_round: int | None
    min_score: float | None


def _state(project: Project, role: str) -> tuple[str, int | None, float | None]:
    folder = project.out_dir(role, None)
    store = RunStore(folder)
    try:
        run, profile = store.read_run(), store.read_profile()
        if run is None:
            return "not drafted", None, None
        best = next((r for r in run.rounds if r.round == run.best_round), None)
        if best is None and (folder / PREVIOUS / PROFILE_JSON).is_file():
            return f"{run.status}; the last profile kept in {PREVIOUS}/", None, None
        state = publication_state(project, run, profile)
    except BadInput as error:  # one role's unreadable file is its own row's, not the table's
        return f"unreadable: {error}", None, None
    return state, run.best_round, best.min_score if best else None


def publication_state(project: Project, run: RunRecord, profile: Profile | None) -> str:
    """Where a drafted role stands: drafted (not passed), passed, needs review (a passed draft
    that differs from the approved version), approved vN, or rejected; a run that did not finish
    says how it ended."""
    if profile is None or run.status not in ("passed", "not_passed"):
        return run.status
    versions = VersionStore(project.root, run.role)
    digest = profile_digest(profile)
    latest = versions.latest()
    approved = latest is not None and latest.digest == digest
    # The later word stands: a refusal after the approval (or in its second: the wary reading),
    # or an approval after a refusal.
    refused = [r.at for r in versions.rejections() if r.digest == digest]
    if refused and (latest is None or not approved or max(refused) >= latest.approval.at):
        return f"rejected{f' (v{latest.version} is published)' if approved and latest else ''}"
    if approved and latest is not None:
        return f"approved v{latest.version}"
    since = f" (v{latest.version} approved)" if latest is not None else ""
    if run.status == "passed":
        return f"needs review{since}" if latest is not None else "passed"
    return f"drafted{since}"


def roles(project: Project) -> list[RoleState]:
    """Every focus of the catalog, then every role in seeds/ the catalog lacks, with output state."""
    catalog = project_catalog(project)
    seeded = set(list_roles(project.seeds))
    states = []
    for focus in catalog.foci if catalog else []:
        role = focus.entry.seeds if focus.entry.seeds in seeded else None
        status, best, low = _state(project, role) if role else ("no seeds", None, None)
        states.append(RoleState(role, focus.family, focus.name, focus.code("LEVEL"), status, best, low))
    listed = {state.role for state in states}
    for role in sorted(seeded - listed):
        status, best, low = _state(project, role)
        states.append(RoleState(role, "–", "not in the catalog", "–", status, best, low))
    return states


def drafted_skills(project: Project, catalog: Catalog) -> dict[str, list[str]]:
    """The skill names of every drafted profile, by focus name: what adjacency's overlap uses."""
    skills = {}
    for focus in catalog.foci:
        if focus.entry.seeds is None:
            continue
        try:
            outputs = load_outputs(project.out_dir(focus.entry.seeds, None))
        except BadInput:
            continue
        skills[focus.name] = [skill.name for skill in outputs.profile.skills]
    return skills


def context_for(project: Project, outputs: Outputs, level: str) -> CatalogView | None:
    catalog = project_catalog(project)
    if catalog is None:
        return None
    return catalog_view(catalog, outputs.profile, level, drafted_skills(project, catalog))


def render_level(project: Project, role: str, out: Path | None, level: str, fmt: str) -> tuple[Path, str]:
    """Write the published page for one level beside the run; return where and what."""
    outputs = outputs_for(project, role, out)
    if level not in outputs.profile.levels:
        raise BadInput(f"--level {level}: the profile has levels {', '.join(outputs.profile.levels)}")
    text = level_view(outputs, level, fmt, context_for(project, outputs, level))
    path = outputs.folder / f"{role}-{level}.{fmt}"
    write_atomic(path, text)
    return path, text


def write_report(project: Project, role: str, out: Path | None) -> Path:
    outputs = outputs_for(project, role, out)
    path = outputs.folder / REPORT_HTML
    write_atomic(path, report_html(outputs, draft_against_approved(project.root, outputs)))
    return path


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a drafted role at a level."""

    role: str
    level: str
    outputs: Outputs
    context: CatalogView | None

    @property
    def label(self) -> str:
        return f"{self.role}@{self.level}"


@dataclass(frozen=True)
class Comparison:
    """Two roles, or two levels of one role, side by side, with their structural distance."""

    left: Side
    right: Side
    distance: float | None
    band: str | None

    def rows(self) -> list[tuple[str, str, str]]:
        """(aspect, left, right) rows, the same for the terminal and the HTML page."""

        def responsibilities(side: Side) -> str:
            return "\n".join(f"• {item.text}" for item in side.outputs.profile.responsibilities[side.level])

        def cell(side: Side, key: str) -> str:
            return str(getattr(side.outputs.profile.guidelines[side.level], key).text)

        def code(side: Side) -> str:
            return code_at_level(side.outputs.profile.code, side.level)

        def block(side: Side) -> str:
            if side.context is None:
                return "–"
            return f"{side.context.block.name} ({side.context.block.years_text})"

        def soc(side: Side) -> str:
            mappings = side.context.mappings if side.context else []
            return f"{mappings[0].code} {mappings[0].title}" if mappings else "–"

        rows = [
            ("Code", code(self.left), code(self.right)),
            ("Level", block(self.left), block(self.right)),
            ("SOC 2018", soc(self.left), soc(self.right)),
            ("Responsibilities", responsibilities(self.left), responsibilities(self.right)),
        ]
        rows += [
            (heading, cell(self.left, key), cell(self.right, key))
            for key, heading in GUIDELINE_COLUMNS.items()
        ]
        rows.append(
            (
                "Skills",
                ", ".join(s.name for s in self.left.outputs.profile.skills),
                ", ".join(s.name for s in self.right.outputs.profile.skills),
            )
        )
        return rows


def _side(project: Project, spec: str, default_level: str | None) -> Side:
    found = ROLE_AT_LEVEL.match(spec)
    if found is None:
        raise BadInput(f"{spec!r}: name a role, or a role at a level as ROLE@P6")
    role = found["role"]
    outputs = outputs_for(project, role, None)
    level = found["level"] or default_level or ""
    if level not in outputs.profile.levels:
        raise BadInput(f"{spec}: the profile has levels {', '.join(outputs.profile.levels)}")
    return Side(role, level, outputs, context_for(project, outputs, level))


def compare(project: Project, left: str, right: str) -> Comparison:
    """`left` and `right` (ROLE or ROLE@LEVEL) side by side; a side without a level takes the other's."""
    levels = [ROLE_AT_LEVEL.match(spec) for spec in (left, right)]
    given = next((m["level"] for m in levels if m and m["level"]), None)
    if given is None and levels[0] and levels[1]:
        left_levels = outputs_for(project, levels[0]["role"], None).profile.levels
        right_levels = outputs_for(project, levels[1]["role"], None).profile.levels
        shared = [level for level in left_levels if level in right_levels]
        if not shared:
            raise BadInput(f"{left} and {right} share no level; name one as ROLE@LEVEL")
        given = shared[len(shared) // 2]
    a, b = _side(project, left, given), _side(project, right, given)
    catalog = project_catalog(project)
    focus_a: Focus | None = catalog.for_role(a.role) if catalog else None
    focus_b: Focus | None = catalog.for_role(b.role) if catalog else None
    if catalog is None or focus_a is None or focus_b is None:
        return Comparison(a, b, None, None)
    skills = drafted_skills(project, catalog)
    d = distance(focus_a, a.level, focus_b, b.level, skills.get(focus_a.name), skills.get(focus_b.name))
    return Comparison(a, b, d, band(d))


def compare_html(comparison: Comparison) -> str:
    """The comparison as one self-contained HTML page."""
    return render_template("compare.html.j2", c=comparison)


def write_calibration_pages(folder: Path, record: CalibrationRecord) -> list[Path]:
    """calibration.md and calibration.html beside calibration.json."""
    pages = {CALIBRATION_MD: calibration_markdown(record), CALIBRATION_HTML: calibration_html(record)}
    for name, text in pages.items():
        write_atomic(folder / name, text)
    return [folder / name for name in pages]


@dataclass(frozen=True)
class SourceState:
    """A source of a role, and what the role's last run made of it."""

    id: str
    title: str
    origin: str | None
    date: str
    words: int
    quotes: int | None
    cited_by: int | None


def sources(project: Project, role: str) -> list[SourceState]:
    """The role's sources in manifest order; with a run in out/ROLE/, how many quotes the evidence
    stage cut from each and how many items of the kept profile cite it (None: not drafted)."""
    seeds = load_role(project.seeds, role)
    folder = project.out_dir(role, None)
    store = RunStore(folder)
    profile = store.read_profile()
    evidence = store.read_evidence()
    citing = citing_items(profile) if profile else None
    return [
        SourceState(
            id=source.id,
            title=source.title,
            origin=source.origin,
            date=source.date.isoformat(),
            words=len(source.text.split()),
            quotes=sum(q.source == source.id for q in evidence.quotes) if evidence else None,
            cited_by=len(citing.get(source.id, [])) if citing is not None else None,
        )
        for source in seeds.sources
    ]
