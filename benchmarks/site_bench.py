"""The site figure: `jfm site` over a catalog of 1,000 approved roles (part of `./dev bench`; alone:
`.venv/bin/python benchmarks/site_bench.py`, which updates its row of benchmarks/RESULTS.md).

The roles are made from one real profile (the recorded run, replayed), each a focus of its own in
catalog/roles.toml with one approved version in published/: every page as large as a real one.
"""

from __future__ import annotations

import itertools
import shutil
import string
import tempfile
import time
from pathlib import Path

from jfmfactory.api import DraftOptions, draft
from jfmfactory.catalog.catalog import family_code, focus_code
from jfmfactory.inputs.project import Project
from jfmfactory.records.store import RunStore
from jfmfactory.records.versions import Approval, Version, VersionStore, profile_digest
from jfmfactory.views.site import build_site

REPO = Path(__file__).resolve().parents[1]
CASSETTE = REPO / "tests" / "cassettes" / "product-management.yaml"
SITE_ROLES = 1000
SITE_TARGET_S = 60
FAMILIES = ("Product", "Engineering", "Data", "Marketing", "Sales")


def site_project(root: Path, count: int) -> Project:
    """A project with `count` approved roles, each a copy of the recorded profile under a focus
    of its own (names told apart by their letters, as the catalog's codes are)."""
    for folder in ("seeds", "prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, root / folder)
    project = Project.find(root)
    draft(project, DraftOptions(role="product-management", replay=CASSETTE, max_rounds=2), env={})
    store = RunStore(project.out_dir("product-management", None))
    run, profile, evidence = store.read_run(), store.read_profile(), store.read_evidence()
    assert run is not None and profile is not None
    tags = ("".join(letters).title() for letters in itertools.product(string.ascii_lowercase, repeat=3))
    foci = []
    for number, tag in zip(range(1, count + 1), tags, strict=False):
        role, name, family = f"generated-{number:04d}", f"{tag} Operations", FAMILIES[number % len(FAMILIES)]
        foci.append(
            f'\n[[foci]]\nname = "{name}"\nfamily = "{family}"\nseeds = "{role}"\n'
            f'aliases = ["{tag} Operator"]\n'
            f'[foci.classification]\nprimary = {{ code = "11-2021", reason = "Generated for the bench" }}\n'
        )
        code = f"{family_code(family)}.{focus_code(family, name)}.LEVEL"
        approved = profile.model_copy(
            update={"role": role, "title": name, "family": family, "focus": name, "code": code}
        )
        VersionStore(root, role).add_version(
            Version(
                version=1,
                role=role,
                digest=profile_digest(approved),
                approval=Approval(by="Bench", at="2026-01-01T00:00:00+00:00", note="generated"),
                run_started_at=run.started_at,
                run_status=run.status,
                profile=approved,
                evidence=evidence,
            )
        )
    with (root / "catalog" / "roles.toml").open("a", encoding="utf-8") as roles:
        roles.write("".join(foci))
    return project


def site_figures(work: Path, count: int = SITE_ROLES) -> dict[str, float]:
    project = site_project(work / "site-project", count)
    started = time.perf_counter()
    built = build_site(project, work / "site")
    return {
        "site_wall_s": time.perf_counter() - started,
        "site_roles": built.roles,
        "site_pages": built.pages,
    }


def site_rows(figures: dict[str, float]) -> list[tuple[str, str, str, bool, str]]:
    wall = figures["site_wall_s"]
    return [
        (
            f"static site of {figures['site_roles']:,.0f} approved roles (jfm site: pages, compare data, "
            "Pagefind index)",
            f"{wall:.0f} s", f"≤ {SITE_TARGET_S} s", wall <= SITE_TARGET_S,
            f"{figures['site_pages']:,.0f} role-level pages",
        ),
    ]  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rows = site_rows(site_figures(Path(folder)))
    results = REPO / "benchmarks" / "RESULTS.md"
    lines = results.read_text().splitlines()
    for name, value, target, met, why in rows:
        print(f"{name}  {value}  {target}  {'met' if met else 'NOT MET'}")
        row = f"| {name} | {value} | {target} | {'yes' if met else 'no'} | {why} |"
        same = [n for n, line in enumerate(lines) if line.startswith(f"| {name.split('(')[0]}")]
        if same:
            lines[same[0]] = row
        else:
            lines.append(row)
    results.write_text("\n".join(lines) + "\n")
    print("written: benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
