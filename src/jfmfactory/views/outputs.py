"""What a run left in its folder, as the views read it (through the store, like the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import BadInput
from ..records.evidence import Evidence
from ..records.profile import Profile
from ..records.runlog import RoundRecord, RunRecord
from ..records.store import RunStore


@dataclass
class Outputs:
    """What a run left in its folder."""

    folder: Path
    run: RunRecord
    profile: Profile

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
    """The run record and profile in `folder`; a folder with neither is an error."""
    store = RunStore(folder)
    run, profile = store.read_run(), store.read_profile()
    if run is None or profile is None:
        raise BadInput(f"{folder}: no finished run here (run jfm draft first)")
    return Outputs(folder=folder, run=run, profile=profile)
