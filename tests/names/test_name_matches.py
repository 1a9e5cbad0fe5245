"""The shared corpus of name pairs (docs/vectors/name-matches-v1.json); the node tests
(web/test/names-matching.test.js) hold the JavaScript client to the same answers."""

import json
from pathlib import Path
from typing import Any

import pytest

from app.client.name_rules import load_name_rules
from app.crypto import InvalidKey
from app.crypto.matching import LEVELS, match_level, name_forms
from app.crypto.names import exact_keys

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "docs" / "vectors" / "name-matches-v1.json").read_text()
)
RULES = load_name_rules()


def best_level(query: str, names: list[str]) -> str:
    asked = name_forms(query, RULES)
    found = [match_level(asked, name_forms(n, RULES), RULES) for n in names]
    return min((f for f in found if f), key=LEVELS.index, default="none")


def test_the_corpus_is_large_and_covers_every_level_and_scripts() -> None:
    pairs = CORPUS["pairs"]
    assert len(pairs) >= 100
    assert {p["level"] for p in pairs} == {*LEVELS, "none"}
    text = json.dumps(pairs, ensure_ascii=False)
    # Cyrillic Ya, Greek Kappa, Arabic Meem, Han Wang, Hangul Gim
    for script_letter in ("\u042f", "\u039a", "\u0645", "\u738b", "\uae40"):
        assert script_letter in text


@pytest.mark.parametrize(
    "pair", CORPUS["pairs"], ids=[f"{p['query']}|{p['names'][0]}" for p in CORPUS["pairs"]]
)
def test_pair(pair: dict[str, Any]) -> None:
    assert best_level(pair["query"], pair["names"]) == pair["level"], pair["note"]


def test_matching_is_symmetric_for_single_names() -> None:
    for pair in CORPUS["pairs"]:
        if len(pair["names"]) == 1:
            assert best_level(pair["names"][0], [pair["query"]]) == pair["level"], pair


@pytest.mark.parametrize("case", CORPUS["sounds"], ids=[c["word"] for c in CORPUS["sounds"]])
def test_sound_key(case: dict[str, str]) -> None:
    assert RULES.sound(case["word"]) == case["sound"]


@pytest.mark.parametrize("case", CORPUS["forms"], ids=[c["name"] for c in CORPUS["forms"]])
def test_forms(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(InvalidKey):
            name_forms(case["name"], RULES)
        return
    forms = name_forms(case["name"], RULES)
    assert list(forms.words) == case["words"]
    assert list(forms.sounds) == case["sounds"]
    assert forms.joined_sound == case["joined_sound"]
    assert sorted(exact_keys(case["name"])) == case["exact_keys"] == sorted(forms.keys)
