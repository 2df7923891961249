"""Which of many regular expressions a text may match, told by one pass over it.

The guard's patterns are word classes spelled out, thousands of characters each, and Python's
engine tries each at every position of a sentence: 480 µs a sentence, most of a role's screening.
Yet almost every pattern needs one of a few strings ("reviewer", "model", "this profile" …), and a
sentence holding none of them cannot match. `needed` reads a pattern's syntax tree (the engine's
own parse, made once by `patterns.read` and kept on disk) for such a set of lowercase strings;
`Prefilter` finds every pattern's strings in a sentence in one Aho-Corasick pass, so a pattern is
searched only when one of its strings is there.

Skipping is exact, never a guess: a set is kept only if every match must contain one of its
strings, and where that cannot be told (an optional part, a character class, a back-reference)
the pattern is always searched. Case is compared by lowering both sides, which equals the
engine's own case-insensitive rule except for a few letters (the long s, the dotless i, the
Greek sigmas …); a sentence holding one of those is searched in full, and a pattern's literal
that is one of them ends the string being spelled. tests/inputs/test_prefilter.py holds every
pattern to it over the guard's corpus and the shipped texts.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import ahocorasick

try:  # the engine's node types and case table: private, so read with care
    from re import _casefix, _constants  # type: ignore[attr-defined]

    #: Letters the engine matches case-insensitively with a letter that lowering does not give.
    _FOLDS_APART = frozenset(
        chr(code) for key, others in _casefix._EXTRA_CASES.items() for code in (key, *others)
    )
    _ENGINE_READ = True
except (ImportError, AttributeError):  # another Python's engine: every pattern is searched
    _FOLDS_APART = frozenset()
    _ENGINE_READ = False


def plain(text: str) -> bool:
    """Whether lowering `text` compares its letters as the engine's case-insensitive search does."""
    return text.isascii() or not any(
        not ch.isascii() and (ch in _FOLDS_APART or len(low := ch.lower()) != 1 or low in _FOLDS_APART)
        for ch in text
    )


# A set of strings one of which every match holds; None: nothing is known.
Atoms = frozenset[str] | None


def _better(a: Atoms, b: Atoms) -> Atoms:
    """The set that rules out more sentences: longer strings first, then fewer of them."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=lambda atoms: (min(map(len, atoms)), -len(atoms)))


#: The most strings an item's exact matches are spelled out to; past it, the run is cut.
MAX_SPELLED = 256


@functools.cache
def _letter(code: int) -> str | None:
    """A literal as it reads lowered, or None when lowering would not compare it as the engine does."""
    ch = chr(code)
    return ch.lower() if plain(ch) and len(ch.lower()) == 1 else None


def _union(choices: Iterable[frozenset[str] | None], most: float = math.inf) -> frozenset[str] | None:
    """Every string of the choices (what a choice of them holds), or None when one is unknown or
    there are more than `most`."""
    found: set[str] = set()
    for strings in choices:
        if strings is None:
            return None
        found |= strings
        if len(found) > most:
            return None
    return frozenset(found)


def _joined(heads: frozenset[str], tails: frozenset[str]) -> frozenset[str] | None:
    if len(heads) * len(tails) > MAX_SPELLED:
        return None
    return frozenset(head + tail for head in heads for tail in tails)


def _spelled(op: Any, arg: Any) -> frozenset[str] | None:
    """Every string an item can match, lowered, when they are few ("" for what consumes nothing)."""
    if op is _constants.LITERAL:
        letter = _letter(arg)
        return None if letter is None else frozenset({letter})
    if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
        return frozenset({""})  # consumes nothing: the characters either side stay adjacent
    if op is _constants.SUBPATTERN:
        return _spelled_run(arg[3])
    if op is _constants.BRANCH:
        return _union((_spelled_run(branch) for branch in arg[1]), MAX_SPELLED)
    if op is _constants.IN and all(member_op is _constants.LITERAL for member_op, _ in arg):
        letters = [_letter(code) for _, code in arg]
        return None if None in letters else frozenset(letters)  # type: ignore[arg-type]
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and arg[1] <= 1:
        body = _spelled_run(arg[2])
        if body is None:
            return None
        return body | {""} if arg[0] == 0 else body
    return None


def _listed(items: Any) -> list[Any]:
    """A parsed run's items as a list (a parser SubPattern indexes its list slowly)."""
    return getattr(items, "data", items)


def _spelled_run(items: Any) -> frozenset[str] | None:
    spelled = frozenset({""})
    word = ""  # the literals since the last other item, joined at once (most of a word class)
    for op, arg in _listed(items):
        if op is _constants.LITERAL and (letter := _letter(arg)) is not None:
            word += letter
            continue
        part = _spelled(op, arg)
        if part is None:
            return None
        joined = _joined(spelled, frozenset(word + tail for tail in part))
        if joined is None:
            return None
        spelled, word = joined, ""
    return frozenset(head + word for head in spelled)


def _sequence(items: Any) -> Atoms:
    """What a run of items needs: the best of its spelled-out runs and its parts' own sets."""
    best: Atoms = None
    run = frozenset({""})

    def ended(run: frozenset[str]) -> Atoms:
        return run if "" not in run else None

    for op, arg in _listed(items):
        part = _spelled(op, arg)
        joined = None if part is None else _joined(run, part)
        if joined is not None:
            run = joined
            continue
        best = _better(best, ended(run))
        if part is not None:  # too many strings joined: a new run starts here
            run = part
            continue
        run = frozenset({""})
        best = _better(best, _item(op, arg))
    return _better(best, ended(run))


def _item(op: Any, arg: Any) -> Atoms:
    if op is _constants.SUBPATTERN:
        return _sequence(arg[3])
    if op is _constants.BRANCH:
        return _union(_sequence(branch) for branch in arg[1])
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT):
        low, _, body = arg
        return _sequence(body) if low >= 1 else None
    if op is _constants.ATOMIC_GROUP:
        return _sequence(arg)
    return None


def needed(tree: Any, flags: int) -> Atoms:
    """Lowercase strings one of which every match of a pattern holds, from its syntax tree (the
    engine's parse of it with `flags`, made by `patterns.read`); None if none can be told."""
    if not _ENGINE_READ or (flags | tree.state.flags) & re.VERBOSE:
        return None  # (a verbose pattern's tree is the same, but keep to what the tests cover)
    try:
        atoms = _sequence(tree)
    except (RecursionError, AttributeError, TypeError, ValueError, IndexError, KeyError):
        return None  # an engine of another version: search in full
    return atoms if atoms and all(atoms) else None


class Prefilter:
    """Which of a list of patterns a text may match, told by one pass over the text: bit i of
    `possible(text)` is set when pattern i may be found in it, and clear when it cannot be.

    Built from each pattern's `needed` strings, which `guard` keeps on disk between processes."""

    def __init__(self, needs: Sequence[Atoms]) -> None:
        self.every = (1 << len(needs)) - 1
        self.always = 0
        users: dict[str, int] = {}
        for index, atoms in enumerate(needs):
            if atoms is None:
                self.always |= 1 << index
            for atom in atoms or ():
                users[atom] = users.get(atom, 0) | 1 << index
        self.automaton = ahocorasick.Automaton()
        for atom, bits in users.items():
            self.automaton.add_word(atom, bits)
        if users:
            self.automaton.make_automaton()

    def possible(self, text: str) -> int:
        """The bits of the patterns that may be found in `text`."""
        if not plain(text):
            return self.every
        found = self.always
        if len(self.automaton):
            for _, bits in self.automaton.iter(text.lower()):
                found |= bits
        return found
