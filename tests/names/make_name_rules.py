"""Write docs/vectors/name-rules-v1.json: the data both clients match names with (§25.3).

Two parts:

- ``transliteration``: for every letter that survives normalisation (§25.1) in the
  scripts listed in ``SCRIPTS``, its Latin spelling from AnyAscii 0.3.3 (ISC licence,
  https://github.com/anyascii/anyascii), lower-cased, keeping only ``a-z`` and ``0-9``.
  Letters of other scripts (Han, Kana, Hangul, Indic, Thai, …) are left as they are:
  their names match only within their own script.
- ``sounds``: the hand-written rules that turn a transliterated word into the key two
  spellings of one name share ("Nowak"/"Novak", "Mueller"/"Müller", "Katherine"/
  "Catherine"); they are this project's own, in the public domain of ideas (Soundex
  and its relatives drop vowels and merge letters the same way).

Run from the repository root (AnyAscii is a development dependency only):

    .venv/bin/python -m tests.names.make_name_rules > docs/vectors/name-rules-v1.json
"""

import json
import sys
import unicodedata
from typing import Any

from anyascii import anyascii

from app.crypto.names import normalise_name

ANYASCII_VERSION = "0.3.3"

# (first, last, script): the blocks whose letters get a Latin spelling.
SCRIPTS = (
    (0x0080, 0x024F, "Latin"),
    (0x0250, 0x02AF, "IPA"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1C80, 0x1C8F, "Cyrillic"),
    (0x1C90, 0x1CBF, "Georgian"),
    (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x2C60, 0x2C7F, "Latin"),
    (0x2DE0, 0x2DFF, "Cyrillic"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0xA720, 0xA7FF, "Latin"),
    (0xAB30, 0xAB6F, "Latin"),
)

# Applied in order to a transliterated word, each a plain (non-overlapping, left to
# right) replacement of every occurrence; "^x" replaces x only at the start of the word.
REWRITES = (
    ("tsch", "ch"),  # German Tsch = English Ch = Czech Č
    ("tch", "ch"),
    ("sch", "sh"),  # German Sch = English Sh = Czech Š
    ("cz", "ch"),  # Polish Cz = Č
    ("sz", "sh"),  # Polish Sz = Š
    ("ph", "f"),
    ("f", "v"),  # Stephen = Steven, Ivanoff = Ivanov, Wolf = Volf
    ("^ye", "e"),  # Yekaterina = Ekaterina, Yelena = Elena (Cyrillic Ie at the start)
    ("j", "y"),  # Jan = Yan (Ян), Dmitrij = Dmitriy
    ("w", "v"),  # Nowak = Novak
    ("x", "ks"),  # Alexander = Aleksandr
    ("q", "k"),
    ("c", "k"),  # Catherine = Katherine (and Ch, Cz, Č through the rules above)
)


# Where AnyAscii writes nothing for a letter a name is commonly spelt with.
OVERRIDES = {
    "\u0627": "a",  # Arabic alef (AnyAscii: nothing): Ahmed = احمد
}


def transliteration() -> dict[str, str]:
    table: dict[str, str] = {}
    for first, last, _ in SCRIPTS:
        for cp in range(first, last + 1):
            ch = chr(cp)
            if unicodedata.category(ch) == "Cn" or normalise_name(ch) != ch or ch.isascii():
                continue
            latin = anyascii(ch).lower()
            table[ch] = OVERRIDES.get(ch, "".join(c for c in latin if c.isascii() and c.isalnum()))
    return dict(sorted(table.items()))


def rules() -> dict[str, Any]:
    return {
        "protocol": "backchannel",
        "layer": "name matching rules (docs/protocol.md section 25.3)",
        "version": 1,
        "generator": "tests/names/make_name_rules.py",
        "unicode_version": unicodedata.unidata_version,
        "sources": {
            "transliteration": f"AnyAscii {ANYASCII_VERSION} (ISC licence), lower-cased, "
            "a-z and 0-9 only, for the letters of: "
            + ", ".join(sorted({script for _, _, script in SCRIPTS}))
            + "; Arabic alef is 'a' (AnyAscii writes nothing)",
            "sounds": "Backchannel's own rules (docs/protocol.md §25.3)",
        },
        "transliteration": transliteration(),
        "sounds": {
            "rewrites": [list(r) for r in REWRITES],
            "initial_vowels": "aeiou",
            "initial_vowel_becomes": "a",
            "dropped_after_first": "aeiouyh",
            "collapse_repeats": True,
            "min_partial_length": 2,
        },
    }


def main() -> None:
    json.dump(rules(), sys.stdout, ensure_ascii=True, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
