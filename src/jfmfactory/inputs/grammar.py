"""The grammar a house-style item needs, judged with a kept library (lemminflect's lexicon of
lemmas and inflections), never a hand-kept list of verbs.

A duty of the house style starts with a verb in the third person singular, present tense
("Defines", "Leads", "Coordinates"), with no subject before it; a guideline cell is a sentence
(or a lead-in, then ';' or '—' and such a clause). `duty_verb` says whether a word is such a verb;
`present_third_person` turns a verb into that form, and `as_duty` a quote into a duty in its own
words (for the drafter).
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from pathlib import Path

import lemminflect
from lemminflect.core.Inflections import Inflections
from lemminflect.core.Lemmatizer import Lemmatizer

from .disk_cache import kept

#: Verbs that only help another verb: "Is responsible for", "Has a significant impact" describe
#: the person, not what they do.
_AUXILIARIES = frozenset({"be", "have", "can", "will", "may", "might", "must", "shall", "should"})
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
#: The reader addressed: what a published profile never says.
SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|yourselves|you['’](?:re|ll|ve|d))\b", re.I)


def words(text: str) -> list[str]:
    return WORD.findall(text)


@cache
def _lexicon() -> None:
    """Give lemminflect its two tables from the copy kept on disk (`disk_cache`).

    lemminflect reads them from gzipped CSV files when first asked: a third of a second at the
    start of every command, against a tenth for the kept copy. The copy is keyed by lemminflect's
    version and the files' path, size and time; if lemminflect no longer reads its tables so, it
    reads them itself.
    """
    lemmatizer, inflections = Lemmatizer(), Inflections()
    if not (hasattr(lemmatizer, "_getLemmaDict") and hasattr(inflections, "_getInflDict")):
        return
    files = (Path(lemmatizer.lemma_lu_fn), Path(inflections.infl_lu_fn))
    try:
        stamps = [(str(path), stat.st_size, stat.st_mtime_ns) for path in files for stat in [path.stat()]]
        key = repr([lemminflect.__version__, *stamps]).encode()
    except (AttributeError, OSError):
        return
    lemmas, forms = kept("lemminflect", key, lambda: (lemmatizer._getLemmaDict(), inflections._getInflDict()))
    lemmatizer.lemma_dict, inflections.infl_dict = lemmas, forms


# lemminflect copies its entry for a word on every lookup (deep copies: 3% of a catalog's CPU);
# each is looked up once here, and only read.


@cache
def _lemmas(lower: str) -> dict[str, tuple[str, ...]]:
    """The lemmas of a word in lower case, by part of speech ("NOUN", "VERB" …)."""
    _lexicon()
    return lemminflect.getAllLemmas(lower)


@cache
def _inflections(lemma: str) -> dict[str, tuple[str, ...]]:
    """A lemma's forms in its lexicon, by Penn tag ("VBZ", "VBG" …)."""
    _lexicon()
    return lemminflect.getAllInflections(lemma)


@cache
def _inflection(lemma: str, tag: str) -> tuple[str, ...]:
    """A lemma's forms for one Penn tag, rule-made for a word out of its lexicon."""
    _lexicon()
    return lemminflect.getInflection(lemma, tag)


@cache
def verb_lemmas(word: str) -> tuple[str, ...]:
    """The verbs `word` may be a form of, in lower case (none for a word that is no verb)."""
    return tuple(_lemmas(word.lower()).get("VERB", ()))


@cache
def duty_verb(word: str) -> bool:
    """Whether `word` is a verb in the third person singular, present tense, and no auxiliary:
    "Leads", "Defines", "Does" (but not "Lead", "Leading", "Is", "They")."""
    lower = word.lower()
    return any(
        lemma not in _AUXILIARIES and lower in _inflection(lemma, "VBZ") for lemma in verb_lemmas(lower)
    )


@cache
def present_third_person(word: str) -> str | None:
    """The third person singular, present tense, of the verb `word` is a form of ("defining",
    "defined", "define" → "defines"), keeping a capital first letter; None when it is no verb."""
    for lemma in verb_lemmas(word):
        if lemma in _AUXILIARIES:
            continue
        forms = _inflection(lemma, "VBZ")
        if forms:
            form = forms[0]
            return form[0].upper() + form[1:] if word[:1].isupper() else form
    return None


def starts_with_duty_verb(text: str) -> bool:
    """Whether the text's first word is a duty verb, and not the plural subject of the verb after
    it ("Skills vary …", "Levels rise …")."""
    found = words(text)
    if not found or not duty_verb(found[0]):
        return False
    if _title_first(found):
        return False
    tokens = text.split()
    if tokens[1:2] and tokens[1].startswith("("):  # "Tastes (sense for …)": a term defined
        return False
    # "Supports and engineering": a verb joined to a noun, with no object of its own.
    if len(found) > 2 and found[1].lower() in ("and", "or") and _verb_form(found[2]) != "VBZ":
        return False
    if len(found) > 1 and "NOUN" in _lemmas(found[0].lower()):
        following = _lemmas(found[1].lower())
        if set(following) == {"VERB"} and _verb_form(found[1]) == "VB":
            return False
    return True


@cache
def lemma(word: str) -> str:
    """A word's dictionary form, a noun's before a verb's ("hypotheses" → "hypothesis")."""
    lemmas = _lemmas(word.lower())
    for part in ("NOUN", "VERB", "ADJ", "ADV"):
        if part in lemmas:
            return str(lemmas[part][0])
    return word.lower()


def has_own_verb(text: str) -> bool:
    """Whether a quote says what someone does with a verb of its own ("assisting with …", "are
    entrusted with …"), not only names a thing ("Advanced knowledge of …")."""
    found = words(text)
    for n, word in enumerate(found):
        parts = _lemmas(word.lower())
        if set(parts) != {"VERB"} or _verb_form(word) == "VB" or lemma(word) in _AUXILIARIES:
            continue
        # A gerund after an adjective or an article names a thing ("critical thinking").
        before = _lemmas(found[n - 1].lower()) if n else {}
        if _verb_form(word) == "VBG" and n and ("ADJ" in before or found[n - 1].lower() in _DETERMINERS):
            continue
        return True
    return False


def is_clause_sentence(text: str) -> bool:
    """Whether the text reads as a sentence of the house style: it starts with a duty verb, or a
    lead-in before ';', ':', '—' or '–' is followed by a clause that does ("Moderate;
    exercises judgment …", "Visionary problem-solving — selects …")."""
    return starts_with_duty_verb(text) or any(
        starts_with_duty_verb(part) for part in re.split(r"\s*[;:—–]\s*", text)[1:2]
    )


def stutter(text: str) -> str | None:
    """Words said twice where once is meant, if any: "defines and defines", "the the", a phrase
    of two words repeated ("cross-cutting themes … a cross-cutting theme")."""
    found = [word.lower() for word in words(text)]
    for first, second in itertools.pairwise(found):
        if first == second and len(first) > 1:
            return first
    for first, joiner, second in zip(found, found[1:], found[2:], strict=False):
        if joiner in ("and", "or") and first == second:
            return first
    pairs = [(lemma(a), lemma(b)) for a, b in itertools.pairwise(found) if len(a) > 3 and len(b) > 3]
    last = {pair: n for n, pair in enumerate(pairs)}  # a pair met again two or more pairs on
    repeated = next((pair for n, pair in enumerate(pairs) if last[pair] >= n + 2), None)
    return " ".join(repeated) if repeated else None


def gerund_chain(text: str) -> bool:
    """Whether three gerunds run into each other, a preposition between each ("is not working on
    helping with exploring them"): a source's run-on, which no duty can say plainly. Gerunds
    joined by "and" or "or" are a list ("on budgeting and forecasting")."""
    found = [word.lower() for word in words(text)]
    gerunds = [n for n, word in enumerate(found) if word.endswith("ing") and _verb_form(word) == "VBG"]
    linked = {n for n in gerunds if n + 2 in gerunds and found[n + 1] not in ("and", "or")}
    return any(n in linked and n + 2 in linked for n in gerunds)


# -- a quote as a duty ---------------------------------------------------------------------------

#: Words that open a sentence without being its subject or its verb.
_OPENERS = re.compile(
    r"^(?:everything above plus|in addition to the above,?|finally,?|again,?|also,?|plus"
    r"|at (?:this|that|the [\w-]+) level,)\s+",
    re.I,
)
_PRONOUNS = frozenset({"they", "he", "she", "we", "i"})
_DETERMINERS = frozenset({"the", "a", "an", "our", "their", "these", "those", "most", "many", "some", "all"})
#: Adverbs, and the modals a duty loses ("may also be responsible for" → the duty's verb).
_ADVERBS = re.compile(r"^[a-z]+ly$|^(?:also|often|usually|then|still|even|now|may|can|will|should|must)$")
#: "are responsible for defining …", "are expected to define …", "have to convince …": what
#: stands between a subject and the verb of its duty.
_FRAMES = (
    ("is", "responsible", "for"), ("are", "responsible", "for"), ("be", "responsible", "for"),
    ("are", "expected", "to"), ("is", "expected", "to"), ("are", "accountable", "for"),
    ("is", "accountable", "for"), ("have", "to"), ("has", "to"), ("need", "to"), ("needs", "to"),
)  # fmt: skip


def _verb_form(word: str) -> str | None:
    """The form of a verb `word` is: "VBG", "VB" (base or plural present) or "VBZ"; None for no
    verb, or an auxiliary."""
    lower = word.lower()
    for lemma in verb_lemmas(lower):
        if lemma in _AUXILIARIES:
            return None
        forms = _inflections(lemma)
        if lower in forms.get("VBG", ()) and lower.endswith("ing"):
            return "VBG"
        if lower in forms.get("VB", ()) or lower in forms.get("VBP", ()):
            return "VB"
        if lower in forms.get("VBZ", ()):
            return "VBZ"
    return None


#: A plural subject's "be" and "have", as the duty's singular says them.
_SINGULAR = {"are": "is", "have": "has"}


def _noun_only(word: str) -> bool:
    return set(_lemmas(word.lower())) == {"NOUN"}


def _noun_too(word: str) -> bool:
    return "NOUN" in _lemmas(word.lower())


def as_duty(text: str) -> str | None:
    """A source's words as a duty of the house style, when their grammar allows it without a word
    of ours: the verb first, in the third person ("creating and maintaining the roadmap" →
    "Creates and maintains the roadmap."; "They lead the strategy" → "Leads the strategy.";
    "Junior PMs are responsible for gathering customer feedback" → "Gathers customer feedback.").
    None when the
    words do not start with a subject and its verb, or with a verb, in a form this knows."""
    text = _OPENERS.sub("", " ".join(text.split()).strip(" \"'“”‘’()[]-–—•*.,;:"))
    if text.count("(") > text.count(")"):  # a bracket the quote leaves open: what is in it goes
        text = text[: text.rindex("(")].rstrip(" ,;:")
    tokens = text.split(" ")
    start = _duty_start(tokens)
    if start is None:
        return None
    tokens = tokens[start:]
    form = _verb_form(tokens[0])
    if form is None:
        return None
    if form == "VBZ":
        return _finish(tokens) if starts_with_duty_verb(" ".join(tokens)) else None
    converted = [present_third_person(tokens[0].lower()) or tokens[0]]
    for n, token in enumerate(tokens[1:], start=1):
        word = token.rstrip(",;")
        joined = tokens[n - 1].lower() in ("and", "or") or tokens[n - 1].endswith(",")
        if joined and word.lower() in _SINGULAR:  # "… and are accountable for"
            converted.append(token.replace(word, _SINGULAR[word.lower()]))
            continue
        if joined and word.isalpha() and _verb_form(word) == form:
            if _noun_too(word):  # "…, and gathering feedback": a second duty this cannot tell; one
                while converted and (converted[-1].lower() in ("and", "or") or converted[-1].endswith(",")):
                    converted[-1] = converted[-1].rstrip(",")
                    if converted[-1].lower() in ("and", "or"):
                        converted.pop()
                    else:
                        break
                break
            token = token.replace(word, present_third_person(word.lower()) or word)
        converted.append(token)
    return _finish(converted)


def _duty_start(tokens: list[str]) -> int | None:
    """Where the duty's verb stands: at once, or after a subject (a pronoun, or a title of
    capitalised words after a determiner), adverbs and a frame such as "are responsible for"."""
    # "knowing how to craft a strategy", "the ability to drive outcomes": what one can do is done.
    lead = [token.lower() for token in tokens[:4]]
    skip = 1 if lead[:1] == ["the"] else 0
    if lead[skip : skip + 2] == ["ability", "to"]:
        end: int | None = skip + 2
    elif lead[skip + 1 : skip + 3] == ["how", "to"] and lemma(lead[skip]) == "know":
        end = skip + 3
    else:
        end = None
    if end is not None and len(tokens) > end and _verb_form(tokens[end]) == "VB":
        return end
    if (
        tokens
        and not _title_first(tokens)
        and _verb_first(tokens[0].rstrip(","), tokens[1] if len(tokens) > 1 else "")
    ):
        return 0
    i = 0
    subject = False
    if tokens and tokens[0].lower() in _PRONOUNS:
        i, subject = 1, True
    else:
        if tokens and tokens[0].lower() in _DETERMINERS:
            i = 1
        first = i
        # A title of capitalised words, "or"/"of"/"and" between them ("Leads or Directors of …").
        while i < len(tokens) and (
            tokens[i][:1].isupper()
            or (
                tokens[i] in ("or", "of", "and")
                and i > first
                and i + 1 < len(tokens)
                and tokens[i + 1][:1].isupper()
            )
        ):
            i += 1
        # "Product Management professionals": a lower-case plural naming people closes the title.
        if (
            i > first
            and i < len(tokens)
            and tokens[i].islower()
            and _people(tokens[i])
            and _noun_only(tokens[i])
        ):
            i += 1
        # A subject of capitalised words is people: a title in the plural, or an acronym ("CPO").
        run = tokens[first:i]
        head = run[run.index("of") - 1] if "of" in run[1:] else tokens[i - 1] if run else ""
        subject = i > first and _people(head)
        # "PMs at director and higher levels …": where the subject stands on the ladder.
        if subject and tokens[i : i + 1] == ["at"]:
            level = next(
                (
                    n
                    for n in range(i + 1, min(i + 6, len(tokens)))
                    if tokens[n].lower() in ("level", "levels")
                ),
                None,
            )
            i = level + 1 if level is not None else i
        if not subject:  # no subject: the verb must come first
            i = 0
    while i < len(tokens) and _ADVERBS.match(tokens[i].lower()):
        i += 1
    lowered = [token.lower().strip(",") for token in tokens]
    framed = False
    for frame in _FRAMES:
        if tuple(lowered[i : i + len(frame)]) == frame:
            i += len(frame)
            framed = True
            break
    while i < len(tokens) and _ADVERBS.match(tokens[i].lower()):
        i += 1
    if i >= len(tokens) or not verb_lemmas(tokens[i]):
        return None
    form = _verb_form(tokens[i])
    if form is None or (i > 0 and tokens[i][:1].isupper()):  # a capital after a subject: a name
        return None
    # A gerund straight after a subject is a noun ("Strategic thinking").
    if i == 0 or (subject and not framed and form == "VBG"):
        return None
    return i


def _title_first(found: list[str]) -> bool:
    """Whether words start with a title, the subject of a verb after it: "Heads of Product …",
    "Leads or Directors …" (not the verb "Heads" or "Leads")."""
    return len(found) > 2 and found[1].lower() in ("of", "or") and found[2][:1].isupper()


def _people(word: str) -> bool:
    """Whether a subject's last word names people: "Managers", "PMs", "CPO"."""
    if re.fullmatch(r"[A-Z]{2,}s?", word):
        return True
    return word.lower().endswith("s") and "NOUN" in _lemmas(word.lower())


def _verb_first(word: str, following: str) -> bool:
    """Whether a text starting with `word` (then `following`) starts with its verb: a duty verb
    ("Leads"), a gerund that is no noun ("creating", not "marketing"), a base form that is no
    adjective ("build", not "clear") and, if it may be a noun, not one before another noun
    ("Product vision")."""
    form = _verb_form(word)
    parts = set(_lemmas(word.lower()))
    if form == "VB" and "NOUN" in parts:
        next_parts = set(_lemmas(following.lower()))
        # "Product vision", "sense of …": a noun before a noun, or before "of".
        if following.lower() == "of" or (next_parts and next_parts <= {"NOUN", "VERB"}):
            return False
    if form == "VBG":
        following_parts = set(_lemmas(following.lower().strip(",")))
        # "compelling written …": an adjective before an adjective, not a verb before its object.
        participle = any(
            following.lower() in _inflection(verb, "VBN") for verb in verb_lemmas(following.lower())
        )
        if "ADJ" in parts and (participle or ("ADJ" in following_parts and "NOUN" not in following_parts)):
            return False
        # A gerund that may be a noun ("gathering", "hiring") is the verb of a fragment that
        # starts in lower case or lists it ("gathering customer feedback", "Hiring, and …"), not
        # before "of" or a noun it is joined to ("the gathering of …", "marketing and sales").
        return "NOUN" not in parts or (
            (word[:1].islower() or following.startswith(",")) and following.lower() not in ("of", "and", "or")
        )
    return form == "VBZ" or (form == "VB" and not parts & {"ADJ", "ADV"})


def _finish(tokens: list[str]) -> str | None:
    if len(tokens) < 3:  # "Hires.": no duty says what it is about in fewer words
        return None
    text = " ".join(tokens).replace(", and ", " and ").rstrip(" ,;:")
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


# -- a quote as a skill ----------------------------------------------------------------------------

#: A skill's name, then what it is the ability to do: "clarity (ability to absorb …)", "M&A/ability
#: to integrate …". Not "X and ability to Y": two abilities, Y no use of X ("listening skills and
#: ability to get to the core of any problem").
_NAME_THEN_ABILITY = re.compile(r"^(?P<name>.+?)\s*(?:\(|/)\s*ability to\s+(?P<use>[^()]+?)\)?$", re.I)
#: "Advanced analytical skills to define OKRs …": the skills, then what they are for.
_SKILLS_TO = re.compile(r"^(?P<name>.+?\bskills?)\s+to\s+(?P<use>[^()]+)$", re.I)
#: Words that make a phrase a clause, not a name: the verbs "be" and "have" as a sentence uses them.
_CLAUSE_VERBS = frozenset({"is", "are", "was", "were", "has", "have", "had", "be", "been"})
#: The longest skill name, in words.
NAME_WORDS = 6


def is_name(text: str) -> bool:
    """Whether the text reads as a name (of a skill), not a clause: a few words, none a pronoun
    subject or a verb of being or having ("The bar here is that …", "they are expected …")."""
    found = [word.lower() for word in words(text)]
    # Whole words between spaces: the "I" of "I/O" is no pronoun.
    spaced = {token.lower().strip(".,;:!?()\"'") for token in text.split()}
    return 0 < len(found) <= NAME_WORDS and not (spaced & (_CLAUSE_VERBS | _PRONOUNS))


def as_skill(text: str) -> tuple[str, str] | None:
    """A source's words as a skill's name and how the role uses it, when they give both without a
    word of ours ("clarity (ability to absorb complexity …)" → "Clarity", "Absorbs complexity …";
    "analytical skills to define OKRs" → "Analytical skills", "Defines OKRs."). None when they
    do not."""
    text = " ".join(text.split()).strip(" \"'“”‘’[]-–—•*.,;:")
    if SECOND_PERSON.search(text):
        return None
    found = _NAME_THEN_ABILITY.match(text) or _SKILLS_TO.match(text)
    if found is None:
        return None
    name = found["name"].strip(" ,;:")
    first, _, rest = name.partition(" ")
    if first.lower() in _DETERMINERS and rest:
        name = rest
    use = as_duty(found["use"])
    if use is None or not is_name(name) or "ability" in name.lower():
        return None
    return name[:1].upper() + name[1:], use
