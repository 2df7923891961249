"""What a run left in its folder, as the views read it (through the store, like the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import BadInput
from ..records.evidence import Evidence
from ..records.profile import Profile
from ..records.runlog import RoundRecord, RunRecord
from ..records.store import PREVIOUS, RunStore


@dataclass
class Outputs:
    """What a run left in its folder."""

    folder: Path
    run: RunRecord
    profile: Profile
    #: The run that set these outputs aside and has no profile of its own (failed or stopped
    #: before its first round ended); None when they are the folder's last run's.
    set_aside_by: RunRecord | None = None

    @property
    def note(self) -> str | None:
        """What a view says first when these are not the last run's outputs."""
        if self.set_aside_by is None:
            return None
        last = self.set_aside_by
        return (
            f"the last run (started {last.started_at}) ended {last.status} without a profile; "
            f"showing the run before it, kept in {self.folder}"
        )

    def round(self, number: int | None) -> RoundRecord:
        """Round `number`, or the kept round when none is named."""
        wanted = number if number is not None else self.run.best_round
        for record in self.run.rounds:
            if record.round == wanted:
                return record
        rounds = ", ".join(str(r.round) for r in self.run.rounds) or "none"
        raise BadInput(f"--round {wanted}: no such round in {self.folder} (rounds: {rounds})")

    @cached_property
    def evidence(self) -> Evidence | None:
        """The quotes the run drafted from (evidence.json), None when the folder has none."""
        return RunStore(self.folder).read_evidence()

    def sections(self, number: int) -> dict[str, object] | None:
        """Every section as round `number` left it; None when the folder lacks the round's drafts."""
        store = RunStore(self.folder)
        return store.read_sections(number) if store.has_sections(number) else None


def load_outputs(folder: Path) -> Outputs:
    """The run record and profile in `folder`, or when its last run has no profile, those it set
    aside in previous/; a folder with neither is an error."""
    store = RunStore(folder)
    run, profile = store.read_run(), store.read_profile()
    if run is not None and profile is None and (folder / PREVIOUS).is_dir():
        kept = load_outputs(folder / PREVIOUS)
        return Outputs(folder=kept.folder, run=kept.run, profile=kept.profile, set_aside_by=run)
    if run is None or profile is None:
        raise BadInput(f"{folder}: no finished run here (run jfm draft first)")
    return Outputs(folder=folder, run=run, profile=profile)
