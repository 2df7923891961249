"""`jfm review`: the panel alone on an existing profile, its verdict recorded like a round."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from .app import REVIEW_DIR, DraftOptions, check_options, session
from .drafter import section_specs
from .errors import BadInput, first_error
from .loop import QuietReporter, Reporter, now, round_record
from .panel import load_panel
from .profile import Profile, shape_problem
from .project import Project
from .runlog import RunRecord
from .seeds import Manifest, load_role
from .store import PROFILE_JSON, RunStore


def load_profile(path: Path, label: str, role: str, manifest: Manifest) -> Profile:
    """A profile file, as drafted or edited by hand, checked against the role it claims to be."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInput(f"{label}: no such profile") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{label}: cannot read: {exc}") from exc
    try:
        profile = Profile.model_validate_json(text)
    except ValidationError as exc:
        raise BadInput(f"{label}: {first_error(exc)}") from exc
    if profile.role != role:
        raise BadInput(f"{label}: is a profile of {profile.role!r}, not {role!r}")
    if profile.levels != manifest.levels:
        raise BadInput(f"{label}: levels {profile.levels} differ from the role's {manifest.levels}")
    problem = shape_problem(profile)
    if problem:
        raise BadInput(f"{label}: {problem}")
    return profile


def review(
    project: Project, options: DraftOptions, env: Mapping[str, str], reporter: Reporter | None = None
) -> RunRecord:
    """Run the panel alone on an existing profile and record the verdict like a round.

    Reads `--profile` (default: the role's drafted profile.json) and writes to `--out`
    (default: out/ROLE/review/), leaving the drafted outputs as they are.
    """
    check_options(options)
    reviewers = load_panel(project.panel)
    drafted = project.out_dir(options.role, None)
    path = options.profile or drafted / PROFILE_JSON
    label = f"--profile {path}" if options.profile else f"{path} (draft the role first, or pass --profile)"
    # Checked before any endpoint opens: a bad profile should not wait for a model server.
    profile = load_profile(path, label, options.role, load_role(project.seeds, options.role).manifest)
    store = RunStore(options.out or drafted / REVIEW_DIR)
    progress = reporter or QuietReporter()
    with session(project, options, env, store, reviewers) as work:
        run = work.run
        run.drafter, run.max_rounds = None, 1
        panel = work.panel(reviewers, [spec.key for spec in section_specs(profile.levels)], options)
        store.begin()
        try:
            verdict = panel.judge(profile, 1, lambda call: progress.step(1, call))
            record = round_record(1, [], verdict, [], store, options.threshold)
        except BaseException as failure:
            interrupted = isinstance(failure, KeyboardInterrupt)
            run.status = "interrupted" if interrupted else "failed"
            run.stop_reason = "interrupted" if interrupted else "error"
            run.error = str(failure) or type(failure).__name__
            run.finished_at = now()
            store.write_run(run)
            raise
        run.rounds.append(record)
        run.usage, run.latency_s = record.usage, record.latency_s
        run.best_round = 1
        run.status = "passed" if record.passed else "not_passed"
        run.stop_reason = "reviewed"
        run.finished_at = now()
        store.write_run(run)
        progress.round_done(record, options.threshold)
        return run
