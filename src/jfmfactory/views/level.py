"""The published profile for one level, that level highlighted, with what the catalog says of it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..catalog.catalog import RESOLVER, Adjacent, Catalog, LevelBlock
from ..errors import BadInput
from ..records.profile import GUIDELINE_COLUMNS, Profile
from .outputs import Outputs
from .rendering import render_template


@dataclass(frozen=True)
class Mapping:
    """One SOC classification row: its rank, code, titles and the evidence for it."""

    rank: str
    code: str
    title: str
    onet: str
    reason: str
    source: str = RESOLVER


@dataclass(frozen=True)
class CatalogView:
    """The catalog layer of a level page: the rubric block, classification, adjacent roles."""

    block: LevelBlock
    mappings: list[Mapping]
    adjacent: list[Adjacent]


def catalog_view(
    catalog: Catalog,
    profile: Profile,
    level: str,
    skills: dict[str, list[str]],
    adjacent: list[Adjacent] | None = None,
) -> CatalogView:
    """What the catalog says about the profile's role at `level`; off-catalog roles get the block
    only. `adjacent`, when given, is the role's nearest at that level (`Catalog.adjacent_at`)."""
    focus = catalog.for_role(profile.role)
    mappings: list[Mapping] = []
    nearest: list[Adjacent] = []
    if focus is not None:
        classification = focus.entry.classification
        ranked = [("primary", classification.primary)] + [
            (f"alternate {n}", soc) for n, soc in enumerate(classification.alternates, start=1)
        ]
        for rank, soc in ranked:
            occupation = catalog.soc.detailed[soc.code]
            mappings.append(Mapping(rank, soc.code, occupation.title, occupation.onet, soc.reason))
        nearest = adjacent if adjacent is not None else catalog.adjacent(focus, level, skills)
    return CatalogView(block=catalog.rubric.block(level), mappings=mappings, adjacent=nearest)


def level_view(outputs: Outputs, level: str, fmt: str, context: CatalogView | None = None) -> str:
    """The published profile for one level, with that level highlighted."""
    profile = outputs.profile
    if level not in profile.levels:
        raise BadInput(f"--level {level}: the profile has levels {', '.join(profile.levels)}")
    if fmt == "json":
        data: dict[str, object] = {"level": level, "profile": profile.model_dump(mode="json")}
        if context is not None:
            data["catalog"] = {
                "level_block": context.block.model_dump(mode="json"),
                "classification": [vars(m) for m in context.mappings],
                "adjacent": [vars(a) for a in context.adjacent],
            }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    template = {"md": "level.md.j2", "html": "level.html.j2"}.get(fmt)
    if template is None:
        raise BadInput(f"--format {fmt}: use md, html or json")
    text = render_template(
        template,
        p=profile,
        level=level,
        columns=GUIDELINE_COLUMNS,
        plain=lambda section, text: text,
        c=context,
    )
    return text.rstrip() + "\n"
