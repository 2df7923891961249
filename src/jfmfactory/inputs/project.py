"""A jfm project: the folder holding `seeds/`, `prompts/`, `panel/` and (optionally) `catalog/`;
outputs go to `out/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput

MARKERS = ("prompts", "panel")


@dataclass(frozen=True)
class Project:
    """Where a run reads its inputs and writes its outputs."""

    root: Path
    seeds: Path

    @property
    def prompts(self) -> Path:
        return self.root / "prompts"

    @property
    def panel(self) -> Path:
        return self.root / "panel"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog"

    @property
    def calibration(self) -> Path:
        return self.root / "calibration"

    @property
    def out(self) -> Path:
        """Where every output goes unless a flag says otherwise: a role's, a catalog's, calibration's."""
        return self.root / "out"

    def out_dir(self, role: str, out: Path | None) -> Path:
        """`--out DIR` as given, else `out/<role>/` in the project."""
        return out if out is not None else self.out / role

    @classmethod
    def find(cls, start: Path, seeds: Path | None = None) -> Project:
        """The nearest folder at or above `start` that holds prompts/ and panel/; `seeds`, when
        given (`--seeds`), must be a folder."""
        if seeds is not None and not seeds.is_dir():
            raise BadInput(f"--seeds {seeds}: not a folder")
        for folder in (start, *start.parents):
            if all((folder / marker).is_dir() for marker in MARKERS):
                return cls(root=folder, seeds=seeds if seeds is not None else folder / "seeds")
        raise BadInput(f"{start}: not inside a jfm project (no prompts/ and panel/ here or above)")
