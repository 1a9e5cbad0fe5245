"""Binary values on the wire are RFC 4648 §4 base64 with padding."""

import base64
import binascii

from app.crypto.errors import InvalidKey


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode strictly: no whitespace, no URL-safe alphabet, padding required."""
    try:
        encoded = text.encode("ascii")
        raw = binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidKey("not canonical base64") from exc
    if binascii.b2a_base64(raw, newline=False) != encoded:  # e.g. "AB==" for b"\x00"
        raise InvalidKey("not canonical base64")
    return raw
