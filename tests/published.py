"""A project whose recorded profile a person approved: what `jfm site` publishes (tests/views)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO
from jfmfactory.api import DraftOptions, draft
from jfmfactory.inputs.project import Project
from jfmfactory.records.store import RunStore
from jfmfactory.records.versions import Approval, Version, VersionStore, profile_digest

ROLE = "product-management"
CASSETTE = REPO / "tests" / "cassettes" / "product-management.yaml"


def approve(root: Path, by: str = "Ana Ruiz", note: str = "", override: str | None = None) -> Version:
    """Publish the role's kept profile as its next version, as `jfm approve` does: the version is
    made from out/ROLE/profile.json, run.json and evidence.json."""
    store = RunStore(root / "out" / ROLE)
    run, profile = store.read_run(), store.read_profile()
    assert run is not None and profile is not None
    versions = VersionStore(root, ROLE)
    latest = versions.latest()
    version = Version(
        version=latest.version + 1 if latest else 1,
        role=ROLE,
        digest=profile_digest(profile),
        approval=Approval(by=by, at="2026-11-23T09:30:00+00:00", note=note, override=override),
        run_started_at=run.started_at,
        run_status=run.status,
        profile=profile,
        evidence=store.read_evidence(),
    )
    versions.add_version(version)
    return version


def published_project(root: Path) -> Path:
    """A project in `root` whose out/ holds the recorded run, replayed, its profile approved (v1)."""
    for folder in ("seeds", "prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, root / folder)
    draft(Project.find(root), DraftOptions(role=ROLE, replay=CASSETTE, max_rounds=2), env={})
    approve(root, note="Read against the ladder; P7 checked with the CPO.")
    return root
