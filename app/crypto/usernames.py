"""Username normalisation: part of the protocol because usernames are bound into AEAD data."""

import re
import unicodedata

from app.crypto.errors import InvalidKey

_CANONICAL = re.compile(r"[a-z0-9][a-z0-9_.-]{1,31}")
_ALLOWED = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")


def normalise_username(value: str) -> str:
    """NFKC + casefold + strip; then 2-32 of a-z 0-9 _ . - starting with a letter or digit."""
    if _CANONICAL.fullmatch(value):  # already normal: NFKC and casefold change nothing
        return value
    name = unicodedata.normalize("NFKC", value).casefold().strip()
    if not 2 <= len(name) <= 32 or not set(name) <= _ALLOWED or not name[0].isalnum():
        raise InvalidKey("usernames are 2-32 characters: a-z, 0-9, '_', '.', '-'")
    return name
