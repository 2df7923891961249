"""The evidence a profile rests on: verbatim quotes of its sources, and which quotes each section
may draw on. Written by the evidence stage to `out/<role>/evidence.json` before the first call.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

EVIDENCE_VERSION = 1


class Quote(BaseModel):
    """A verbatim piece of one source: a sentence, or one part of a sentence that lists several."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The id items cite it by, e.g. E12.")
    source: str = Field(description="Id of the source it stands in.")
    start: int = Field(ge=0, description="Offset of its first character in the source text.")
    end: int = Field(ge=0, description="Offset just past its last character.")
    text: str = Field(description="The source text from start to end, word for word.")
    levels: list[str] = Field(description="Levels the passage speaks of, as the sources name them.")


class Evidence(BaseModel):
    """A role's quotes and, per section, the quotes that speak to it, best first."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=EVIDENCE_VERSION, description="Version of this layout.")
    role: str = Field(description="The role's seeds folder name.")
    level_titles: dict[str, list[str]] = Field(
        description="Per level, the titles the sources use for it (how their levels were mapped)."
    )
    quotes: list[Quote] = Field(description="Every quote, in source order.")
    sections: dict[str, list[str]] = Field(
        description="Per section key (guideline cells as guidelines.LEVEL.COLUMN), quote ids best first."
    )

    _index: dict[str, Quote] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        # Built once, with the model, so that two equal evidences compare equal.
        self._index = {quote.id: quote for quote in self.quotes}

    def quote(self, quote_id: str) -> Quote | None:
        """The quote with this id, if there is one."""
        return self._index.get(quote_id)
