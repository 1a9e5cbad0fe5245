"""Matching a name against the names of a warning, in the client (docs/protocol.md §25.3).

Three levels, best first, each a promise the wording of both clients keeps:

- ``exact``: the same words after normalisation (§25.1), in any order, or the same
  letters written together ("Novák, Jan" = "Jan Novák" = "JanNovak");
- ``partial``: one name is part of the other — a surname or given name alone
  ("Novák"), or initials ("J. Novák") — with at least one whole word in common;
- ``possible``: the same test as exact or partial on each word's *sound key*: the word
  transliterated to Latin letters where a table exists (Cyrillic, Greek, …), then
  rewritten by the sound rules ("Nowak"/"Novak", "Mueller"/"Müller",
  "Katherine"/"Catherine", "Новак"/"Novak").

The tables are data (``docs/vectors/name-rules-v1.json``, loaded by
``app/client/name_rules.py``) so the JavaScript client applies the very same rules;
``docs/vectors/name-matches-v1.json`` holds the pairs both must answer alike. Pure
functions, no I/O. Cost: analysing a name is about 10 µs; comparing two analysed names
is a few set operations, and a bipartite matching only when they share a word.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.crypto.errors import InvalidKey
from app.crypto.names import normalise_name

__all__ = [
    "EXACT",
    "LEVELS",
    "PARTIAL",
    "POSSIBLE",
    "NameForms",
    "NameRules",
    "match_level",
    "name_forms",
]

EXACT, PARTIAL, POSSIBLE = "exact", "partial", "possible"
LEVELS = (EXACT, PARTIAL, POSSIBLE)


@dataclass(frozen=True)
class NameRules:
    """The transliteration table and the sound rules of name-rules-v1.json."""

    transliteration: Mapping[str, str]
    rewrites: tuple[tuple[str, str], ...]
    initial_vowels: str
    initial_vowel_becomes: str
    dropped_after_first: frozenset[str]
    collapse_repeats: bool
    min_partial_length: int

    @classmethod
    def from_json(cls, data: Any) -> "NameRules":
        """Validate the parsed file; ``InvalidKey`` for anything else."""
        try:
            sounds = data["sounds"]
            table = data["transliteration"]
            ok = (
                data["version"] == 1
                and isinstance(table, dict)
                and all(
                    isinstance(k, str) and len(k) == 1 and isinstance(v, str) and _latin(v)
                    for k, v in table.items()
                )
                and all(
                    isinstance(r, list)
                    and len(r) == 2
                    and _latin(r[0].removeprefix("^"))
                    and r[0].removeprefix("^")
                    and _latin(r[1])
                    for r in sounds["rewrites"]
                )
                and _latin(sounds["initial_vowels"])
                and _latin(sounds["initial_vowel_becomes"])
                and len(sounds["initial_vowel_becomes"]) == 1
                and _latin(sounds["dropped_after_first"])
                and isinstance(sounds["collapse_repeats"], bool)
                and type(sounds["min_partial_length"]) is int
                and sounds["min_partial_length"] >= 1
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidKey("the name rules are malformed") from exc
        if not ok:
            raise InvalidKey("the name rules are malformed")
        return cls(
            transliteration=dict(table),
            rewrites=tuple((src, dst) for src, dst in sounds["rewrites"]),
            initial_vowels=sounds["initial_vowels"],
            initial_vowel_becomes=sounds["initial_vowel_becomes"],
            dropped_after_first=frozenset(sounds["dropped_after_first"]),
            collapse_repeats=sounds["collapse_repeats"],
            min_partial_length=sounds["min_partial_length"],
        )

    def sound(self, word: str) -> str:
        """A word's sound key (§25.3): transliterate, rewrite, keep the first letter (an
        initial vowel becomes one letter), drop vowels and h after it, collapse repeats."""
        table = self.transliteration
        text = "".join(table.get(ch, ch) for ch in word)
        for src, dst in self.rewrites:
            if src.startswith("^"):
                if text.startswith(src[1:]):
                    text = dst + text[len(src) - 1 :]
            else:
                text = text.replace(src, dst)
        if not text:
            return ""
        first = self.initial_vowel_becomes if text[0] in self.initial_vowels else text[0]
        dropped = self.dropped_after_first
        key = first + "".join(ch for ch in text[1:] if ch not in dropped)
        if self.collapse_repeats:
            key = "".join(ch for i, ch in enumerate(key) if i == 0 or key[i - 1] != ch)
        return key


def _latin(text: Any) -> bool:
    return isinstance(text, str) and all("a" <= ch <= "z" or "0" <= ch <= "9" for ch in text)


class NameForms:
    """One name, analysed once (a client keeps these for every warning it holds). Built
    for speed: a check compares the query with every name a device holds."""

    __slots__ = ("joined", "joined_sound", "sorted_sounds", "sorted_words", "sounds", "words")

    def __init__(
        self,
        words: tuple[str, ...],
        sounds: tuple[str, ...],
        joined_sound: str,
        sorted_words: str | None = None,
        sorted_sounds: str | None = None,
    ):
        self.words = words  # normalised (§25.1), in the order written
        self.sounds = sounds  # each word's sound key, empty keys left out
        self.joined_sound = joined_sound  # the sound key of the words written together
        self.sorted_words = " ".join(sorted(words)) if sorted_words is None else sorted_words
        self.joined = "".join(words)
        self.sorted_sounds = " ".join(sorted(sounds)) if sorted_sounds is None else sorted_sounds

    @property
    def keys(self) -> frozenset[str]:
        """``exact_keys`` of §25.2."""
        return frozenset({"w:" + self.sorted_words, "c:" + self.joined})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NameForms) and self.as_json() == other.as_json()

    def __hash__(self) -> int:
        return hash((self.words, self.sounds, self.joined_sound))

    def __repr__(self) -> str:
        return f"NameForms({self.words!r}, {self.sounds!r}, {self.joined_sound!r})"

    def as_json(self) -> list[Any]:
        """What a device's copy stores (the sorted forms too: loading sorts nothing)."""
        return [
            list(self.words),
            list(self.sounds),
            self.joined_sound,
            self.sorted_words,
            self.sorted_sounds,
        ]

    @classmethod
    def from_json(cls, data: Any) -> "NameForms":
        words, sounds, joined, sorted_words, sorted_sounds = data
        return cls(tuple(words), tuple(sounds), joined, sorted_words, sorted_sounds)


def name_forms(name: str, rules: NameRules) -> NameForms:
    """Analyse a name; ``InvalidKey`` if it has no letter or digit (§25.1)."""
    normal = normalise_name(name)
    if not normal:
        raise InvalidKey("a name needs at least one letter or digit")
    words = tuple(normal.split(" "))
    sounds = tuple(s for s in (rules.sound(w) for w in words) if s)
    return NameForms(words, sounds, rules.sound("".join(words)))


def _compatible(a: str, b: str) -> bool:
    """The same word, or an initial and a word it begins."""
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def _covers(short: Sequence[str], long: Sequence[str]) -> bool:
    """Whether every word of ``short`` pairs with its own word of ``long`` (Kuhn's
    augmenting paths: the answer does not depend on the order the words are tried in)."""
    owner: list[int] = [-1] * len(long)

    def place(i: int, seen: list[bool]) -> bool:
        for j, word in enumerate(long):
            if not seen[j] and _compatible(short[i], word):
                seen[j] = True
                if owner[j] < 0 or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return all(place(i, [False] * len(long)) for i in range(len(short)))


def _part_of(
    first: Sequence[str], second: Sequence[str], shared: frozenset[str], least: int
) -> bool:
    """One name's words all pair with words of the other (equal or initial), and at least
    one pair is a whole word of ``least`` letters or more."""
    short, long = (first, second) if len(first) <= len(second) else (second, first)
    # Fast refusal (a check meets thousands of names sharing a common word): every word of
    # the shorter name needs some word of the longer to pair with — the same word or its
    # initial for a whole word, a word it begins for an initial.
    present = set(long)
    initials = {w for w in long if len(w) == 1}
    firsts = {w[0] for w in long}
    for w in short:
        if w not in firsts if len(w) == 1 else (w not in present and w[0] not in initials):
            return False
    for word in sorted(shared):
        if len(word) < least:
            continue
        rest_short = list(short)
        rest_short.remove(word)
        rest_long = list(long)
        rest_long.remove(word)
        if _covers(rest_short, rest_long):
            return True
    return False


def _long(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for w in words if len(w) > 1)


def match_level(query: NameForms, name: NameForms, rules: NameRules) -> str | None:
    """The best level at which ``query`` matches ``name``, or None."""
    if query.sorted_words == name.sorted_words or query.joined == name.joined:
        return EXACT
    least = rules.min_partial_length
    shared = _long(query.words).intersection(name.words)
    if shared and _part_of(query.words, name.words, shared, least):
        return PARTIAL
    if (
        query.sounds
        and name.sounds
        and (query.sorted_sounds == name.sorted_sounds or query.joined_sound == name.joined_sound)
    ):
        return POSSIBLE
    shared = _long(query.sounds).intersection(name.sounds)
    if shared and _part_of(query.sounds, name.sounds, shared, least):
        return POSSIBLE
    return None
