"""Replays the committed cassette recorded from the embedded model: the full pipeline, no model."""

from __future__ import annotations

import json
from pathlib import Path

from jfmfactory.api import DraftOptions, calibrate, draft
from jfmfactory.inputs.project import Project
from jfmfactory.records.profile import RESPONSIBILITIES_AT_LEAST, RESPONSIBILITIES_PER_LEVEL

CASSETTES = Path(__file__).parent / "cassettes"
CASSETTE = CASSETTES / "product-management.yaml"
#: `./dev cassettes` records two rounds; a replay asks for what the recording did.
RECORDED_ROUNDS = 2
EXPECTED_PROFILE = CASSETTES / "product-management.profile.json"


def test_the_recorded_embedded_run_replays_to_the_recorded_profile(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = DraftOptions(role="product-management", out=out, replay=CASSETTE, max_rounds=RECORDED_ROUNDS)
    run = draft(project, options, env={})

    assert (out / "profile.json").read_bytes() == EXPECTED_PROFILE.read_bytes()
    assert run.drafter.model == "SmolLM2-135M-Instruct.Q4_1"
    assert run.status in ("passed", "not_passed") and run.stop_reason in ("passed", "round_limit", "plateau")
    assert [r.member for r in run.rounds[0].reviews][:4] == [
        "check:completeness",
        "check:duplicates",
        "check:grounding-support",
        "check:level-order",
    ]
    for record in run.rounds:
        assert {review.dimension for review in record.reviews} == set(run.dimensions)
    profile = json.loads((out / "profile.json").read_text())
    counts = [len(profile["responsibilities"][f"P{n}"]) for n in range(2, 8)]
    assert all(RESPONSIBILITIES_AT_LEAST <= count <= RESPONSIBILITIES_PER_LEVEL for count in counts), counts
    assert profile["provenance"]["passed"] == (run.status == "passed")
    assert profile["provenance"]["round"] == run.best_round


CALIBRATION_CASSETTE = CASSETTES / "calibration.yaml"
EXPECTED_CALIBRATION = CASSETTES / "calibration.json"


def test_the_recorded_calibration_replays_to_the_committed_record(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "calibration"
    record = calibrate(project, DraftOptions(role="", out=out, replay=CALIBRATION_CASSETTE), env={})

    assert (out / "calibration.json").read_bytes() == EXPECTED_CALIBRATION.read_bytes()
    assert record.panel.model == "SmolLM2-135M-Instruct.Q4_1" and record.panel.embedded
    # The acceptance of the fail-closed gate, measured on the embedded default.
    assert record.passed and all(m.meets_floors for m in record.measures)
    draft = [t for t in record.trials if t.case == "embedded-draft"]
    assert {t.dimension: t.decided for t in draft} == dict.fromkeys(record.dimensions, "fail")
