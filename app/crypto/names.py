"""Name normalisation (§25.1) and the exact form of a name (§25.2).

Everything a client matches starts here; the looser levels (partial, possible) are in
``app/crypto/matching.py``. A future sealed warning matches only at the exact level, so
``exact_keys`` stands alone and needs no rules file.
"""

import unicodedata
from collections.abc import Sequence

from app.crypto.errors import InvalidKey

# Letters that carry no combining mark to strip but read as plain Latin to most people.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ħ": "h",
        "ŧ": "t",
    }
)


def normalise_name(text: str) -> str:
    """NFKC, casefold, accents and punctuation folded, whitespace collapsed.

    "Jan Novák", "JAN NOVAK" and " jan  novak " all become "jan novak"; "@jnovak"
    becomes "jnovak"; "jan@example.org" becomes "jan example org".
    """
    cased = unicodedata.normalize("NFKC", text).casefold()
    bare = "".join(
        ch for ch in unicodedata.normalize("NFKD", cased) if not unicodedata.combining(ch)
    )
    chars = [" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in bare.translate(_FOLD)]
    return " ".join("".join(chars).split())


def exact_keys(name: str | Sequence[str]) -> frozenset[str]:
    """The exact forms of a name (a text, or its normalised words): two names match
    exactly when they share one. ``"w:"`` + the words sorted by code point, joined by
    one space (word order ignored); ``"c:"`` + the words written together (spacing and
    punctuation inside the name ignored). ``InvalidKey`` for a text with no letter."""
    words = tuple(normalise_name(name).split(" ")) if isinstance(name, str) else tuple(name)
    if not words or not all(words):
        raise InvalidKey("a name needs at least one letter or digit")
    return frozenset({"w:" + " ".join(sorted(words)), "c:" + "".join(words)})
