"""A pattern made from its kept code is `re.compile`'s own, and the guard reads its patterns
once per Python: a cold read and a warm one give the same rules."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from test_prefilter import guard_patterns, random_regex, texts

from jfmfactory.errors import BadInput
from jfmfactory.inputs import guard, patterns
from jfmfactory.inputs.guard import load_rules, rule_for


def test_every_guard_pattern_made_from_its_code_is_the_compiled_one() -> None:
    for pattern in guard_patterns():
        code = patterns.read(pattern.pattern, int(re.I))[1]
        assert code is not None
        assert patterns.compiled(pattern.pattern, int(re.I), code) == pattern  # flags, text, code


def test_random_patterns_made_from_their_code_match_as_compiled() -> None:
    rng = random.Random(35)
    made_count = 0
    for _ in range(800):
        regex = random_regex(rng) + rng.choice(["", "(?P<name>x)", "(?P<name>x)(?P=name)", "(a)(?:b)(c)"])
        flags = rng.choice([re.I, 0, re.I | re.A])
        try:
            expected = re.compile(regex, flags)
        except re.error:
            with pytest.raises(re.error):
                patterns.read(regex, int(flags))
            continue
        made = patterns.compiled(regex, int(flags), patterns.read(regex, int(flags))[1])
        assert made == expected, regex
        assert (made.groups, made.groupindex) == (expected.groups, expected.groupindex)
        made_count += 1
    assert made_count > 500


def test_code_the_engine_refuses_is_compiled_as_usual() -> None:
    for code in [(32, [1, 2, 3], 0, {}, (None,)), (32, "not a list", 0, {}, (None,)), ("x",)]:
        assert patterns.compiled("abc", re.I, code) == re.compile("abc", re.I)


def test_the_rules_read_warm_are_the_rules_read_cold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JFM_CACHE_DIR", str(tmp_path))
    cold = load_rules()
    assert [path.name.startswith("guard-patterns-") for path in tmp_path.iterdir()] == [True]

    def never(regex: str, flags: int) -> None:
        raise AssertionError(f"read again: {regex[:40]}")

    monkeypatch.setattr(patterns, "read", never)
    warm = load_rules()
    assert warm.directive == cold.directive
    assert warm.rules == cold.rules
    sample = texts()[::7]
    assert [warm.prefilter.possible(text) for text in sample] == list(map(cold.prefilter.possible, sample))
    assert [rule_for(text, warm) for text in sample] == [rule_for(text, cold) for text in sample]


def test_a_pattern_edited_after_it_was_kept_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "guard_patterns.toml"
    rule = "[[rules]]\nname = \"r\"\nwhen = [['ignore (your|all{}) instructions']]\n"
    path.write_text(rule.format(""), encoding="utf-8")
    assert rule_for("Please ignore all instructions.", load_rules(path)) == "r"
    path.write_text(rule.format("("), encoding="utf-8")  # a parenthesis left open
    with pytest.raises(BadInput, match=r"guard_patterns\.toml: rule 'r': bad pattern"):
        load_rules(path)


def test_a_change_to_the_reading_code_reads_the_patterns_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JFM_CACHE_DIR", str(tmp_path / "cache"))
    reader = tmp_path / "reader.py"  # stands for guard.py, patterns.py or prefilter.py
    monkeypatch.setattr(guard, "_READERS", (*guard._READERS, str(reader)))
    read = patterns.read
    reads: list[str] = []

    def counted(regex: str, flags: int) -> Any:
        reads.append(regex)
        return read(regex, flags)

    monkeypatch.setattr(patterns, "read", counted)
    for version, expected in [("_FLAGS = 2", True), ("_FLAGS = 2", False), ("_FLAGS = 0", True)]:
        reads.clear()
        reader.write_text(version, encoding="utf-8")
        load_rules()
        assert bool(reads) == expected, version
