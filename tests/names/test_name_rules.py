"""The name-matching rules file: made by its generator, loaded through one function."""

import json
from typing import Any

import pytest

from app.client.name_rules import load_name_rules, name_rules_file
from app.crypto import InvalidKey
from app.crypto.matching import NameRules
from app.crypto.names import normalise_name
from tests.names.make_name_rules import rules

RULES: dict[str, Any] = json.loads(name_rules_file().read_text(encoding="utf-8"))


def test_rules_file_matches_its_generator() -> None:
    """Regenerate with:
    .venv/bin/python -m tests.names.make_name_rules > docs/vectors/name-rules-v1.json
    """
    assert rules() == RULES


def test_the_loader_reads_the_file_once_and_validates_it() -> None:
    loaded = load_name_rules()
    assert loaded is load_name_rules()
    assert loaded == NameRules.from_json(RULES)
    assert loaded.sound("nowak") == loaded.sound("novak") == "nvk"


def test_every_transliterated_letter_survives_normalisation() -> None:
    """The table is applied to normalised words: a key normalisation would change is dead."""
    for letter in RULES["transliteration"]:
        assert normalise_name(letter) == letter, hex(ord(letter))


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.update(version=2),
        lambda r: r["transliteration"].update({"ab": "x"}),
        lambda r: r["transliteration"].update({"\u0416": "Zh"}),
        lambda r: r["sounds"]["rewrites"].append(["$x", "y"]),
        lambda r: r["sounds"]["rewrites"].append(["^", "y"]),
        lambda r: r["sounds"].update(initial_vowel_becomes="ab"),
        lambda r: r["sounds"].update(collapse_repeats=1),
        lambda r: r["sounds"].update(min_partial_length=0),
        lambda r: r["sounds"].pop("dropped_after_first"),
    ],
)
def test_malformed_rules_are_refused(edit: Any) -> None:
    broken = json.loads(json.dumps(RULES))
    edit(broken)
    with pytest.raises(InvalidKey):
        NameRules.from_json(broken)
