from __future__ import annotations

import pytest

from jfmfactory.records.jsonl import JsonlError, jsonl_text, parse_jsonl


def test_a_line_separator_inside_a_string_does_not_end_the_line() -> None:
    values = [{"text": "one\u2028two\u2029three\x85four"}, {"n": 2}]
    text = jsonl_text(values)
    assert text.count("\n") == 2
    assert parse_jsonl(text) == values
    assert parse_jsonl(text.replace("\n", "\r\n")) == values


def test_a_line_that_is_not_json_is_named_or_skipped() -> None:
    text = '{"a": 1}\n\nnot json\n{"b": 2}\n'
    with pytest.raises(JsonlError, match="line 3 is not JSON"):
        parse_jsonl(text)
    assert parse_jsonl(text, skip_bad=True) == [{"a": 1}, {"b": 2}]
