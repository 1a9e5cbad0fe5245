"""Name normalisation and the keyed name-index tokens "check a name" runs on."""

import unicodedata

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from app.crypto import labels
from app.crypto.errors import InvalidKey

TOKEN_BYTES = 32
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


def name_token(index_key: bytes, name: str) -> bytes:
    """Keyed BLAKE2b-256 of the normalised name under one epoch's index key."""
    normal = normalise_name(name)
    if not normal:
        raise InvalidKey("a name needs at least one letter or digit")
    if len(index_key) != 32:
        raise InvalidKey("an index key is 32 bytes")
    token: bytes = blake2b(
        normal.encode("utf-8"),
        digest_size=TOKEN_BYTES,
        key=index_key,
        person=labels.PERSON_NAME_TOKEN,
        encoder=RawEncoder,
    )
    return token
