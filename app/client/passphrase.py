"""Which passphrases a client lets a user set (docs/protocol.md §3.1, ASVS 6.2).

The server never sees a passphrase, so only the clients can refuse a weak one. The web
client (web/src/client/passphrase.js) applies the same rule to the same list file.
"""

import unicodedata
from functools import cache
from pathlib import Path

from app.client.errors import CommonPassphrase, PassphraseContainsUsername, WeakPassphrase

__all__ = ["MAX_PASSPHRASE_LENGTH", "MIN_PASSPHRASE_LENGTH", "check_passphrase"]

MIN_PASSPHRASE_LENGTH = 12
MAX_PASSPHRASE_LENGTH = 1024
# A context word refused anywhere in a passphrase, not only as the whole of it.
PRODUCT_NAME = "backchannel"
# Shorter usernames ("al", "jo") sit inside too many ordinary words to refuse them there.
MIN_USERNAME_REFUSED_INSIDE = 3
COMMON_PASSPHRASES_FILE = Path(__file__).resolve().parent / "data" / "common-passphrases.txt"


def normalise_for_check(passphrase: str) -> str:
    """NFKC, casefold, whitespace collapsed: only compared with the list, never derived from."""
    return " ".join(unicodedata.normalize("NFKC", passphrase).casefold().split())


@cache
def common_passphrases() -> frozenset[str]:
    """The bundled list (common and breached passwords, then the context words)."""
    lines = COMMON_PASSPHRASES_FILE.read_text(encoding="utf-8").split("\n")
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_passphrase(passphrase: str, *, username: str) -> None:
    """Refuse a passphrase a guesser tries early, before any key is derived from it.

    ``username`` is the canonical username (``normalise_username``)."""
    if not MIN_PASSPHRASE_LENGTH <= len(passphrase) <= MAX_PASSPHRASE_LENGTH:
        raise WeakPassphrase(
            f"a passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters "
            "(several unrelated words work well)"
        )
    normal = normalise_for_check(passphrase)
    if not normal or normal in common_passphrases():
        raise CommonPassphrase(
            "this passphrase is on the list of common and breached passphrases that "
            "attackers try first; choose several unrelated words"
        )
    if PRODUCT_NAME in normal:
        raise CommonPassphrase(
            f"a passphrase must not contain the name of this service ({PRODUCT_NAME!r})"
        )
    if len(username) >= MIN_USERNAME_REFUSED_INSIDE and username in normal:
        raise PassphraseContainsUsername("a passphrase must not contain your username")
