"""Prepared answers for the scripted endpoint: a valid, grounded draft of every item (written from
the quote the request shows) and reviewer verdicts a test sets per dimension. Shared by the
tests and the benchmarks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from jfmfactory.inputs.grammar import as_duty
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import LEVELS, RoleSeeds
from jfmfactory.llm.parallel import run_to_completion
from jfmfactory.pipeline.drafter import Drafter
from jfmfactory.pipeline.evidence import gather, load_queries
from jfmfactory.pipeline.role_inputs import read_inputs
from jfmfactory.records.profile import Profile
from jfmfactory.records.runlog import Transcript
from scripted_server import Reply

REPO = Path(__file__).resolve().parents[1]


def reviewer_title(request: dict[str, Any]) -> str | None:
    """The reviewer a request is for, from its review prompt (a follow-up keeps it)."""
    prompt = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
    found = re.search(r"Your dimension: (.+?)\. You judge", prompt)
    return found.group(1) if found else None


class Script:
    """Prepared answers: a valid draft for every section; reviewer verdicts set per dimension.

    `verdicts[title]` is a list of (score, issues) used one per round; the last one repeats.
    """

    def __init__(self) -> None:
        self.verdicts: dict[str, list[tuple[int, list[dict[str, str]]]]] = {}
        self.review_counts: dict[str, int] = {}
        self.overrides: dict[str, Callable[[dict[str, Any]], dict[str, Any] | Reply]] = {}

    def __call__(self, request: dict[str, Any]) -> dict[str, Any] | Reply:
        name = request["tool_choice"]["function"]["name"]
        if name in self.overrides:
            return self.overrides[name](request)
        if name == "ReviewDraft":
            return self.review(request)
        if name == "LadderDraft":
            return ladder_answer(request)
        return draft_answer(name, quotes_of(request))

    def review(self, request: dict[str, Any]) -> dict[str, Any]:
        title = reviewer_title(request) or "?"
        count = self.review_counts.get(title, 0)
        self.review_counts[title] = count + 1
        plan = self.verdicts.get(title, [(5, [])])
        score, issues = plan[min(count, len(plan) - 1)]
        return {"issues": issues, "rationale": f"{title}: scored {score}.", "score": score}


def quotes_of(request: dict[str, Any]) -> list[str]:
    """The quotes a drafter request shows (its last turn; earlier ones are worked examples)."""
    prompt = next((m["content"] for m in reversed(request["messages"]) if m["role"] == "user"), "")
    return re.findall(r"<quote>(.*?)</quote>", prompt, re.DOTALL)


def _sentence(quote: str) -> str:
    """What a model asked for a duty writes from a quote the drafter could not turn into one in
    its own words: the quote's words after a verb of the house style ("Applies …"). A quote that
    speaks of "the role" ("the role changes to mentoring PMs") loses those words, as a model
    writing an item would drop them: the prose check faults talk about the role."""
    text = re.sub(r"^(?:the|this) (?:role|person|position)\s+", "", quote.strip(), flags=re.IGNORECASE)
    text = re.sub(r"^(?:a|an|the)\s+", "", text.rstrip("."), flags=re.IGNORECASE)
    return f"Applies {text[:1].lower()}{text[1:]}."


def draft_answer(name: str, quotes: list[str]) -> dict[str, Any]:
    """A valid answer for each drafter tool, written from the quote(s) shown: grounded by
    construction, so that the deterministic checks judge the drafting, not the double."""
    quote = quotes[0] if quotes else "supports the product development process"
    if name == "StatementDraft":
        return {"text": _sentence(quote)}
    if name == "SkillDraft":
        return {"name": " ".join(quote.split()[:3]).title()[:40], "description": _sentence(quote)}
    if name == "ToolDraft":
        return {"name": " ".join(quote.split()[:2]).title()[:40]}
    if name == "OverviewDraft":
        return {"description": " ".join(_sentence(q) for q in quotes)[:600]}
    raise AssertionError(f"unexpected tool {name}")


def _ladder_item(quote: str) -> str:
    """A ladder item: the quote as a duty where its grammar allows, else the quote's own words."""
    text = quote.strip().rstrip(".")
    return as_duty(quote) or f"{text[:1].upper()}{text[1:]}."


def ladder_answer(request: dict[str, Any]) -> dict[str, Any]:
    """The ladder path's answer: for each level shown, five items each written from (and citing)
    one of that level's quotes, in the order shown."""
    prompt = next((m["content"] for m in reversed(request["messages"]) if m["role"] == "user"), "")
    levels = re.split(r"^Level \d+ of \d+.*$", prompt, flags=re.M)[1:]
    answer = []
    for block in levels:
        quotes = re.findall(r"- (E\d+): <quote>(.*?)</quote>", block, re.DOTALL)[:5]
        answer.append(
            {"responsibilities": [{"text": _ladder_item(text), "evidence": [qid]} for qid, text in quotes]}
        )
    return {"levels": answer}


class ScriptedLLM:
    """The drafter's model replaced in-process by `draft_answer`: no HTTP, for canned profiles."""

    model = "scripted"

    async def ask(self, call: str, round_number: int, response_model: Any, messages: list[dict[str, str]],
                  **_: Any) -> tuple[Any, Transcript]:  # fmt: skip
        user = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        answer = draft_answer(response_model.__name__, re.findall(r"<quote>(.*?)</quote>", user, re.DOTALL))
        return response_model.model_validate(answer), Transcript(
            call=call, round=round_number, model=self.model
        )


class CountingScript(ScriptedLLM):
    """The in-process double, counting the calls it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    async def ask(self, *args: Any, **options: Any) -> tuple[Any, Transcript]:
        self.calls += 1
        return await super().ask(*args, **options)


def round_one_calls(root: Path = REPO, role: str = "product-management") -> int:
    """The drafter calls a first round of `role` costs with the scripted answers: one per item
    not written in its quote's own words, and one per item drafted again where the gate would
    flag the first."""
    inputs = read_inputs(Project.find(root), role)
    llm = CountingScript()
    drafter = Drafter(llm, inputs.prompts, inputs.seeds, inputs.drafting_context(), inputs.code,  # type: ignore[arg-type]
                      inputs.schema_text)  # fmt: skip
    for key in drafter.section_keys:
        run_to_completion(drafter.draft_section(key, 1))
    return llm.calls


def canned_profile(seeds: RoleSeeds, root: Path = REPO) -> Profile:
    """The profile the scripted drafter writes from `seeds` (with `root`'s prompts, panel and
    catalog), assembled without a server."""
    project = Project.find(root)
    inputs = read_inputs(project, seeds.role)
    catalog = inputs.catalog
    titles = {level: catalog.rubric.block(level).titles for level in LEVELS} if catalog else {}
    evidence = gather(seeds, titles, load_queries(project.prompts), inputs.checks.vocabulary)
    inputs = replace(inputs, seeds=seeds).with_evidence(evidence)
    drafter = Drafter(ScriptedLLM(), inputs.prompts, seeds, inputs.drafting_context(), inputs.code,  # type: ignore[arg-type]
                      inputs.schema_text)  # fmt: skip
    sections = {key: run_to_completion(drafter.draft_section(key, 1))[0] for key in drafter.section_keys}
    return drafter.assemble(sections)


def generate_roles(seeds: Path, count: int, levels: tuple[str, ...] = ("P2", "P3")) -> list[str]:
    """`count` roles made from the shipped product-management seeds, each with a title of its
    own and `levels` only (fewer levels, fewer calls): a catalog's worth of roles for batch runs."""
    shipped = REPO / "seeds" / "product-management"
    manifest = (shipped / "manifest.toml").read_text(encoding="utf-8")
    roles = []
    for number in range(1, count + 1):
        role = f"generated-{number:03d}"
        folder = seeds / role
        folder.mkdir(parents=True)
        for source in shipped.glob("*.txt"):
            (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        text = re.sub(
            r'^title = ".*"$', f'title = "Generated Role {number:03d}"', manifest, count=1, flags=re.M
        )
        # A focus of its own: one another role drafts would be refused.
        text = re.sub(r'^focus = ".*"$', f'focus = "Generated Role {number:03d}"', text, count=1, flags=re.M)
        text = re.sub(
            r"^levels = .*$", f"levels = {list(levels)!r}".replace("'", '"'), text, count=1, flags=re.M
        )
        (folder / "manifest.toml").write_text(text, encoding="utf-8")
        roles.append(role)
    return roles


def first_item(request: dict[str, Any], section: str) -> str | None:
    """The first item of `section` in the draft a reviewer is shown."""
    prompt = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
    found = re.search(rf"^\[{re.escape(section)}\]\n- (.+)$", prompt, re.M)
    return found.group(1) if found else None


def stateless(request: dict[str, Any]) -> dict[str, Any] | Reply:
    """Answers that depend on the request alone, so that a batched run and a live one, asking in
    any order, get the same: drafts as `draft_answer`; the Clarity reviewer faults the first
    responsibility of the first level (3), every other reviewer scores 5. A drafter's first ask
    for the tool whose quote mentions "hypothesis" is answered with no fields (a re-ask
    follows)."""
    name = request["tool_choice"]["function"]["name"]
    if name == "LadderDraft":
        return ladder_answer(request)
    if name != "ReviewDraft":
        quotes = quotes_of(request)
        reasked = any(m["role"] == "tool" for m in request["messages"])
        if name == "ToolDraft" and not reasked and quotes and "hypothesis" in quotes[0]:
            return {}
        return draft_answer(name, quotes)
    title = reviewer_title(request) or "?"
    if title == "Clarity":
        prompt = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
        level = re.search(r"^\[responsibilities\.(\w+)\]$", prompt, re.M)
        section = f"responsibilities.{level.group(1)}" if level else "overview"
        # Its first words: a reviewer's quote is short (the model's field caps it), and still verifies.
        quote = " ".join((first_item(request, section) or "").split()[:8])
        issue = {"section": section, "quote": quote, "problem": "too vague to act on"}
        return {"issues": [issue], "rationale": "One item is vague.", "score": 3}
    return {"issues": [], "rationale": f"{title}: sound.", "score": 5}


def cells_from_quotes(project: Project) -> Project:
    """`project` with no guideline cells in its level rubric: each cell is drafted from a quote by
    a call, as in a catalog that gives none (more calls, for tests of the calls themselves)."""
    levels = project.root / "catalog" / "levels.toml"
    text = levels.read_text(encoding="utf-8")
    levels.write_text(re.sub(r"(?ms)^\[P\d\.guidelines\]\n.*?(?=^\[|\Z)", "", text), encoding="utf-8")
    return project
