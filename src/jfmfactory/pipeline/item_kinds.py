"""The kinds of item the drafter writes, each declared once (as a DSPy Signature keeps a prompt's
instruction and its fields in one place).

A kind is this declaration and its template, `prompts/items/NAME.toml`, and nothing else:

- the declaration (here): the response model (its fields and their output constraints), the
  section it fills and how many items a section drafts, which quotes it rests on (`draws`), and
  how an answer becomes the profile's item (`item`, tidied words and the quote it cites);
- the template (data content ops edit): the instruction, what the tool schema says of the answer
  and of each field, and the worked examples shown before the quote.

The section a kind fills says how its items are judged: every check walks items by section
(`records.sections`). A kind whose items are the quotes' own words (the aliases) asks no model
and has no template.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadInput, first_error
from ..inputs.datafile import load_model
from ..inputs.grammar import as_duty, as_skill
from ..inputs.prompts import Prompts
from ..llm.client import Structured
from ..records.evidence import Quote
from ..records.profile import RESPONSIBILITIES_PER_LEVEL, SKILLS_DRAFTED
from ..records.sections import ALIASES, GUIDELINES, OVERVIEW, RESPONSIBILITIES, SKILLS, TOOLS, SectionKind
from .schema import ModelText, SchemaText, described_text

KINDS_FOLDER = "items"
EXAMPLES_FILE = "examples.toml"
#: The framing every drafter call shares, before its kind's instruction.
SYSTEM_TEMPLATE = "system.j2"


class Layout(Enum):
    """How a section of the kind is drafted."""

    #: A list of items, each from its own quote (the first draft's ranked best, a redraft's next).
    LIST = "list"
    #: One item per guideline column of a level, each from its column's quote.
    ROW = "row"
    #: One item from a few quotes (the overview).
    SUMMARY = "summary"


class Draws(Enum):
    """Which quotes a kind's items rest on."""

    #: The section's best quotes.
    BEST = "best"
    #: A level's best quotes that no lower level took; a redraft takes none another level rests on.
    OWN_LEVEL = "own level"


# -- response models: the fields of each answer and their output constraints ---------------


class StatementDraft(Structured):
    text: str = Field(min_length=8, max_length=240)


class SkillDraft(Structured):
    name: str = Field(min_length=2, max_length=60)
    description: str = Field(min_length=8, max_length=200)


class ToolDraft(Structured):
    name: str = Field(min_length=2, max_length=40)


class OverviewDraft(Structured):
    description: str = Field(min_length=40, max_length=600)


def sentence(text: str) -> str:
    """A drafted sentence tidied: quotation marks and white space trimmed, a capital first
    letter, an end stop. The words are the model's."""
    text = " ".join(text.split()).strip("\"'“”‘’ ")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if re.search(r"[.!?]$", text) else f"{text}."


def name(text: str) -> str:
    """A drafted name tidied: trimmed, no end stop, a capital first letter."""
    text = " ".join(text.split()).strip("\"'“”‘’. ")
    return text[0].upper() + text[1:] if text else text


def duty_fields(text: str) -> dict[str, str] | None:
    """A quote's own words as a statement's fields, where their grammar makes a duty of them."""
    duty = as_duty(text)
    return {"text": duty} if duty is not None else None


def skill_fields(text: str) -> dict[str, str] | None:
    """A quote's own words as a skill's fields, where they give its name and its use."""
    skill = as_skill(text)
    return {"name": skill[0], "description": skill[1]} if skill is not None else None


def cited(quotes: list[Quote], **fields: Any) -> dict[str, Any]:
    """An item's fields and the quotes it rests on (their ids and their sources)."""
    return {
        **fields,
        "sources": list(dict.fromkeys(quote.source for quote in quotes)),
        "evidence": [quote.id for quote in quotes],
    }


@dataclass(frozen=True)
class ItemKind:
    """One kind of item: see the module's docstring."""

    name: str
    section: SectionKind
    layout: Layout
    #: The answer the model gives, or None for a kind whose items are their quotes' own words.
    answer: type[Structured] | None
    #: The profile's item from the answer (None for a kind that asks no model) and its quotes.
    item: Callable[[Any, list[Quote]], dict[str, Any]]
    #: How a drafted item reads, as a reviewer quotes it.
    text_of: Callable[[dict[str, Any]], str]
    #: Items a section of the kind drafts (quotes shown, for a summary).
    count: int = 1
    draws: Draws = Draws.BEST
    #: The item's fields in the quote's own words and the house style, where their grammar
    #: allows (no model call).
    rewrite: Callable[[str], dict[str, str] | None] | None = None
    #: Whether an item the gate flags is left out rather than kept: where the sources name fewer
    #: (duties, skills, tools, titles), fewer is right: the completeness check says how few.
    fewer_allowed: bool = False

    @property
    def template(self) -> str:
        """Its template's path within the prompts folder."""
        return f"{KINDS_FOLDER}/{self.name}.toml"


#: Every kind, in profile order.
ITEM_KINDS = (
    ItemKind(
        "overview",
        OVERVIEW,
        Layout.SUMMARY,
        OverviewDraft,
        lambda answer, quotes: {"description": sentence(answer.description)},
        lambda item: str(item["description"]),
        count=3,
    ),
    ItemKind(
        "responsibility",
        RESPONSIBILITIES,
        Layout.LIST,
        StatementDraft,
        lambda answer, quotes: cited(quotes, text=sentence(answer.text)),
        lambda item: str(item["text"]),
        count=RESPONSIBILITIES_PER_LEVEL,
        draws=Draws.OWN_LEVEL,
        rewrite=duty_fields,
        fewer_allowed=True,
    ),
    ItemKind(
        "guideline",
        GUIDELINES,
        Layout.ROW,
        StatementDraft,
        lambda answer, quotes: cited(quotes, text=sentence(answer.text)),
        lambda item: str(item["text"]),
        rewrite=duty_fields,
    ),
    ItemKind(
        "skill",
        SKILLS,
        Layout.LIST,
        SkillDraft,
        lambda answer, quotes: cited(
            quotes, name=name(answer.name), description=sentence(answer.description)
        ),
        lambda item: f"{item['name']}: {item['description']}",
        count=SKILLS_DRAFTED,
        rewrite=skill_fields,
        fewer_allowed=True,
    ),
    ItemKind(
        "tool",
        TOOLS,
        Layout.LIST,
        ToolDraft,
        lambda answer, quotes: cited(quotes, name=name(answer.name)),
        lambda item: str(item["name"]),
        count=5,
        fewer_allowed=True,
    ),
    # The titles are the sources' own words: quoted, not written.
    ItemKind(
        "alias",
        ALIASES,
        Layout.LIST,
        None,
        lambda answer, quotes: cited(quotes, title=quotes[0].text),
        lambda item: str(item["title"]),
        count=5,
        fewer_allowed=True,
    ),
)


class Example(BaseModel):
    """A worked example: the quote(s) a drafter request shows, and the answer to give."""

    model_config = ConfigDict(extra="forbid")

    quote: str | None = Field(default=None, description="The quote shown (one-quote kinds).")
    quotes: list[str] | None = Field(default=None, description="The quotes shown (a summary).")
    aspect: str | None = Field(
        default=None, description="A guideline example's column heading, named before its quote."
    )
    answer: dict[str, Any] = Field(description="The answer, as the kind's response model takes it.")


class KindTemplate(BaseModel):
    """`prompts/items/NAME.toml`: what a kind's calls say."""

    model_config = ConfigDict(extra="forbid")

    instruction: str = Field(
        min_length=1, description="The instruction: a Jinja2 template, the system message's second part."
    )
    answer: ModelText = Field(description="What the tool schema says of the answer and of each field.")
    examples: list[Example] = Field(default_factory=list, description="Worked examples, in the order shown.")


class Occupation(BaseModel):
    """`prompts/examples.toml`: the worked examples' occupation."""

    model_config = ConfigDict(extra="forbid")

    occupation_words: str = Field(
        default="", description="The examples' occupation's words, white-space separated."
    )


@dataclass(frozen=True)
class KindPrompt:
    """A kind as its calls use it: its template, and its answer's model carrying the template's
    descriptions in its JSON schema."""

    kind: ItemKind
    template: KindTemplate
    model: type[BaseModel]


def load_kind_prompts(prompts: Prompts, kinds: tuple[ItemKind, ...] = ITEM_KINDS) -> dict[str, KindPrompt]:
    """The template of each of `kinds` that asks a model, by kind name: each example's answer
    checked against the kind's response model, each field described."""
    loaded = {}
    for kind in kinds:
        if kind.answer is None:
            continue
        path = prompts.folder / kind.template
        template = load_model(path, KindTemplate, f"{kind.name} item template")
        template.answer = described_text(prompts, template.answer, f"{path}: [answer]")
        fields = list(kind.answer.model_fields)
        unknown = [field for field in template.answer.fields if field not in fields]
        missing = [field for field in fields if field not in template.answer.fields]
        if unknown or missing:
            problem = f"no field {unknown[0]!r}" if unknown else f"no description for field {missing[0]!r}"
            raise BadInput(f"{path}: [answer.fields]: {problem}")
        for number, example in enumerate(template.examples, start=1):
            where = f"{path}: example {number}"
            if (example.quote is None) == (example.quotes is None):
                raise BadInput(f"{where}: give quote or quotes, not both or neither")
            try:
                kind.answer.model_validate(example.answer)
            except ValidationError as exc:
                raise BadInput(f"{where}: answer: {first_error(exc)}") from exc
        model = SchemaText({kind.answer.__name__: template.answer}).described(kind.answer)
        loaded[kind.name] = KindPrompt(kind, template, model)
    return loaded


def example_words(prompts: Path) -> str:
    """The words of the worked examples' occupation, which no drafted item may borrow."""
    return load_model(prompts / EXAMPLES_FILE, Occupation, "drafting examples").occupation_words


def drafting_instructions(prompts: Path) -> list[str]:
    """What a drafter call is told, as the files hold it: every kind's instruction (by kind
    name), then the framing every call shares (`system.j2`)."""
    return [
        *(
            load_model(prompts / kind.template, KindTemplate, f"{kind.name} item template").instruction
            for kind in sorted(ITEM_KINDS, key=lambda kind: kind.name)
            if kind.answer is not None
        ),
        (prompts / SYSTEM_TEMPLATE).read_text(encoding="utf-8"),
    ]
