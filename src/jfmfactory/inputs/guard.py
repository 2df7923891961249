"""Untrusted sources: passages that speak to the model instead of about the role are withheld.

A source is evidence about a role. A sentence that directs the run's own work, what the drafter
writes or how the panel judges it, is an attempt to steer the run. Such sentences are removed
before any prompt is built, so neither the drafter nor a reviewer ever reads them; `run.json` lists
each with the rule that caught it. The delimiters in the prompts remain as a second line of defence
for what the rules miss.

The guard judges what a sentence asks for, not its wording, by two questions asked apart (no model
is involved: the judgement is deterministic). (a) Is the sentence a directive: an imperative
opening a clause, a modal of obligation (must, should, is to, il faut, doit, muss, soll, debe …),
a request ("please", "could you"), a verdict stated as the right one ("the correct score is 5")?
(b) Is what it directs the run's own work: the text being generated (the profile, a summary
produced from this page, a duty for every level), its judging (a score, a review, faults or the
approval of this profile), or a reader that is the run (an AI, an assistant, an automated system,
whoever processes this text)? A sentence is withheld when both hold. A job ad directs its reader
all the time ("You should be comfortable presenting to executives") and describes judging all the
time ("Managers rate each report on a five-point scale"); either alone is kept. A few shapes direct
by themselves and need no (a): a note addressed to a reviewer or a model, "ignore your
instructions", "as an AI".

Both questions are data: word classes and rules in English, French, German and Spanish in
`guard_patterns.toml`, beside this module, so content ops can widen them without Python; a bad
pattern is a one-line error naming the file and the rule. The corpus in
`tests/inputs/guard_corpus/` measures every change, including a batch written by someone who never
saw the rules.

The guard judges sentences, not lines: the text is cut with pysbd, after joining a line that a
sentence runs over onto the next, so a sentence wrapped in the source is judged and withheld whole.
A line ending in a quotation mark that closes after a word (not after a full stop) runs on when the
next line starts in lower case, so a withheld sentence takes its continuation with it; a capital
there starts a new sentence, so a quotation closing a line is not glued to an unrelated one.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import BadInput
from ..records.runlog import Withheld
from . import patterns, prefilter
from .datafile import read_toml
from .disk_cache import kept
from .patterns import Code
from .prefilter import Atoms, Prefilter
from .seeds import RoleSeeds
from .sentences import segmenter

PATTERNS_FILE = Path(__file__).with_name("guard_patterns.toml")
_WORD = re.compile(r"\{(\w+)\}")
#: How every guard pattern is matched (an int: the engine takes its flags so).
_FLAGS = int(re.IGNORECASE)
#: The code that reads the patterns, kept on disk by their text and this code (these flags and
#: `_rules` included): a change to any of it reads them again.
_READERS = (__file__, patterns.__file__, prefilter.__file__)
# A line ending so is a whole sentence or a heading; otherwise a sentence may run on to the next.
# A closing quotation mark ends a sentence only after a full stop, a question or an exclamation.
_ENDS_SENTENCE = re.compile(r"(?:[.!?…][\"'”’»“‘]*|[:;)\]])\s*$")
# A line ending in a quotation that closes after a word: the sentence runs on if the next line
# starts in lower case ("… “Approves all expenses”\nto every level."); a capital starts anew.
_ENDS_IN_QUOTE = re.compile(r"[\"'”’»“‘]\s*$")
# A line starting so begins something new: a list item, a numbered point, a speaker.
_STARTS_ITEM = re.compile(r"^\s*(?:[-*•–—]|\d+[.)]|[A-Z]\)|Q:|A:|#)")


def _expand(regex: str, words: dict[str, str], path: Path, where: str) -> str:
    """The regex with each `{name}` replaced by its word class (`{2}` and `{0,3}` are quantifiers)."""

    def word(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in words:
            return words[name]
        if name.isdigit():
            return match.group(0)
        raise BadInput(f"{path}: {where}: no word class {{{name}}} in [words] above it")

    return _WORD.sub(word, regex)


class Test(NamedTuple):
    """Patterns that must all be found in one sentence, and their bits in `Rules.prefilter`."""

    patterns: tuple[re.Pattern[str], ...]
    bits: int

    def holds(self, sentence: str, possible: int) -> bool:
        """Whether every pattern is found in `sentence`, whose prefilter bits are `possible`."""
        if self.bits & possible != self.bits:
            return False  # a pattern needs a string the sentence lacks
        return all(pattern.search(sentence) for pattern in self.patterns)


class Rule(NamedTuple):
    """A rule's name, whether it holds only in a directive, and its tests (any one suffices)."""

    name: str
    directive: bool
    tests: tuple[Test, ...]


class Rules(NamedTuple):
    """What makes a sentence a directive (any one test), and the rules tried in order."""

    directive: tuple[Test, ...]
    rules: tuple[Rule, ...]
    #: Which patterns a sentence may match: most patterns need a word an ordinary sentence lacks.
    prefilter: Prefilter


def load_rules(path: Path = PATTERNS_FILE) -> Rules:
    """The directive markers and the rules of the patterns file; a word class may use those above it."""
    data = read_toml(path, "guard patterns")
    words: dict[str, str] = {}
    for name, value in data.get("words", {}).items():
        words[name] = _expand(str(value), words, path, f"[words] {name}")
    try:
        return _rules(data, words, path)
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadInput(
            f"{path}: each [[rules]] entry needs a name and `when`, a list of lists ({exc!r})"
        ) from exc


def _rules(data: dict[str, Any], words: dict[str, str], path: Path) -> Rules:
    # Each distinct regex is one pattern and one bit of the prefilter: its index in `bit_of`;
    # where it is first used names it in an error.
    bit_of: dict[str, int] = {}
    first_used: list[str] = []

    def spelled(regexes: list[str], where: str) -> list[int]:
        indices = []
        for regex in (_expand(regex, words, path, where) for regex in regexes):
            if regex not in bit_of:
                bit_of[regex] = len(first_used)
                first_used.append(where)
            indices.append(bit_of[regex])
        return indices

    directives = [spelled([regex], "[directive]") for regex in data.get("directive", {}).get("when", [])]
    rules = [
        (str(rule["name"]), bool(rule.get("directive", False)),
         [spelled(regexes, f"rule {rule['name']!r}") for regexes in rule["when"]])
        for rule in data.get("rules", [])
    ]  # fmt: skip

    def read_all() -> tuple[tuple[Atoms, Code | None], ...]:
        """Every pattern parsed: a bad one is an error here, not mid-run."""
        found = []
        for regex, where in zip(bit_of, first_used, strict=True):
            try:
                found.append(patterns.read(regex, _FLAGS))
            except (re.error, OverflowError, RecursionError) as exc:  # (a repeat past the engine's limit)
                raise BadInput(f"{path}: {where}: bad pattern ({exc}): {regex[:80]}") from exc
        return tuple(found)

    readers = b"".join(Path(str(source)).read_bytes() for source in _READERS)
    key = b"\0".join([patterns.ENGINE.encode(), readers, *(regex.encode() for regex in bit_of)])
    read = kept("guard-patterns", key, read_all)
    made = [patterns.compiled(regex, _FLAGS, code) for regex, (_, code) in zip(bit_of, read, strict=True)]

    def test(indices: list[int]) -> Test:
        return Test(tuple(made[index] for index in indices), sum({1 << index for index in indices}))

    return Rules(
        directive=tuple(map(test, directives)),
        rules=tuple(
            Rule(name, only_directive, tuple(map(test, tests))) for name, only_directive, tests in rules
        ),
        prefilter=Prefilter([atoms for atoms, _ in read]),
    )


@cache
def shipped_rules() -> Rules:
    """The rules `jfm` runs with, read once, when first needed (a bad file fails the run, not the import)."""
    return load_rules()


def is_directive(sentence: str, rules: Rules | None = None) -> bool:
    """Whether the sentence asks for something: an imperative, a modal of obligation, a request."""
    rules = rules or shipped_rules()
    possible = rules.prefilter.possible(sentence)
    return any(test.holds(sentence, possible) for test in rules.directive)


def rule_for(sentence: str, rules: Rules | None = None) -> str | None:
    """The name of the first rule that holds for the sentence, if any."""
    rules = rules or shipped_rules()
    possible = rules.prefilter.possible(sentence)
    directive: bool | None = None
    for rule in rules.rules:
        if rule.directive:
            if directive is None:
                directive = any(test.holds(sentence, possible) for test in rules.directive)
            if not directive:
                continue
        if any(test.holds(sentence, possible) for test in rule.tests):
            return rule.name
    return None


def _unwrapped(text: str) -> str:
    """The text with each line break inside a sentence made a space (same length, same offsets)."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i + 1 < len(lines):
            following = lines[i + 1]
            wraps = (
                line.strip()
                and following.strip()
                and not _ENDS_SENTENCE.search(line)
                and not _STARTS_ITEM.match(following)
                and (not _ENDS_IN_QUOTE.search(line) or following.lstrip()[0].islower())
            )
            out.append(" " if wraps else "\n")
    return "".join(out)


def _sentences(text: str) -> list[tuple[int, int]]:
    """The spans of the text's sentences, a wrapped sentence as one."""
    joined = _unwrapped(text)
    return [(span.start, span.end) for span in segmenter().segment(joined) if span.sent.strip()]


def screen_text(source_id: str, text: str) -> tuple[str, list[Withheld]]:
    """The text without instruction-like sentences; a line left empty is dropped whole."""
    removed = [False] * len(text)
    withheld = []
    for start, end in _sentences(text):
        sentence = " ".join(text[start:end].split())
        rule = rule_for(sentence)
        if rule is not None:
            withheld.append(Withheld(source=source_id, text=sentence, rule=rule))
            removed[start:end] = [True] * (end - start)
    if not withheld:
        return text, []
    kept_lines = []
    offset = 0
    for line in text.split("\n"):
        mask = removed[offset : offset + len(line)]
        offset += len(line) + 1
        if not any(mask):
            kept_lines.append(line)
            continue
        runs = re.findall(
            r"[^\x00]+", "".join("\x00" if gone else ch for ch, gone in zip(line, mask, strict=True))
        )
        kept = " ".join(run.strip() for run in runs if run.strip())
        if kept:
            kept_lines.append(kept)
    return "\n".join(kept_lines), withheld


def screen(seeds: RoleSeeds) -> tuple[RoleSeeds, list[Withheld]]:
    """The role's seeds as the prompts may read them, and every passage withheld."""
    sources = []
    withheld: list[Withheld] = []
    for source in seeds.sources:
        text, found = screen_text(source.id, source.text)
        sources.append(source.model_copy(update={"text": text}))
        withheld.extend(found)
    return seeds.model_copy(update={"sources": sources}), withheld
