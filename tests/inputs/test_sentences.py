from __future__ import annotations

import random
import re
from pathlib import Path

import pysbd
import pytest

from jfmfactory.inputs.guard import _unwrapped
from jfmfactory.inputs.sentences import segmenter

REPO = Path(__file__).resolve().parents[2]
#: Every shipped text a role reads or the guard is measured on.
SHIPPED = sorted(
    [
        *REPO.glob("seeds/**/*.txt"),
        *REPO.glob("calibration/cases/**/*.txt"),
        *REPO.glob("tests/inputs/guard_corpus/*.txt"),
        *REPO.glob("docs/*.md"),
    ]
)
#: Lines where pysbd's abbreviation pass changes the cut, or nearly does.
ABBREVIATED = [
    "Dr. Smith leads the team. She reports to Mr. Jones.",
    "Ship it by 5 p.m. today. Then review it, e.g. with the team lead.",
    "See No. 5 and pp. 12-14. Art. 3 applies.",
    "The U.S. market grew. The U.S.A. team, i.e. sales, did too.",
    "Works with a Ph.D. holder in St. Louis vs. a remote team.",
    "Reports to the Sr. Director. Sr. PMs lead vs. follow.",
    "Gen. Motors is a client; gen. purpose tools are not. Fig. 2 shows it.",
    "A d phil. student, a D.Phil. one, and an e g. typo.",
    "Capt. James, Lt. Dan, and Prof. X met on Jan. 5. They agreed.",
    "etc. and so on. Inc. is a suffix. Corp. too. No. it is not.",
    "mr.smith wrote. Then dr. who? Then ms. Marvel.",
    "Sentences without an abbreviation. Two of them! And a third?",
]


def _plain() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _spans(cut: pysbd.Segmenter, text: str) -> list[tuple[int, int, str]]:
    return [(span.start, span.end, span.sent) for span in cut.segment(text)]


def test_the_shipped_texts_are_found() -> None:
    assert len(SHIPPED) >= 20


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: str(path.relative_to(REPO)))
def test_every_shipped_text_is_cut_as_plain_pysbd_cuts_it(path: Path) -> None:
    plain = _plain()
    text = path.read_text(encoding="utf-8")
    # As the guard cuts it (whole, wrapped lines joined) and as the evidence stage does (by line).
    for piece in [text, _unwrapped(text), *text.splitlines()]:
        assert _spans(segmenter(), piece) == _spans(plain, piece), piece


@pytest.mark.parametrize("line", ABBREVIATED)
def test_abbreviated_lines_are_cut_as_plain_pysbd_cuts_them(line: str) -> None:
    plain = _plain()
    for text in (line, line.lower(), line.upper(), f"Intro.\n{line}\n- {line}"):
        assert _spans(segmenter(), text) == _spans(plain, text), text


def test_the_abbreviation_pass_is_skipped_only_where_it_changes_nothing() -> None:
    replacer = segmenter().language_module.AbbreviationReplacer
    assert replacer.abbreviated.search("Defines the roadmap. Leads the team.") is None
    assert replacer.abbreviated.search("Reports to the Sr. Director.") is not None
    assert replacer.abbreviated.search("Works with a Ph.D. holder.") is not None


def test_the_segmenter_runs_the_skipping_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # Told that no line holds an abbreviation, it cuts after "Dr." as pysbd without the pass would.
    line = "Dr. Smith leads the team."
    assert [span.sent for span in segmenter().segment(line)] == [line]
    replacer = segmenter().language_module.AbbreviationReplacer
    monkeypatch.setattr(replacer, "abbreviated", re.compile(r"(?!)"))
    assert [span.sent for span in segmenter().segment(line)] == ["Dr. ", "Smith leads the team."]


def test_random_lines_of_abbreviations_are_cut_as_plain_pysbd_cuts_them() -> None:
    from pysbd.lang.english import English

    pick = random.Random(25)
    words = [*English.Abbreviation.ABBREVIATIONS, "the", "team", "I", "5", "(a)", "lead", "U.S", "p.m"]
    ends = ["", ".", ". ", ".. ", ": ", ", ", "? ", "-", " ", "\n"]
    plain = _plain()
    for _ in range(400):
        line = "".join(
            pick.choice([str.lower, str.upper, str.title])(pick.choice(words)) + pick.choice(ends)
            for _ in range(pick.randint(3, 12))
        )
        assert _spans(segmenter(), line) == _spans(plain, line), line
